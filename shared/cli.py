"""What every command line of the kit does the same way: logging, argument types, output folders."""
import argparse
import fcntl
import logging
import os
import tempfile
from pathlib import Path

from shared.checks import seed_number, training_budget

RESULT_FILES = ('result.json', 'report.md', 'report.json', 'trace.json', 'history.json')
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


def check_output_folder(out, overwrite=True):
    """Refuse an ``--out`` that is a file, cannot be written, or holds results when ``overwrite`` is false.

    Creates the folder if it is missing, and proves it writable with a temporary file. Raises
    ``ValueError`` with a message that names the folder and what is allowed.
    """
    out = Path(out)
    if out.is_dir() and not overwrite:
        found = [name for name in RESULT_FILES if (out / name).exists()]
        if found:
            raise ValueError(f'--out {str(out)!r} already holds results ({", ".join(found)}); pass --overwrite '
                             f'to replace them, or choose another folder')
    writable_folder(out, '--out')
    lock_output_folder(out)
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
