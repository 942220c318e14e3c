"""What every command line of the kit does the same way: logging, argument types, output folders,
failures.

Both variants' commands (``python -m original``, ``python -m fixed``) are built from here, and so
are the verbs of ``python -m stepsignal``: one ``--out`` rule, one way to refuse bad input (exit 2,
one line, nothing written), one way to report a failure inside a run (exit 1, one line, the
traceback in ``OUT/error.log``) and Ctrl-C (exit 130, whatever is written is whole).
"""
import argparse
import fcntl
import json
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
"""Written into every ``--out`` a command starts in: the command, when, and ``writes``, the names
the run writes there. ``--overwrite`` removes exactly those names, and only from a folder that
holds nothing else."""
ERROR_LOG = 'error.log'
"""Where a failed run's traceback goes, in its ``--out``."""
TRAINING_FILES = ('result.json', 'history.json', 'trace.json', 'weights', 'policy')
"""What a training run of the fixed setup writes into its ``--out`` (``fixed.train`` and its policy)."""
ORIGINAL_FILES = ('trace.json', 'h5f_files', 'history_dqn_test_mem20k_heaviside_flattening.pickle')
"""What ``python -m original`` writes: the question's own files (``original.train``) and the trace."""
CHILD_STDOUT = 'stdout.txt'
"""A run's printed output, which a command running it in a child process (compare, evaluate,
ablate) writes into the run's ``--out``; every marker lists it, like ``ERROR_LOG``."""
EMPTY_OUT = 'an empty name would mean the working folder; give a new folder, such as results'
"""Why ``--out ''`` is refused."""
KIT_ROOT = Path(__file__).resolve().parents[1]
"""The folder the kit's packages sit in (the repository, for an editable install): never emptied."""


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


def check_output_folder(out, writes, overwrite=False, resume=False, inside=()):
    """The one rule for every command's ``--out``; returns it as a ``Path``, ready and locked.

    ``writes``: the names of the files and folders the command writes into ``out`` (``ERROR_LOG``
    and ``CHILD_STDOUT``, which the kit may add to any run's folder, are added). The kit writes only where it may, and removes only what it wrote:

    - ``out`` must be a new folder, an empty one, or one an earlier run of the kit made and that
      holds nothing but what that run listed in its marker (``RUN_MARKER``). Anything else in it
      (the user's own files) and the folder is refused, whatever the options.
    - A folder that holds an earlier run's results is refused unless ``overwrite``; with it,
      exactly the names the earlier run listed are removed, nothing else. ``resume`` keeps them
      (``ablate --resume``).
    - ``overwrite`` never removes anything from the working folder, a folder above it, the home
      folder or the kit's own folder, nor from a folder that holds a path the run reads
      (``inside``: ``--input``, ``--target``, ``--policy``).
    - A file, a folder that cannot be written, or one another run is writing into is refused.

    Every refusal is a ``ValueError`` whose message names the folder, what is in the way and what
    to do, raised before anything is removed. Creates the folder if it is missing and writes
    ``RUN_MARKER`` into it.
    """
    if str(out).strip() == '':
        raise ValueError(f'--out is empty: {EMPTY_OUT}')
    out = Path(out)
    writable_folder(out, '--out')
    lock_output_folder(out)
    marker, earlier, found = read_marker(out)
    if marker and earlier is None:
        raise ValueError(f'--out {str(out)!r} holds the results of an earlier version of this kit, which did not list '
                         f'the files it wrote, so none are removed; choose another folder, or remove that one yourself')
    foreign = sorted(name for name in found if not written_by_kit(name, earlier))
    if foreign:
        raise ValueError(f'--out {str(out)!r} holds {listing(out, foreign)}, which this kit did not write; it writes '
                         f'only into a new folder, an empty one, or one it made itself: choose another folder')
    if marker and not (overwrite or resume):
        shown = listing(out, sorted(found)) if found else 'the marker of a run that wrote nothing yet'
        raise ValueError(f'--out {str(out)!r} already holds results ({shown}); pass --overwrite to replace them '
                         f'(only the files the kit wrote there are removed), or choose another folder')
    if marker and overwrite:
        refuse_to_empty(out, inside)
        for name in found:
            remove(out / name)
    listed = set(writes) | {ERROR_LOG, CHILD_STDOUT} | (set(earlier) if resume and earlier else set())
    write_json(out / RUN_MARKER, {'command': ' '.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                                  'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'writes': sorted(listed)})
    return out


def read_marker(out):
    """``(marker found, names it lists or None if it lists none, the folder's other entries)``."""
    found = {entry.name for entry in out.iterdir()} - {RUN_MARKER}
    try:
        marker = json.loads((out / RUN_MARKER).read_text())
    except FileNotFoundError:
        return False, (), found
    except (OSError, ValueError):
        return True, None, found
    writes = marker.get('writes') if isinstance(marker, dict) else None
    return True, (writes if isinstance(writes, list) else None), found


def is_temporary_copy(name, of):
    """A file ``shared.files`` was writing as ``of`` when its run was stopped (``.of.XXXX.tmp``)."""
    return name.startswith(f'.{of}.') and name.endswith(('.tmp', '.tmp.h5'))


def written_by_kit(name, listed):
    """``name`` is listed, or a temporary copy of a listed file or of the marker (a run killed as it began)."""
    listed = tuple(listed or ())
    return name in listed or any(is_temporary_copy(name, of) for of in listed + (RUN_MARKER,))


def listing(out, names, most=4):
    """``'notes.txt, src/ and 3 more'``: what is in the way, folders marked with a slash."""
    shown = [name + '/' if (out / name).is_dir() else name for name in names[:most]]
    more = f' and {len(names) - most} more' if len(names) > most else ''
    return ', '.join(shown) + more


def refuse_to_empty(out, inside):
    """Refuse ``--overwrite`` on a folder that holds the user's place or a file the run reads."""
    folder = out.resolve()
    for place, what in ((Path.cwd(), 'the working folder'), (Path.home(), 'your home folder'),
                        (KIT_ROOT, "the kit's own folder")):
        if place.resolve().is_relative_to(folder):
            where = what if place.resolve() == folder else f'a folder that holds {what}'
            raise ValueError(f'--out {str(out)!r} is {where}, from which --overwrite never removes anything; '
                             f'choose another folder for the results')
    for path in map(Path, inside):
        if path.resolve().is_relative_to(folder):
            raise ValueError(f'{str(path)!r} lies inside --out {str(out)!r}, from which --overwrite removes the '
                             f'earlier results; move it, or choose another --out')


def remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def output_folder_argument(text):
    """argparse ``type=`` for ``--out``: a ``Path``; an empty name is refused (it would mean ``.``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(EMPTY_OUT)
    return Path(text)


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
INTERRUPTED = 130
"""Exit status of a run stopped by Ctrl-C (128 + SIGINT, as the shell gives it)."""


def command_parser(prog, description, epilog=None):
    """An ``argparse`` parser whose description and epilog keep their line breaks."""
    return argparse.ArgumentParser(prog=prog, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_output_options(parser, what='the run'):
    """``--out`` and ``--overwrite``, as every command that writes results takes them."""
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'a new folder for every file {what} writes')
    parser.add_argument('--overwrite', action='store_true',
                        help='--out may hold an earlier run\'s results: remove them first (only the files the kit '
                             'wrote; without this, such a folder is refused)')


def add_seed_option(parser):
    parser.add_argument('--seed', type=seed_argument, default=0,
                        help='seed for numpy, TensorFlow, Python and the env (0 to 2**32 - 1)')


def refuse(parser, error):
    """Bad input, found before any work: one line naming it, exit 2, no traceback."""
    parser.exit(2, f'{parser.prog}: error: {error}\n')


def run_reporting_failures(parser, out, work):
    """``work()``'s exit status; Ctrl-C and a failure inside the run each end in one line.

    Ctrl-C outside training (keras-rl's fit catches its own) exits 130: every file written so far is
    whole. Any other exception is written to ``OUT/error.log`` and said in one line (exit 1).
    """
    try:
        return work()
    except KeyboardInterrupt:
        logging.getLogger(parser.prog).warning('interrupted before the results were complete; every file in %s is '
                                               'whole (each is written in one rename), but some may be missing', out)
        return INTERRUPTED
    except Exception as error:
        return report_failure(parser.prog, out, error)


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
