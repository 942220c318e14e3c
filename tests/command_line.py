"""Running the kit's commands as a user does, and what every command promises about ``--out``."""
import json
import subprocess
import sys

from shared.cli import RUN_MARKER


def run_command(*args, cwd=None, timeout=600, **kwargs):
    """``python -m ARGS...`` in a fresh process, as a user types it; the finished process."""
    return subprocess.run([sys.executable, '-m', *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, **kwargs)


def contents(folder):
    """Every path under ``folder``, relative to it, with each file's bytes (folders: None)."""
    return {path.relative_to(folder).as_posix(): (path.read_bytes() if path.is_file() else None)
            for path in sorted(folder.rglob('*'))}


def assert_the_kit_wrote_only_what_it_listed(out):
    """Every entry of a finished run's ``out`` is one its marker lists (so ``--overwrite`` may remove it)."""
    listed = set(json.loads((out / RUN_MARKER).read_text())['writes'])
    unlisted = {path.name for path in out.iterdir()} - listed - {RUN_MARKER}
    assert not unlisted, f'the run wrote {sorted(unlisted)} into --out without listing them in {RUN_MARKER}'


def assert_overwrite_keeps_a_file_it_did_not_write(command, out):
    """After a run into ``out``, a file the user adds there survives ``command --overwrite``: refused."""
    (out / 'notes.txt').write_text('mine')
    before = contents(out)
    finished = run_command(*command, '--out', out, '--overwrite')
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr, finished.stderr[-2000:]
    refusal = [line for line in finished.stderr.splitlines() if 'notes.txt' in line]
    assert len(refusal) == 1 and 'did not write' in refusal[0] and 'another folder' in refusal[0]
    assert contents(out) == before
