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
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

from shared.checks import BadInput
from shared.cli import CHILD_STDOUT
from shared.files import continue_listing, write_atomic
from shared.quiet import held_back

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
        if out.is_dir():
            continue_listing(out)  # listed in the run's own marker, beside its files
            write_atomic(out / CHILD_STDOUT, lambda handle: handle.write(finished.stdout.encode()))
        files = {path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(out.rglob('*'))
                 if path.is_file()}
        files.update({path.relative_to(scratch).as_posix(): path.read_bytes()
                      for path in sorted(Path(scratch, TENSORBOARD).rglob('*')) if path.is_file()})
    error = None
    if finished.returncode != 0:
        tail = finished.stderr.strip().splitlines()[-12:]
        error = f'python -m {" ".join(run.command)} exited with status {finished.returncode}: ' + ' | '.join(tail)
    return {'files': files, 'error': error}


LOOPBACK = ('127.0.0.1', 'localhost')
"""Hosts of a Ray head on this machine's loopback (a head started with ``--node-ip-address=127.0.0.1``)."""


def check_address(address):
    """Refuse ``--address`` unless a Ray head there lets this client join: a ``BadInput`` that names
    the address, the cause and what to do.

    Checked before any work: without it, ``ray.init`` retries for a minute and a half (or, for a
    head that asks for a token, prints twenty seconds of warnings), then raises a
    ``ConnectionError`` that says nothing of what to do.
    """
    host, separator, port = address.rpartition(':')
    if not separator or not host or not port.isdigit():
        raise BadInput(f'--address {address!r} is not HOST:PORT, like 127.0.0.1:6379')
    if not 1 <= int(port) <= 65535:
        raise BadInput(f'--address {address!r}: a port is a number from 1 to 65535, not {port}')
    try:
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    except OSError as error:
        raise BadInput(f'--address {address}: no Ray head answers there ({error.strerror or error}); start one with '
                       f'"ray start --head --port {port}" (on this machine alone: docs/results.md#on-a-ray-cluster), '
                       f'or leave --address out to train on this machine') from None
    connect(address)
    import ray

    ray.shutdown()  # run_all joins again, with the runs to send


AUTH_DOCS = 'https://docs.ray.io/en/latest/ray-security/token-auth.html'
RAY_RETRIES = re.compile(r'gcs_client\.cc.*(Failed to get cluster ID|InvalidAuthToken)')
"""What Ray's client prints, once a second, while a head refuses it: said once, in the kit's words."""


def use_a_token_if_there_is_one():
    """Turn Ray's token authentication on for this client and the runs it starts when a token is at
    hand (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``, where ``ray start`` and
    ``ray get-auth-token --generate`` keep it), unless ``RAY_AUTH_MODE`` says otherwise.

    Ray itself does this only for a cluster it finds without an address; given one, it connects
    without the token, and a head that asks for one refuses it. Called before Ray is imported.
    """
    if 'RAY_AUTH_MODE' not in os.environ and token_source() is not None:
        os.environ['RAY_AUTH_MODE'] = 'token'


def token_source():
    """Where Ray would read this client's token from, in its own order; None if nowhere."""
    if os.environ.get('RAY_AUTH_TOKEN'):
        return 'RAY_AUTH_TOKEN'
    if os.environ.get('RAY_AUTH_TOKEN_PATH'):
        return os.environ['RAY_AUTH_TOKEN_PATH']
    default = Path.home() / '.ray' / 'auth_token'
    return str(default) if default.is_file() else None


def connect(address):
    """Join the Ray cluster at ``address``; a ``BadInput`` naming it and the cause if the head refuses."""
    loopback = address.rpartition(':')[0] in LOOPBACK
    if loopback:  # else Ray swaps 127.0.0.1 for this machine's network address, where no head listens
        os.environ.setdefault('RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER', '0')  # read when ray is first imported
    use_a_token_if_there_is_one()
    import ray

    with held_back(RAY_RETRIES) as held:
        try:
            ray.init(address=address, _node_ip_address='127.0.0.1' if loopback else None, include_dashboard=False,
                     log_to_driver=False, logging_level='ERROR')
            return
        except Exception as error:  # Ray's ConnectionError, RuntimeError, AuthenticationError...
            failure = error
    refused_token = any('InvalidAuthToken' in line for line in held)
    if refused_token and token_source() is None:
        cause = (f'asks for a token (Ray\'s token authentication) and this client has none: run where the head\'s '
                 f'token is (~/.ray/auth_token), or name it with RAY_AUTH_TOKEN_PATH=FILE ({AUTH_DOCS})')
    elif refused_token:
        cause = (f'refused the token from {token_source()}: give the head\'s own with RAY_AUTH_TOKEN_PATH=FILE, or '
                 f'RAY_AUTH_MODE=disabled if the head runs without authentication ({AUTH_DOCS})')
    else:
        first = (str(failure).splitlines() or [''])[0]
        cause = f'did not let this client join: {type(failure).__name__}: {first}'
    raise BadInput(f'--address {address}: the Ray head there {cause}')


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
    if address:
        connect(address)
    import ray

    if not address:  # a Ray of its own, even if a head runs on this machine already
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
