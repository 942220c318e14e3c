"""What every command line of the kit does the same way: logging, argument types, output folders,
failures.

Both variants' commands (``python -m original``, ``python -m fixed``) are built from here, and so
are the verbs of ``python -m stepsignal``: one ``--out`` rule, one way to refuse bad input (exit 2,
one line, nothing written), one way to report a failure inside a run (exit 1, one line, the
traceback in ``OUT/error.log``) and Ctrl-C (exit 130, whatever is written is whole).
"""
import argparse
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from shared.checks import BadInput, episode_steps, seed_number, training_budget, updates_per_step
from shared.files import MARKER, MARKER_VERSION, start_listing, write_atomic

RUN_MARKER = MARKER
"""Written into every ``--out`` a command starts in (``shared.files.MARKER``): the command, when, and
``writes``, every path the run wrote there. ``--overwrite`` removes exactly those, and only from a
folder that holds nothing else."""
ERROR_LOG = 'error.log'
"""Where a failed run's traceback goes, in its ``--out``."""
CHILD_STDOUT = 'stdout.txt'
"""A run's printed output, which a command running it in a child process (compare, evaluate,
ablate) writes into the run's ``--out``."""
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
episode_steps_argument = _argument_type(episode_steps)
"""argparse ``type=`` for ``--episode-steps``: ``shared.checks.episode_steps``'s rule."""
gradient_steps_argument = _argument_type(updates_per_step)
"""argparse ``type=`` for ``--gradient-steps``: ``shared.checks.updates_per_step``'s rule."""


MOST_SEEDS = 1000
"""The longest seed list a command takes: each seed is a training run of a minute or more."""


def seeds_argument(text):
    """argparse ``type=`` for ``--seeds``, in every command: ``"0-9"`` -> [0, ..., 9]; ``"1,4,7"`` ->
    [1, 4, 7]; mixes allowed (``"0-2,5"``).

    Every bound is checked, and the list's length, before any list is made.
    """
    ranges = []
    for part in text.split(','):
        first, dash, last = part.strip().partition('-')
        try:
            first, last = seed_number(int(first)), seed_number(int(last if dash else first))
        except ValueError as error:
            problem = error if isinstance(error, BadInput) else 'use non-negative integers and ranges, like 0-9 or 1,4,7'
            raise argparse.ArgumentTypeError(f'bad seed list {text!r}: {problem}') from None
        if last < first:
            raise argparse.ArgumentTypeError(f'bad seed list {text!r}: the range {first}-{last} runs backwards')
        ranges.append((first, last))
    count = sum(last - first + 1 for first, last in ranges)
    if count > MOST_SEEDS:
        raise argparse.ArgumentTypeError(f'bad seed list {text!r}: {count:,} seeds, and at most {MOST_SEEDS:,} are '
                                         f'allowed (each is a training run)')
    return [seed for first, last in ranges for seed in range(first, last + 1)]


def check_output_folder(out, overwrite=False, resume=False, inside=()):
    """The one rule for every command's ``--out``; returns it as a ``Path``, ready and locked.

    The kit writes only where it may, and removes only what it wrote:

    - ``out`` must be a new folder, an empty one, or one an earlier run of the kit made and that
      holds nothing but what that run listed in its marker (``RUN_MARKER``), in its own folders
      too. Anything else in it (the user's own files, wherever they are) and the folder is
      refused, whatever the options.
    - A folder that holds an earlier run's results is refused unless ``overwrite``; with it,
      exactly the files the earlier run listed are removed, then the folders it made if they are
      empty, nothing else. ``resume`` keeps them (``ablate --resume``).
    - ``overwrite`` never removes anything from the working folder, a folder above it, the home
      folder or the kit's own folder, nor from a folder that holds a path the run reads
      (``inside``: ``--input``, ``--target``, ``--policy``).
    - A file, a folder that cannot be written, or one another run is writing into is refused.

    Every refusal is a ``BadInput`` whose message names the folder, what is in the way and what
    to do, raised before anything is removed. Creates the folder if it is missing and starts its
    marker (``shared.files.start_listing``): every file the run writes is listed there before it
    is written.
    """
    if str(out).strip() == '':
        raise BadInput(f'--out is empty: {EMPTY_OUT}')
    out = Path(out)
    made = not os.path.lexists(out)
    writable_folder(out, '--out')
    lock_output_folder(out)
    earlier = survey(out)
    if earlier.foreign:
        raise BadInput(f'--out {str(out)!r} holds {listing(earlier.foreign)}, which this kit did not write; it '
                       f'writes only into a new folder, an empty one, or one it made itself: choose another folder')
    if earlier.marked and not (overwrite or resume):
        shown = listing(earlier.top_level()) if earlier.kit else 'the marker of a run that wrote nothing yet'
        raise BadInput(f'--out {str(out)!r} already holds results ({shown}); pass --overwrite to replace them '
                       f'(only the files the kit wrote there are removed), or choose another folder')
    if earlier.marked and overwrite:
        refuse_to_empty(out, inside)
        remove_earlier_results(out, earlier)
    try:
        start_listing(out, command_line(), time.strftime('%Y-%m-%dT%H:%M:%S%z'), earlier.listed if resume else ())
    except OSError as error:
        if made:
            shutil.rmtree(out, ignore_errors=True)  # it was new: leave nothing behind
        raise BadInput(f'--out {str(out)!r}: cannot write {RUN_MARKER} there: {error.strerror or error}') from None
    return out


def command_line():
    """This process's command as typed: ``python -m fixed --out DIR``, not ``__main__.py --out DIR``."""
    program = Path(sys.argv[0])
    name = f'python -m {program.parent.name}' if program.name == '__main__.py' else program.name
    return ' '.join([name, *sys.argv[1:]])


class Survey(NamedTuple):
    """What an ``--out`` holds, by who wrote it (``survey``)."""

    marked: bool
    """It holds a run marker."""
    listed: tuple
    """The paths its markers list (relative to ``out``)."""
    kit: tuple
    """Files the kit wrote there (listed, a listed file's temporary copy, or a marker), deepest first."""
    folders: tuple
    """Folders the kit made there, deepest first: removed once empty."""
    foreign: tuple
    """Everything else, files and folders (``name/``): the user's."""

    def top_level(self):
        return sorted({path.split('/')[0] + ('/' if '/' in path else '') for path in self.kit} - {RUN_MARKER})


def survey(out):
    """Sort every entry under ``out`` into the kit's and the user's; a ``BadInput`` for a marker it cannot trust.

    A folder is the kit's if a marker lists it or a path inside it; inside such a folder a run's
    own marker (a run another process wrote there, as ``compare`` and ``evaluate`` do) lists more.
    """
    listed, listed_folders, kit, folders, foreign = set(), set(), [], [], []

    def visit(folder, prefix):
        if (folder / MARKER).is_file():
            paths = [prefix + name for name in trusted_listing(folder, prefix)]
            listed.update(paths)
            listed_folders.update(path[:end + 1] for path in paths for end, char in enumerate(path) if char == '/')
            kit.append(prefix + MARKER)
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
            name = prefix + entry.name
            if entry.name == MARKER:
                continue
            if entry.is_dir() and not entry.is_symlink():
                if name + '/' in listed_folders:  # listed itself, or a path inside it is
                    visit(entry, name + '/')
                    folders.append(name)
                else:
                    foreign.append(name + '/')
            elif written_by_kit(name, listed):
                kit.append(name)
            else:
                foreign.append(name)

    visit(out, '')
    deepest_first = lambda paths: tuple(sorted(paths, key=lambda path: (-path.count('/'), path)))
    return Survey((out / MARKER).is_file(), tuple(sorted(listed)), deepest_first(kit), deepest_first(folders),
                  tuple(foreign))


def trusted_listing(folder, prefix):
    """The paths the marker in ``folder`` lists; a ``BadInput`` if it cannot say exactly what its run wrote."""
    where = f'--out {str(folder)!r}' if not prefix else f'{prefix!r} in --out'
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        raise BadInput(f'{where} holds a run marker ({MARKER}) that cannot be read as the kit writes it, so nothing '
                       f'there is removed; remove that folder yourself, or choose another') from None
    writes = marker.get('writes') if isinstance(marker, dict) else None
    if not isinstance(writes, list) or not all(isinstance(path, str) for path in writes):
        raise BadInput(f'{where} holds the results of an earlier version of this kit, which did not list the files it '
                       f'wrote, so none are removed; choose another folder, or remove that one yourself')
    if marker.get('version') != MARKER_VERSION and any((folder / path).is_dir() for path in writes):
        raise BadInput(f'{where} holds the results of an earlier version of this kit, which did not list the files '
                       f'inside its folders ({listing([p + "/" for p in writes if (folder / p).is_dir()])}), so '
                       f'none are removed; choose another folder, or remove that one yourself')
    if any(path.startswith('/') or '..' in path.split('/') for path in writes):
        raise BadInput(f'{where} holds a run marker that lists paths outside its folder, so nothing there is '
                       f'removed; remove that folder yourself, or choose another')
    return writes


def is_temporary_copy(name, of):
    """A file ``shared.files`` was writing as ``of`` when its run was stopped (``.of.XXXX.tmp``)."""
    return name.startswith(f'.{of}.') and name.endswith(('.tmp', '.tmp.h5'))


def written_by_kit(path, listed):
    """``path`` is listed, or a temporary copy of a listed file or of a marker beside it (a run killed as it wrote)."""
    folder, _, name = path.rpartition('/')
    beside = [of.rpartition('/')[2] for of in listed if of.rpartition('/')[0] == folder] + [MARKER]
    return path in listed or any(is_temporary_copy(name, of) for of in beside)


def listing(names, most=4):
    """``'notes.txt, src/ and 3 more'``: what is in the way, folders marked with a slash."""
    names = list(names)
    more = f' and {len(names) - most} more' if len(names) > most else ''
    return ', '.join(names[:most]) + more


def refuse_to_empty(out, inside):
    """Refuse ``--overwrite`` on a folder that holds the user's place or a file the run reads."""
    folder = out.resolve()
    for place, what in ((Path.cwd(), 'the working folder'), (Path.home(), 'your home folder'),
                        (KIT_ROOT, "the kit's own folder")):
        if place.resolve().is_relative_to(folder):
            where = what if place.resolve() == folder else f'a folder that holds {what}'
            raise BadInput(f'--out {str(out)!r} is {where}, from which --overwrite never removes anything; '
                           f'choose another folder for the results')
    for path in map(Path, inside):
        if path.resolve().is_relative_to(folder):
            raise BadInput(f'{str(path)!r} lies inside --out {str(out)!r}, from which --overwrite removes the '
                           f'earlier results; move it, or choose another --out')


def remove_earlier_results(out, earlier):
    """Remove the files ``survey`` found the kit wrote, the markers last (whatever cannot be removed stays
    listed), then the folders it made (empty by then)."""
    for path in sorted(earlier.kit, key=lambda path: path.endswith(MARKER)):
        try:
            (out / path).unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            raise BadInput(f'--overwrite cannot remove {str(out / path)!r}, an earlier result: '
                           f'{error.strerror or error}; remove it yourself, or choose another --out') from None
    for folder in earlier.folders:
        try:
            (out / folder).rmdir()
        except OSError as error:
            raise BadInput(f'--overwrite cannot remove the folder {str(out / folder)!r}, an earlier result: '
                           f'{error.strerror or error}; remove it yourself, or choose another --out') from None


def output_folder_argument(text):
    """argparse ``type=`` for ``--out``: a ``Path``; an empty name is refused (it would mean ``.``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(EMPTY_OUT)
    return Path(text)


def writable_folder(folder, option):
    """Create ``folder`` if missing and prove it writable; a ``BadInput`` names ``option`` if not."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise BadInput(f'{option} {shown(folder)} is a file; give a folder (it is created if missing)')
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise BadInput(f'{option} {shown(folder)} cannot be written: {error.strerror or error}') from None
    return folder


def check_new_file(path, option='--out'):
    """Refuse ``path`` unless it is a new file in a folder that can be written; returns it as a ``Path``.

    For the commands that write one file (a page of measurements): an existing file is never
    replaced, whoever wrote it, so that a typo can never cost anyone a file.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise BadInput(f'{option} {shown(path)} is a folder; give the name of a new file to write')
        if path.exists() or path.is_symlink():
            raise BadInput(f'{option} {shown(path)} exists; this command writes only a new file and never replaces '
                           f'one: give another name, or remove that file yourself')
    except OSError as error:
        raise BadInput(f'{option} {shown(path)} cannot be written: {error.strerror or error}') from None
    writable_folder(path.parent, f"{option}'s folder")
    return path


def check_new_page(path):
    """``check_new_file`` for a page of measurements and the numbers written beside it (``.json``)."""
    check_new_file(path)
    check_new_file(Path(path).with_suffix('.json'), "--out's .json")


def shown(path, most=120):
    """``path`` quoted for a message, its middle cut if it is longer than ``most`` characters."""
    text = repr(str(path))
    return text if len(text) <= most else f'{text[:most // 2]}...{text[-most // 2:]} ({len(str(path))} characters)'


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
        raise BadInput(f'--out {str(out)!r} is in use by another run; wait for it to end, or choose another '
                       f'folder') from None
    _held_locks[folder] = descriptor


FAILED = 1
"""Exit status of a run that failed inside (a bad argument is 2, an interrupted run 130)."""
INTERRUPTED = 130
"""Exit status of a run stopped by Ctrl-C (128 + SIGINT, as the shell gives it)."""


def command_parser(prog, description, epilog=None):
    """An ``argparse`` parser whose description and epilog keep their line breaks, as plain text."""
    return argparse.ArgumentParser(prog=prog, description=plain_text(description), epilog=plain_text(epilog),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def plain_text(text):
    """A docstring as a terminal shows it: ````name```` becomes name (no reStructuredText markup)."""
    return None if text is None else re.sub(r'``(.+?)``', r'\1', text, flags=re.S)


def add_output_options(parser, what='the run'):
    """``--out`` and ``--overwrite``, as every command that writes results takes them."""
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'a new folder for every file {what} writes')
    parser.add_argument('--overwrite', action='store_true',
                        help='--out may hold an earlier run\'s results: remove them first (only the files the kit '
                             'wrote; without this, such a folder is refused)')


REPORT = 'report.md'
"""The page a measurement program writes into its ``--out`` folder."""
NUMBERS = 'results.json'
"""The numbers behind that page, beside it."""


def add_report_options(parser, required=False):
    """``--out DIR`` and ``--overwrite`` for a program that writes a page of measurements: ``DIR/report.md``
    and its numbers, ``DIR/results.json``, in a folder the run owns, as every command's ``--out``."""
    parser.add_argument('--out', type=output_folder_argument, required=required, metavar='DIR',
                        help=f'{"" if required else "also "}write the page into this new folder, DIR/{REPORT}, and '
                             f'its numbers beside it, DIR/{NUMBERS} (as every command\'s --out)')
    parser.add_argument('--overwrite', action='store_true',
                        help='--out may hold an earlier run\'s results: remove them first (only the files the kit '
                             'wrote; without this, such a folder is refused)')


def answer_a_page_for_out(parser, argv):
    """``--out PAGE.md`` named the page itself until ``--out`` became a folder everywhere: say what to type now."""
    argv = list(argv)
    for index, token in enumerate(argv):
        value = token.partition('=')[2] if token.startswith('--out=') else (
            argv[index + 1] if token == '--out' and index + 1 < len(argv) else None)
        if value and Path(value).suffix.lower() in ('.md', '.json', '.txt'):
            folder = str(Path(value).with_suffix(''))
            refuse(parser, f'--out {value}: --out is the folder the run owns now, not its page: --out {folder} '
                           f'writes {folder}/{REPORT} and {folder}/{NUMBERS}')


def add_seed_option(parser):
    parser.add_argument('--seed', type=seed_argument, default=0,
                        help='seed for numpy, TensorFlow, Python and the env (0 to 2**32 - 1)')


def refuse(parser, error):
    """Bad input, found before any work: one line naming it, exit 2, no traceback."""
    parser.exit(2, f'{parser.prog}: error: {error}\n')


def seeds_text(seeds):
    """A seed list as ``--seeds`` takes it: ``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    parts, run = [], []
    for seed in list(seeds) + [None]:
        if run and (seed is None or seed != run[-1] + 1):
            parts.append(str(run[0]) if len(run) == 1 else f'{run[0]}-{run[-1]}')
            run = []
        if seed is not None:
            run.append(seed)
    return ','.join(parts)


def answer_space_separated_seeds(parser, argv, option='--seeds'):
    """``--seeds 0 1`` (the experiments' old spelling) is answered with ``--seeds 0,1``, in one line, exit 2."""
    if option not in argv:
        return
    at = argv.index(option) + 1
    numbers = []
    while at < len(argv) and argv[at].isdigit():
        numbers.append(argv[at])
        at += 1
    if len(numbers) > 1:
        refuse(parser, f'{option} takes one list now, like 0-9 or 1,4,7: {option} {",".join(numbers)}')


def answer_renamed(parser, argv, renamed):
    """An option spelled its old way (``renamed``: old name -> new) is answered with the command
    line spelled the new way, in one line, exit 2, before any work."""
    def respelled(token):
        name, sep, value = token.partition('=')
        return renamed.get(name, name) + sep + value

    for token in argv:
        name = token.partition('=')[0]
        if name in renamed:
            refuse(parser, f'{name} is now {renamed[name]}: run {parser.prog} {" ".join(map(respelled, argv))}')


@contextlib.contextmanager
def checking_input(parser):
    """Around the checks a command makes before any work.

    ``BadInput`` is the user's: one line, exit 2, and so is an ``OSError`` on a path the user gave
    (a name too long, a loop of links), named with it. Any other exception is the kit's own defect,
    never presented as the user's mistake: one line saying so, the traceback in a log, exit 1.
    Ctrl-C: exit 130, nothing to keep yet.
    """
    try:
        yield
    except BadInput as error:
        refuse(parser, error)
    except OSError as error:  # a path the user gave that the system will not take (too long, a loop...)
        where = f'{shown(error.filename)}: ' if error.filename else ''
        refuse(parser, f'{where}{error.strerror or error}')
    except KeyboardInterrupt:
        parser.exit(INTERRUPTED, f'{parser.prog}: interrupted before any work\n')
    except Exception as error:
        parser.exit(report_failure(parser.prog, None, error))


def run_reporting_failures(parser, out, work):
    """``work()``'s exit status; Ctrl-C and a failure inside the run each end in one line.

    Ctrl-C outside training (keras-rl's fit catches its own) exits 130: every file written so far is
    whole. Any other exception is said in one line, its traceback in ``OUT/error.log``
    (``report_failure``).
    """
    try:
        return work()
    except KeyboardInterrupt:
        logging.getLogger(parser.prog).warning('interrupted before the results were complete; every file in %s is '
                                               'whole (each is written in one rename), but some may be missing', out)
        return INTERRUPTED
    except Exception as error:
        return report_failure(parser.prog, out, error)


class RunFailed(Exception):
    """A run failed for a reason its message already says (a child run's own error line): reported
    as it is, not as a defect of the kit."""


def report_failure(prog, out, error):
    """A run failed: say so in one line, write the traceback to ``OUT/error.log``, return the exit status.

    Called from an ``except`` block. ``BadInput`` found late is the user's (exit 2); a file that
    could not be read or written (a full disk, a folder taken away) names it (exit 1); anything
    else is a defect of the kit (exit 1). ``out``: the run's folder, or None before it exists
    (the traceback then goes to a file of its own in the system's temporary folder).
    """
    import traceback

    if isinstance(error, BadInput):
        sys.stderr.write(f'{prog}: error: {error}\n')
        return 2
    details = traceback.format_exc()
    where = None
    if out is not None and Path(out).is_dir():
        try:
            write_atomic(Path(out) / ERROR_LOG, lambda handle: handle.write(details.encode('utf-8')))
            where = Path(out) / ERROR_LOG
        except OSError:
            pass
    if where is None:
        try:
            with tempfile.NamedTemporaryFile('w', prefix='stepsignal-error-', suffix='.log', delete=False) as log_file:
                log_file.write(details)
            where = log_file.name
        except OSError:  # no disk to write on: the details go to the terminal
            sys.stderr.write(details)
            where = 'the lines above'
    first_line = (str(error).splitlines() or [''])[0]
    if isinstance(error, RunFailed):  # its line names its own details
        sys.stderr.write(f'{prog}: error: {first_line}\n')
    elif isinstance(error, OSError) and error.errno is not None:
        file = f': {shown(error.filename)}' if error.filename else ''
        sys.stderr.write(f'{prog}: error: the run failed: {error.strerror}{file}; the details are in {where}\n')
    else:
        sys.stderr.write(f'{prog}: error: the run failed: {type(error).__name__}: {first_line}; the details are in '
                         f'{where}. This is a defect of the kit, not of your input: please report it with that '
                         f'file\n')
    return FAILED
