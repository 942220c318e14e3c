"""What every command line of the kit does the same way: logging, argument types, output folders."""
import argparse
import fcntl
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from shared.checks import seed_number, training_budget
from shared.files import write_atomic, write_json

RUN_MARKER = '.stepsignal-run.json'
"""Written into every ``--out`` a command starts in: the command and when. A folder with it is
the kit's, which ``--overwrite`` may empty."""
RESULT_FILES = ('result.json', 'report.md', 'report.json', 'trace.json', 'history.json', 'summary.json',
                'ablation.json', 'ladder.json')
"""Files whose presence means a folder already holds results."""


def setup_logging():
    """Log INFO and above to stderr as ``LEVEL logger: message`` (progress goes the same way)."""
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')


def _argument_type(check):
    def convert(text):
        try:
            return check(int(text))
        except ValueError as error:
            message = str(error) if text.strip().lstrip('-').isdigit() else f'{text!r} is not an integer'
            raise argparse.ArgumentTypeError(message) from None
    convert.__name__ = check.__name__  # argparse names the type in some messages
    return convert


seed_argument = _argument_type(seed_number)
"""argparse ``type=`` for ``--seed``: ``shared.checks.seed_number``'s rule."""
steps_argument = _argument_type(training_budget)
"""argparse ``type=`` for ``--steps``: ``shared.checks.training_budget``'s rule."""


def check_output_folder(out, overwrite=False, resume=False, inside=()):
    """The one rule for every command's ``--out``; returns it as a ``Path``, ready and locked.

    - A file, or a folder that cannot be written, is refused.
    - A folder another run is writing into is refused (``lock_output_folder``).
    - A folder that holds results (an earlier run's marker, ``RUN_MARKER``, or any of
      ``RESULT_FILES``) is refused unless ``overwrite``; with it, the folder is emptied first, so
      that nothing of the earlier run remains. ``resume`` keeps what is there (``ablate --resume``).
    - ``inside``: paths the run reads (``--input``, ``--target``); if one lies in a folder that
      ``overwrite`` would empty, the run is refused rather than the file deleted.

    Every refusal is a ``ValueError`` whose message names the folder and what is allowed. Creates
    the folder if it is missing and writes ``RUN_MARKER`` into it.
    """
    out = Path(out)
    writable_folder(out, '--out')
    lock_output_folder(out)
    found = [name for name in (RUN_MARKER,) + RESULT_FILES if (out / name).exists()]
    if found and not (overwrite or resume):
        shown = [name for name in found if name != RUN_MARKER] or ['the files of an earlier run']
        raise ValueError(f'--out {str(out)!r} already holds results ({", ".join(shown)}); pass --overwrite to '
                         f'replace them (the folder is emptied first), or choose another folder')
    if found and overwrite:
        if RUN_MARKER not in found:
            raise ValueError(f'--out {str(out)!r} holds {", ".join(found)} but was not made by a command of this kit '
                             f'(no {RUN_MARKER}), so --overwrite will not empty it; remove those files yourself, '
                             f'or choose another folder')
        for path in map(Path, inside):
            if path.resolve().is_relative_to(out.resolve()):
                raise ValueError(f'{str(path)!r} lies inside --out {str(out)!r}, which --overwrite empties; move it, '
                                 f'or choose another --out')
        for entry in out.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    write_json(out / RUN_MARKER, {'command': ' '.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                                  'started': time.strftime('%Y-%m-%dT%H:%M:%S%z')})
    return out


def writable_folder(folder, option):
    """Create ``folder`` if missing and prove it writable; a ``ValueError`` names ``option`` if not."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f'{option} {str(folder)!r} is a file; give a folder (it is created if missing)')
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(f'{option} {str(folder)!r} cannot be written: {error.strerror or error}') from None
    return folder


_held_locks = {}  # folder -> the open descriptor its lock is held on: a lock lasts as long as this process


def lock_output_folder(out):
    """Refuse an ``--out`` that another run is writing into; hold it until this process ends.

    An advisory ``flock`` on the folder itself (no lock file is left in it): the system drops it
    when the process ends, however it ends, so a killed run never leaves the folder locked.
    """
    folder = Path(out).resolve()
    if folder in _held_locks:  # this process holds it already
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise ValueError(f'--out {str(out)!r} is in use by another run; wait for it to end, or choose another '
                         f'folder') from None
    _held_locks[folder] = descriptor


FAILED = 1
"""Exit status of a run that failed inside (a bad argument is 2, an interrupted run 130)."""
ERROR_LOG = 'error.log'
"""Where a failed run's traceback goes, in its ``--out``."""


def report_failure(prog, out, error):
    """A run failed inside: write the traceback to ``OUT/error.log``, say so in one line, return 1.

    Called from an ``except`` block; the one line names what failed and where the details are.
    """
    import traceback

    details = traceback.format_exc()
    where = Path(out) / ERROR_LOG
    try:
        write_atomic(where, lambda handle: handle.write(details.encode('utf-8')))
    except OSError:  # the folder itself is the problem: the details go to the terminal instead
        sys.stderr.write(details)
        where = 'the lines above'
    first_line = (str(error).splitlines() or [''])[0]
    sys.stderr.write(f'{prog}: error: the run failed: {type(error).__name__}: {first_line}; the details are in {where}\n')
    return FAILED
