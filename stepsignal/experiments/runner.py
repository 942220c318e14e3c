"""Run many trainings at once through Ray: on this machine by default, or on a Ray cluster.

Each run is ``python -m COMMAND --out TMP ARGUMENTS`` in a fresh process on a Ray worker (one
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
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from shared.cli import CHILD_STDOUT
from shared.files import write_atomic

log = logging.getLogger(__name__)


SCRATCH = '{scratch}'
"""In a run's arguments, stands for a folder beside its ``--out`` on the worker, for files that go
elsewhere than the run's folder (``--tensorboard {scratch}/tensorboard``)."""
TENSORBOARD = 'tensorboard'
"""The subfolder of the scratch folder that holds a run's TensorBoard event files (sent to ``tensorboard_dir``)."""


class Run(NamedTuple):
    """One training run of the grid."""

    label: str
    """Its folder under the grid's output folder, such as ``fixed/seed-3``."""
    command: tuple
    """The command, run as ``python -m COMMAND...``: ``('fixed',)`` or ``('stepsignal', 'scenarios')``."""
    arguments: tuple
    """Its arguments, besides ``--out``."""
    env: tuple = ()
    """Environment variables for it, as ``(name, value)`` pairs (a rounding world, say)."""


def _run_in_worker(run):
    """In a Ray worker: run one training in a child process; return its files, or its error."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / 'run'  # a new folder, as every command's --out must be
        arguments = [argument.replace(SCRATCH, scratch) for argument in run.arguments]
        command = [sys.executable, '-m', *run.command, '--out', str(out), *arguments]
        finished = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **dict(run.env)})
        files = {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob('*'))
                 if path.is_file()}
        files.update({path.relative_to(scratch).as_posix(): path.read_bytes()
                      for path in sorted(Path(scratch, TENSORBOARD).rglob('*')) if path.is_file()})
    files[CHILD_STDOUT] = finished.stdout.encode()
    error = None
    if finished.returncode != 0:
        tail = finished.stderr.strip().splitlines()[-12:]
        error = f'python -m {" ".join(run.command)} exited with status {finished.returncode}: ' + ' | '.join(tail)
    return {'files': files, 'error': error}


LOOPBACK = ('127.0.0.1', 'localhost')
"""Hosts of a Ray head on this machine's loopback (a head started with ``--node-ip-address=127.0.0.1``)."""


def check_address(address):
    """Refuse ``--address`` unless a Ray head answers at it: a ``ValueError`` that says how to start one.

    Checked before any work: without it, ``ray.init`` waits about a minute and a half, then raises
    a ``ConnectionError`` that says nothing of what to do.
    """
    host, separator, port = address.rpartition(':')
    if not separator or not host or not port.isdigit():
        raise ValueError(f'--address {address!r} is not HOST:PORT, like 127.0.0.1:6379')
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except OSError as error:
        raise ValueError(f'--address {address}: no Ray head answers there ({error.strerror or error}); start one with '
                         f'"ray start --head --port {port}" (on this machine alone: docs/results.md#on-a-ray-cluster), '
                         f'or leave --address out to train on this machine') from None


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
    loopback = address is not None and address.rpartition(':')[0] in LOOPBACK
    if loopback:  # else Ray swaps 127.0.0.1 for this machine's network address, where no head listens
        os.environ.setdefault('RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER', '0')  # read when ray is first imported
    import ray

    if address:
        ray.init(address=address, _node_ip_address='127.0.0.1' if loopback else None, include_dashboard=False,
                 log_to_driver=False, logging_level='ERROR')
    else:  # a Ray of its own, even if a head runs on this machine already
        ray.init(address='local', num_cpus=parallel, include_dashboard=False, log_to_driver=False,
                 logging_level='ERROR')
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
