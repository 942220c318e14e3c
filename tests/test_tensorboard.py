"""``--tensorboard DIR``: event files TensorBoard reads, with the scalars the docs promise, and no change to the run."""
import dataclasses
import json

import pytest

from command_line import run_command
from fixed.tensorboard_log import read_scalars

PER_STEP = ['action/cutoff_hz', 'action/offset', 'train/critic_loss', 'train/mean_q', 'train/noise_sigma']
PER_EPISODE = ['episode/reward', 'episode/l2_distance', 'episode/success']
PER_CHECK = ['check/l2_distance', 'check/success']


@pytest.fixture(scope='module')
def two_runs(fixed_run, tmp_path_factory):
    """The session's short fixed run (conftest.py) and the same run with TensorBoard:
    ``(plain, logged, tensorboard_dir)``, each run as ``(its folder, its result)``."""
    from fixed.extras import Extras
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    plain, plain_out = fixed_run
    hp = dataclasses.replace(HYPERPARAMETERS, nb_steps=plain['steps'])
    root = tmp_path_factory.mktemp('tensorboard')
    _, logged = train(root / 'logged', seed=0, hp=hp, extras=Extras(tensorboard=root / 'tb'))
    return (plain_out, plain), (root / 'logged', logged), root / 'tb'


def test_event_files_hold_every_promised_scalar(two_runs):
    _, (logged, result), tensorboard = two_runs
    scalars = read_scalars(tensorboard / 'logged')  # DIR/<name of --out>
    assert set(PER_STEP + PER_EPISODE + PER_CHECK) <= set(scalars)
    trace = json.loads((logged / 'trace.json').read_text())
    # One point per episode, per check, and per sampled step; each at the training step it happened.
    rewards = {}
    for step in trace['steps']:
        rewards[step['episode']] = rewards.get(step['episode'], 0.0) + step['reward']
    logged_rewards = [value for _, value in scalars['episode/reward']]
    assert len(rewards) - 1 <= len(logged_rewards) <= len(rewards)  # the last may be cut short by the budget
    assert logged_rewards == pytest.approx(list(rewards.values())[:len(logged_rewards)], rel=1e-5)
    assert [step for step, _ in scalars['check/l2_distance']] == [c['training_step'] for c in result['checks']]
    assert [value for _, value in scalars['check/l2_distance']] == pytest.approx(
        [c['l2_distance'] for c in result['checks']], rel=1e-6)
    sampled = [step for step, _ in scalars['action/offset']]
    assert sampled == list(range(10, result['steps_trained'] + 1, 10))
    # The noise anneals; the critic's loss appears only once updates have begun.
    sigmas = [value for _, value in scalars['train/noise_sigma']]
    assert sigmas[0] > sigmas[-1] > 0
    assert scalars['train/critic_loss'][0][0] > sampled[0]


def test_tensorboard_changes_no_number_of_the_run(two_runs):
    (plain, plain_result), (logged, logged_result), _ = two_runs
    for name in ('trace.json', 'history.json'):
        assert (plain / name).read_bytes() == (logged / name).read_bytes(), name
    drop = {'train_seconds', 'steps_per_second'}
    results = [{k: v for k, v in result.items() if k not in drop} for result in (plain_result, logged_result)]
    assert results[0] == results[1]


def test_each_run_gets_a_new_folder_and_earlier_event_files_stay(two_runs, tmp_path):
    from fixed.tensorboard_log import TensorBoardLog, run_folder

    folders = []
    for _ in range(3):
        folder = run_folder(tmp_path, tmp_path / 'out' / 'run')
        log = TensorBoardLog(folder)
        log.on_train_begin()
        log.on_train_end()
        folders.append(folder.name)
    assert folders == ['run', 'run-2', 'run-3']
    assert all(len(list((tmp_path / name).glob('events.out.tfevents.*'))) == 1 for name in folders)


def test_the_users_own_event_files_in_the_runs_folder_are_never_removed(tmp_path):
    users = tmp_path / 'tb' / 'tbrun'
    users.mkdir(parents=True)
    (users / 'events.out.tfevents.1.mine').write_bytes(b'my own run')
    finished = run_command('fixed', '--steps', 100, '--out', tmp_path / 'tbrun', '--tensorboard', tmp_path / 'tb')
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert [path.name for path in users.iterdir()] == ['events.out.tfevents.1.mine']
    assert (users / 'events.out.tfevents.1.mine').read_bytes() == b'my own run'
    assert 'episode/reward' in read_scalars(tmp_path / 'tb' / 'tbrun-2')


def test_tensorboard_folder_that_is_a_file_is_refused_in_one_line(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    finished = run_command('fixed', '--out', tmp_path / 'out', '--tensorboard', blocker, timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert f"--tensorboard '{blocker}' is a file" in finished.stderr


def test_event_files_of_a_worker_go_to_the_tensorboard_folder(tmp_path):
    from stepsignal.experiments.runner import destination

    assert destination('tensorboard/tmpab12/events.out.tfevents.1', 'seed-3', tmp_path / 'out', tmp_path / 'tb') \
        == tmp_path / 'tb' / 'seed-3' / 'events.out.tfevents.1'
    assert destination('result.json', 'seed-3', tmp_path / 'out', tmp_path / 'tb') == tmp_path / 'out' / 'seed-3' / 'result.json'
    assert destination('tensorboard/x/e', 'seed-3', tmp_path / 'out') == tmp_path / 'out' / 'seed-3' / 'tensorboard/x/e'
