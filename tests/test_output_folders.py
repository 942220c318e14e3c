"""One rule for ``--out``, the same in every command (``shared.cli.check_output_folder``).

A folder that holds an earlier run's results is refused with a message naming ``--overwrite``;
with ``--overwrite`` nothing of the earlier run remains; a folder in use is refused
(tests/test_runs.py); a file is refused.
"""
import subprocess
import sys

import pytest

from shared.cli import RUN_MARKER, check_output_folder

COMMANDS = {  # command -> its arguments besides --out (small, so that a run that starts stops soon)
    'original': ['original'],
    'fixed': ['fixed', '--steps', '100'],
    'compare': ['stepsignal', 'compare', '--steps', '100'],
    'evaluate': ['stepsignal', 'evaluate', '--seeds', '0', '--steps', '100'],
    'ablate': ['stepsignal', 'ablate', '--seeds', '0', '--steps', '100', '--fixes', '4'],
}


def earlier_run(folder):
    """A folder as an earlier run of the kit leaves it, with a stale file of another format beside."""
    folder.mkdir()
    (folder / RUN_MARKER).write_text('{"command": "earlier"}')
    (folder / 'result.json').write_text('{"earlier": true}')
    (folder / 'processed.wav').write_bytes(b'stale')
    (folder / 'weights').mkdir()
    (folder / 'weights' / 'old.h5').write_bytes(b'stale')
    return folder


def run(command, out, *extra):
    return subprocess.run([sys.executable, '-m', *COMMANDS[command], '--out', str(out), *extra],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize('command', COMMANDS)
def test_a_folder_with_results_is_refused_naming_overwrite(command, tmp_path):
    out = earlier_run(tmp_path / 'out')
    finished = run(command, out)
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert 'Traceback' not in finished.stderr
    message = [line for line in finished.stderr.splitlines() if 'already holds results' in line]
    assert len(message) == 1 and '--overwrite' in message[0] and 'result.json' in message[0]
    assert sorted(p.name for p in out.iterdir()) == [RUN_MARKER, 'processed.wav', 'result.json', 'weights']


def test_overwrite_leaves_nothing_of_the_earlier_run(tmp_path):
    out = earlier_run(tmp_path / 'out')
    finished = run('fixed', out, '--overwrite')
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert not (out / 'processed.wav').exists() and not (out / 'weights' / 'old.h5').exists()
    assert '"earlier"' not in (out / 'result.json').read_text() and '"earlier"' not in (out / RUN_MARKER).read_text()


def test_every_command_that_starts_leaves_its_marker(tmp_path):
    out = check_output_folder(tmp_path / 'new')
    assert (out / RUN_MARKER).is_file()
    with pytest.raises(ValueError, match='already holds results .*--overwrite'):
        check_output_folder(tmp_path / 'new')  # even before it wrote a result


def test_a_folder_the_kit_did_not_make_is_never_emptied(tmp_path):
    out = tmp_path / 'mine'
    out.mkdir()
    (out / 'result.json').write_text('my own file')
    (out / 'notes.txt').write_text('mine too')
    with pytest.raises(ValueError, match='not made by a command of this kit'):
        check_output_folder(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ['notes.txt', 'result.json']


def test_a_folder_without_results_is_used_as_it_is(tmp_path):
    out = tmp_path / 'mixed'
    out.mkdir()
    (out / 'notes.txt').write_text('mine')
    check_output_folder(out)
    assert (out / 'notes.txt').read_text() == 'mine'


def test_ablate_resume_keeps_the_runs(tmp_path):
    out = earlier_run(tmp_path / 'out')
    check_output_folder(out, resume=True)
    assert (out / 'result.json').read_text() == '{"earlier": true}'


FAILING_RUN = r'''
import sys
import fixed.train

def broken_train(*args, **kwargs):
    raise RuntimeError('the filter exploded')

fixed.train.train = broken_train
from stepsignal.run import main
sys.exit(main('fixed', sys.argv[1:]))
'''


def test_a_failure_inside_a_run_is_one_line_and_the_details_are_in_error_log(tmp_path):
    finished = subprocess.run([sys.executable, '-c', FAILING_RUN, '--out', str(tmp_path / 'out'), '--steps', '100'],
                              capture_output=True, text=True, timeout=600)
    assert finished.returncode == 1 and 'Traceback' not in finished.stderr
    last = finished.stderr.strip().splitlines()[-1]
    assert 'the run failed: RuntimeError: the filter exploded' in last and 'error.log' in last
    details = (tmp_path / 'out' / 'error.log').read_text()
    assert 'Traceback' in details and 'broken_train' in details
