"""``--address``: ``evaluate`` and ``ablate`` on a running Ray head, here one on 127.0.0.1 that the test starts.

The ablation's tiny grid and ladder run here (not in a Ray of their own): one Ray for both.

The head is ``ray start --head --block`` in a process of its own, with its own temporary folder,
so that stopping it stops this head only (``ray stop`` would stop every Ray of the machine, a
parallel test's too).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from command_line import assert_overwrite_keeps_a_file_it_did_not_write, assert_the_kit_wrote_only_what_it_listed, run_command


def free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def ray_command():
    beside = Path(sys.executable).with_name('ray')
    return str(beside) if beside.exists() else shutil.which('ray')


class RayHead(NamedTuple):
    address: str
    """``127.0.0.1:PORT``."""
    env: dict
    """The environment of a client on this machine: its home holds the head's token."""


@pytest.fixture(scope='module')
def ray_head(tmp_path_factory):
    """A Ray head with 2 CPUs on the loopback only, started as Ray's docs say: a token made by
    ``ray get-auth-token --generate``, so that token authentication is on (docs/results.md#on-a-ray-cluster).

    Its home is a folder of its own (the token is in ``HOME/.ray/auth_token``), and so is every
    client's that the tests start with ``env``.
    """
    port = free_port()
    folder = tmp_path_factory.mktemp('ray')
    home = folder / 'home'
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith('RAY_AUTH')}
    env.update(HOME=str(home), RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER='0')
    subprocess.run([ray_command(), 'get-auth-token', '--generate'], env=env, check=True, capture_output=True)
    head = subprocess.Popen([ray_command(), 'start', '--head', f'--port={port}', '--num-cpus=2', '--block',
                             '--include-dashboard=false', '--disable-usage-stats', f'--temp-dir={folder}'],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                assert head.poll() is None and time.monotonic() < deadline, 'the Ray head did not start'
                time.sleep(0.5)
        yield RayHead(f'127.0.0.1:{port}', env)
    finally:
        stop_with_descendants(head)


def descendants(pid):
    """The processes ``pid`` started, theirs, and so on (read from /proc: no program needed)."""
    children = {}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / 'stat').read_text().rsplit(')', 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [pid]
    while waiting:
        started = children.get(waiting.pop(), [])
        found += started
        waiting += started
    return found


def stop_with_descendants(head):
    """Stop the head as Ctrl-C would (``ray start --block`` then stops what it started), then kill
    whatever is left of the processes it had started: this head's own, no other Ray of the machine."""
    tree = descendants(head.pid)
    head.send_signal(signal.SIGTERM)
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        head.kill()
        head.wait()
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_evaluate_trains_on_a_running_head(ray_head, tmp_path):
    finished = run_command('stepsignal', 'evaluate', '--seeds', '0-1', '--steps', 100, '--address', ray_head.address,
                           '--out', tmp_path / 'evaluate', env=ray_head.env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert f'on the Ray cluster at {ray_head.address}' in finished.stderr
    summary = json.loads((tmp_path / 'evaluate' / 'summary.json').read_text())
    assert [seed['seed'] for seed in summary['seeds']] == [0, 1]
    assert summary['summary']['failed_to_run'] == 0
    for seed in (0, 1):
        assert json.loads((tmp_path / 'evaluate' / f'seed-{seed}' / 'result.json').read_text())['env_steps'] == 100


def test_ablate_runs_a_tiny_grid_and_its_ladder_on_a_running_head(ray_head, tmp_path):
    """One fix x 2 seeds and the fixed setup, 100 steps each, then the ladder of two fixes."""
    command = ['stepsignal', 'ablate', '--steps', '100', '--address', ray_head.address]
    finished = run_command(*command, '--seeds', '0-1', '--revert', '4', '--out', tmp_path, env=ray_head.env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert f'on the Ray cluster at {ray_head.address}' in finished.stderr
    report = json.loads((tmp_path / 'ablation.json').read_text())
    assert [s['label'] for s in report['setups']] == ['fixed', 'FIX-4']
    for setup in report['setups']:
        assert setup['failed_to_run'] == 0 and [r['seed'] for r in setup['seeds']] == [0, 1]
        assert setup['success']['trials'] == 2
    assert json.loads((tmp_path / 'runs' / 'FIX-4' / 'seed-1' / 'result.json').read_text())['reverted'] == ['FIX-4']
    text = (tmp_path / 'ablation.md').read_text()
    assert '| FIX-4 | warmups of 2,000 and 10,000 steps |' in text and 'FIX-16:' in text
    for figure in ('ablation.png', 'ablation_curves.png'):
        assert (tmp_path / figure).stat().st_size > 1000
    assert_the_kit_wrote_only_what_it_listed(tmp_path)

    ladder = tmp_path / 'ladder'
    finished = run_command(*command, '--seeds', '0', '--revert', '4,6', '--ladder', '--out', ladder, env=ray_head.env)
    assert finished.returncode == 0, finished.stderr[-3000:]
    rungs = json.loads((ladder / 'ladder.json').read_text())['rungs']
    assert [(r['label'], r['reverted']) for r in rungs] == [('original', ['FIX-4', 'FIX-6']), ('+FIX-4', ['FIX-6']),
                                                             ('+FIX-6', [])]
    assert_the_kit_wrote_only_what_it_listed(ladder)
    assert_overwrite_keeps_a_file_it_did_not_write(command + ['--seeds', '0', '--revert', '4,6', '--ladder'], ladder,
                                                   env=ray_head.env)


@pytest.mark.parametrize('command', [['evaluate', '--seeds', '0'], ['ablate', '--seeds', '0', '--revert', '4']])
def test_a_head_that_does_not_answer_is_one_line_naming_the_address(command, tmp_path):
    address = f'127.0.0.1:{free_port()}'  # nothing listens there
    started = time.monotonic()
    finished = run_command('stepsignal', *command, '--address', address, '--out', tmp_path / 'out', timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    line = finished.stderr.strip().splitlines()[-1]
    assert address in line and 'ray start --head' in line
    assert not (tmp_path / 'out').exists() and time.monotonic() - started < 60


def test_a_client_without_the_heads_token_is_one_line_naming_the_address_and_the_token(ray_head, tmp_path):
    """A head with token authentication refuses a client whose home holds no token: said in one line,
    within a minute, before --out is made (Ray itself retries with a warning every second, then raises)."""
    elsewhere = tmp_path / 'home'
    elsewhere.mkdir()
    started = time.monotonic()
    finished = run_command('stepsignal', 'evaluate', '--seeds', '0', '--steps', 100, '--address', ray_head.address,
                           '--out', tmp_path / 'out', env={**ray_head.env, 'HOME': str(elsewhere)}, timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr, finished.stderr[-3000:]
    assert 'InvalidAuthToken' not in finished.stderr  # Ray's own retries, held back
    line = finished.stderr.strip().splitlines()[-1]
    assert ray_head.address in line and 'asks for a token' in line and 'RAY_AUTH_TOKEN_PATH' in line
    assert not (tmp_path / 'out').exists() and time.monotonic() - started < 60


@pytest.mark.parametrize('address, message', [('localhost:99999', 'a port is a number from 1 to 65535'),
                                              ('localhost', 'is not HOST:PORT')])
def test_an_address_that_cannot_be_one_is_refused_without_advice_to_use_it(address, message, tmp_path):
    finished = run_command('stepsignal', 'evaluate', '--seeds', '0', '--address', address, '--out', tmp_path / 'o')
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    line = finished.stderr.strip().splitlines()[-1]
    assert message in line and '--port 99999' not in line and not (tmp_path / 'o').exists()
