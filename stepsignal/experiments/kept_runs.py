"""A long measurement kept as it goes, so that the same command resumes it.

Each run is a process of its own (``python -m PROGRAM one ...``, its last line of output the run's
row); ``DIR/results.json`` is written whole after every run, and ``DIR/report.md`` at the end.
``peers``, ``tune_peers`` and ``sparse_her`` measure this way.
"""
import importlib
import json
import logging
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from shared.checks import BadInput
from shared.cli import NUMBERS, REPORT, shown
from shared.files import write_atomic, write_json

log = logging.getLogger(__name__)


def require_bench(*modules, alternative=''):
    """Import ``modules`` (Stable-Baselines3, Optuna: the ``bench`` extra), gym's notice held back, or
    raise ``BadInput`` saying how to install them (and ``alternative``, a way without them)."""
    from shared.quiet import GYM_NOISE, held_back

    try:
        with held_back(GYM_NOISE):  # Stable-Baselines3 imports gym, when it is there
            for module in modules:
                importlib.import_module(module)
    except ImportError:
        raise BadInput(f'{" and ".join(modules)} must be installed: pip install -e ".[bench]"{alternative}') from None


def row_from_child(program, arguments, seed, timeout=None):
    """``python -m PROGRAM one ARGUMENTS`` in a process of its own: the row its last line of output
    holds, or ``{'seed': seed, 'error': ...}`` with the child's exit status and last lines.

    ``timeout``: seconds the child may run; a child still running then is stopped, and its row says
    so (``'timed_out': True``).
    """
    command = [sys.executable, '-m', program, 'one', *map(str, arguments)]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {'seed': seed, 'error': f'stopped after {timeout / 60:g} minutes, its time budget', 'timed_out': True}
    try:
        return json.loads(finished.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {'seed': seed, 'error': f'exit status {finished.returncode}: {what_went_wrong(finished.stderr)}'}


def median_first_success(rows):
    """The median run's ``first_success_env_steps`` (of an even number of runs, the later of the middle
    two), a run without one counting as later than any: None when that run had none."""
    never, steps = sorted((row['first_success_env_steps'] is None, row['first_success_env_steps'] or 0)
                          for row in rows)[len(rows) // 2]
    return None if never else steps


def what_went_wrong(stderr):
    """The line of a child's stderr that names its error (``ValueError: ...``), else its last three lines:
    an exception's message can run on for lines of numbers after it."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    named = [line for line in lines if re.match(r'[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b', line)]
    return named[-1] if named else ' | '.join(lines[-3:])


def earlier_file(out, start_from):
    """Where a measurement goes on from: ``out/results.json`` when it is there, else ``start_from`` (or None)."""
    return out / NUMBERS if (out / NUMBERS).is_file() else start_from


def earlier_numbers(out, start_from, fresh, holds):
    """The numbers a measurement goes on from: ``out/results.json`` when it is there (the same command
    resumes), else ``start_from``'s (an earlier measurement's, such as a kept one), else ``fresh``.

    ``holds(results)`` says whether a file's numbers are this program's. Raises ``BadInput`` naming
    a file that is not.
    """
    earlier = earlier_file(out, start_from)
    if earlier is None:
        return fresh
    try:
        results = json.loads(earlier.read_text())
        ok = bool(holds(results))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise BadInput(f'{shown(earlier)} is not the numbers of an earlier run of this program')
    return results


def measure_missing(results, out, work, measure, jobs, describe):
    """Measure every ``(key, arguments)`` of ``work`` that ``results['runs']`` does not hold yet (or
    holds as a failure to run): ``measure(*arguments)`` gives the row, ``jobs`` at a time. Each row
    is kept in ``results['runs'][key]`` and ``out/results.json`` written as it ends;
    ``describe(row)`` is its log line."""
    lock = threading.Lock()

    def one(item):
        key, arguments = item
        if key in results['runs'] and 'error' not in results['runs'][key]:
            return  # measured already
        row = measure(*arguments)
        log.info('%s: %s', key, row.get('error') or describe(row))
        with lock:
            results['runs'][key] = row
            write_json(out / NUMBERS, results)

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, work))


def finish(out, results, program, argv, page):
    """Write ``out/results.json`` (also what ``--start-from`` brought, when nothing ran) and
    ``out/report.md``, ``page(command)``, which also goes to stdout; the command is the one that
    measures it again (without ``--page-only``)."""
    write_json(out / NUMBERS, results)
    command = f'python -m {program} ' + ' '.join(a for a in argv if a != '--page-only')
    text = page(command)
    sys.stdout.write(text)
    write_atomic(out / REPORT, lambda handle: handle.write(text.encode('utf-8')))
    return 0
