"""Run many trainings at once through Ray: on this machine by default, or on a Ray cluster.

Each run is ``python -m MODULE --out TMP ARGUMENTS`` in a fresh process on a Ray worker (one
Ray task per run, one CPU each; keras-rl2 puts TensorFlow in graph mode for the whole process, so
runs never share one). The worker sends the files the run wrote back as values and the driver
writes them under ``OUT/LABEL/``, so workers need no shared disk. A run that fails comes back
with its error and the others go on; Ctrl-C stops the grid and keeps every finished run.

Locally, ``ray.init`` starts a Ray of its own with ``parallel`` CPUs (default 2, one run per
core) and stops it afterwards. With ``address="HOST:PORT"`` it joins a running cluster
(``ray start --head`` on one machine, ``ray start --address HOST:PORT`` on the others); every
node needs the kit installed (``python3 -m pip install -e .``).
"""
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from shared.cli import CHILD_STDOUT
from shared.files import write_atomic

log = logging.getLogger(__name__)


RUN_FOLDER = '{out}'
"""In a run's arguments, stands for its own output folder on the worker (``--tensorboard {out}/tensorboard``)."""
TENSORBOARD = 'tensorboard'
"""The subfolder of a run's files that holds its TensorBoard event files (sent to ``tensorboard_dir``)."""


class Run(NamedTuple):
    """One training run of the grid."""

    label: str
    """Its folder under the grid's output folder, such as ``fixed/seed-3``."""
    module: str
    """The command, run as ``python -m MODULE``."""
    arguments: tuple
    """Its arguments, besides ``--out``."""
    env: tuple = ()
    """Environment variables for it, as ``(name, value)`` pairs (a rounding world, say)."""


def _run_in_worker(run):
    """In a Ray worker: run one training in a child process; return its files, or its error."""
    with tempfile.TemporaryDirectory() as folder:
        arguments = [argument.replace(RUN_FOLDER, folder) for argument in run.arguments]
        command = [sys.executable, '-m', run.module, '--out', folder, *arguments]
        finished = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **dict(run.env)})
        files = {path.relative_to(folder).as_posix(): path.read_bytes()
                 for path in sorted(Path(folder).rglob('*')) if path.is_file()}
    files[CHILD_STDOUT] = finished.stdout.encode()
    error = None
    if finished.returncode != 0:
        tail = finished.stderr.strip().splitlines()[-12:]
        error = f'python -m {run.module} exited with status {finished.returncode}: ' + ' | '.join(tail)
    return {'files': files, 'error': error}


def destination(name, label, out, tensorboard_dir=None):
    """Where the driver writes the file ``name`` (relative to the run's folder) of the run ``label``."""
    parts = name.split('/', 2)
    if tensorboard_dir is not None and parts[0] == TENSORBOARD and len(parts) == 3:
        return Path(tensorboard_dir) / label / parts[2]  # tensorboard/<worker's folder>/events...
    return Path(out) / label / name


def run_all(runs, out, address=None, parallel=2, tensorboard_dir=None):
    """Run every one of ``runs``; return ``{label: error or None}`` for those that finished.

    ``runs`` may be empty (everything was there already): then Ray is not started.

    Files go to ``out / run.label`` as each run finishes; with ``tensorboard_dir``, a run's event
    files (under ``{out}/tensorboard/<folder>/`` on the worker) go to ``tensorboard_dir / run.label``. Raises ``KeyboardInterrupt`` after
    stopping the grid on Ctrl-C (finished runs are already written).
    """
    out = Path(out)
    if not runs:
        return {}
    import ray

    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level='ERROR')
    else:
        ray.init(num_cpus=parallel, include_dashboard=False, log_to_driver=False, logging_level='ERROR')
    task = ray.remote(num_cpus=1, max_calls=1)(_run_in_worker)  # max_calls=1: a fresh worker per run
    outcome = {}
    try:
        pending = {task.remote(run): run for run in runs}
        log.info('%d runs, %s', len(pending), f'on the Ray cluster at {address}' if address else
                 f'{parallel} at a time on this machine')
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(ready[0])
            try:
                value = ray.get(ready[0])
            except Exception as error:  # the worker itself died
                value = {'files': {}, 'error': f'the Ray task failed: {type(error).__name__}: {error}'}
            for name, data in value['files'].items():
                path = destination(name, run.label, out, tensorboard_dir)
                write_atomic(path, lambda handle, data=data: handle.write(data))
            outcome[run.label] = value['error']
            if value['error']:
                log.error('%s failed: %s', run.label, value['error'])
            log.info('%d of %d runs done (%s)', len(outcome), len(outcome) + len(pending), run.label)
    except KeyboardInterrupt:
        log.warning('interrupted: %d runs finished and written in %s; the others are stopped', len(outcome), out)
        for ref in list(locals().get('pending', {})):
            ray.cancel(ref, force=True)
        raise
    finally:
        ray.shutdown()
    return outcome
