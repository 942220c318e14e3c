"""IMPROVEMENT-5: hindsight experience replay (fixed/hindsight.py), on the kit's own goal env.

The memory is filled as the fixed agent fills it (each transition stored after its step and
before the next reset) from real episodes of the question's env, then sampled many times; each
sampled row is traced back to its stored transition by its action, which is unique.
"""
import numpy as np
import pytest

from fixed.hindsight import Hindsight, HindsightMemory
from shared.scenario import question_scenario
from stepsignal.own_signal.any_signal import make_env

EPISODES = 12
BATCHES = 100
BATCH = 64


def flat_wrapper(env):
    from fixed.hindsight import GoalRecorder, flat_goal_env

    return GoalRecorder.under(flat_goal_env(env))


def filled_memory(hindsight, limit=1000, seed=0):
    """A memory holding ``EPISODES`` real episodes of random actions, and what each transition was."""
    env = make_env(question_scenario(), seed=seed, time_limit=10)
    goals = flat_wrapper(env)
    unwrapped = env.unwrapped
    memory = HindsightMemory(limit, 1, env.observation_space.shape, env.action_space.shape[0], goals=goals,
                             compute_reward=unwrapped.compute_reward, goal_to_state=lambda g: np.asarray(g) / 2.0,
                             hindsight=hindsight)
    rng = np.random.default_rng(seed)
    stored = []  # per transition, in order: its episode, its step, its action and achieved goal
    for episode in range(EPISODES):
        observation = env.reset()
        for step in range(10):
            action = rng.uniform(-1, 1, size=env.action_space.shape).astype(np.float32)
            next_observation, reward, done, info = env.step(action)
            memory.append(observation[None], action, reward, False, next_observation[None])
            stored.append({'episode': episode, 'step': step, 'action': action, 'reward': reward,
                           'achieved': unwrapped.signal.copy(), 'observation': observation.copy()})
            observation = next_observation
            if done:
                break
    return memory, stored, goals.slice_of('desired_goal'), unwrapped


def sampled(memory, stored):
    """``BATCHES`` batches stacked: the stored transition of each row, its states and reward."""
    np.random.seed(1)
    actions = np.array([s['action'] for s in stored])
    batches = [memory.sample(BATCH) for _ in range(BATCHES)]
    states0, batch_actions, rewards, _, states1 = (np.concatenate(parts) for parts in zip(*batches))
    index = (batch_actions[:, None, :] == actions[None]).all(axis=2).argmax(axis=1)
    return index, states0[:, 0], rewards, states1[:, 0]


@pytest.mark.parametrize('strategy', ['future', 'final', 'episode'])
def test_relabelled_goals_come_from_the_own_episode_and_rewards_from_compute_reward(strategy):
    memory, stored, goal, env = filled_memory(Hindsight(strategy=strategy, k=4))
    index, states0, rewards, states1 = sampled(memory, stored)
    observations = np.array([s['observation'] for s in stored])[index]
    achieved = np.array([s['achieved'] for s in stored])
    episode = np.array([s['episode'] for s in stored])
    step = np.array([s['step'] for s in stored])
    # Only the goal part of the flat observation ever changes, in both states alike.
    outside = np.ones(states0.shape[1], dtype=bool)
    outside[goal] = False
    assert np.array_equal(states0[:, outside], observations[:, outside])
    assert np.array_equal(states1[:, goal], states0[:, goal])
    relabelled = ~(states0[:, goal] == observations[:, goal]).all(axis=1)
    # k = 4 relabels 4/5 of the rows: 6,400 draws, a binomial's 4 sigma is 0.02
    assert abs(relabelled.mean() - 0.8) < 0.02
    new_goals = states0[relabelled][:, goal] * 2.0  # goal_to_state halves it
    mine = index[relabelled]
    # The new goal is an achieved goal of the same episode, from where the strategy allows.
    matches = np.abs(new_goals[:, None, :] - achieved[None]).max(axis=2) < 1e-6  # row x stored transition
    assert matches.any(axis=1).all(), 'a goal no step achieved'
    assert not (matches & (episode[None] != episode[mine][:, None])).any(), 'a goal from another episode'
    if strategy == 'future':
        assert (matches & (step[None] >= step[mine][:, None])).any(axis=1).all(), 'a goal from the past'
    if strategy == 'final':
        last = np.array([step[episode == e].max() for e in episode[mine]])
        assert (matches & (step[None] == last[:, None])).any(axis=1).all()
    # Its reward is the env's own compute_reward for the step's achieved goal and the new goal.
    expected = env.compute_reward(achieved[mine], new_goals, None)
    np.testing.assert_allclose(rewards[relabelled], expected, rtol=1e-5, atol=1e-6)
    # The rest keep their stored rewards.
    stored_rewards = np.array([s['reward'] for s in stored])[index]
    np.testing.assert_array_equal(rewards[~relabelled], stored_rewards[~relabelled].astype(np.float32))


@pytest.mark.parametrize('k', [1, 8])
def test_the_share_of_relabelled_transitions_follows_k(k):
    memory, stored, goal, _ = filled_memory(Hindsight(k=k))
    index, states0, _, _ = sampled(memory, stored)
    observations = np.array([s['observation'] for s in stored])[index]
    relabelled = ~(states0[:, goal] == observations[:, goal]).all(axis=1)
    sigma = np.sqrt(k / (k + 1) / (k + 1) / len(index))
    assert abs(relabelled.mean() - k / (k + 1)) < 4 * sigma


def test_the_running_episode_relabels_only_from_what_is_stored():
    """Sampling in the middle of an episode: 'final' is the last step stored so far, never a later one."""
    memory, stored, goal, _ = filled_memory(Hindsight(strategy='final', k=16))
    last = stored[-1]
    np.random.seed(2)
    states0, actions, _, _, _ = memory.sample(256)
    for row in np.flatnonzero((actions == last['action']).all(axis=1)):
        assert np.allclose(states0[row, 0][goal] * 2.0, last['achieved'], atol=1e-6)


def test_bad_settings_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="--her-strategy 'past' is not one of future, final, episode"):
        Hindsight(strategy='past')
    with pytest.raises(ValueError, match='--her-k 0 is not allowed: a whole number from 1 to 16'):
        Hindsight(k=0)
    env = make_env(question_scenario(), time_limit=10)
    with pytest.raises(ValueError, match='window_length is 2'):
        HindsightMemory(100, 2, env.observation_space.shape, 2, goals=flat_wrapper(env),
                        compute_reward=env.unwrapped.compute_reward)


@pytest.mark.parametrize('command', [('fixed',), ('stepsignal', 'scenarios')])
@pytest.mark.parametrize('bad, message', [
    (['--her', '--her-k', '0'], 'argument --her-k: 0 is not allowed: a whole number from 1 to 16'),
    (['--her', '--her-k', 'four'], "argument --her-k: 'four' is not a whole number; allowed: 1 to 16"),
    (['--her', '--her-strategy', 'past'], "argument --her-strategy: invalid choice: 'past'"),
    (['--her-k', '8'], '--her-k sets hindsight replay, which is off: add --her'),
    (['--her-strategy', 'final', '--her-k', '8'], '--her-strategy and --her-k set hindsight replay, which is off'),
])
def test_bad_her_options_are_refused_in_one_line_before_any_work(tmp_path, command, bad, message):
    from command_line import run_command

    module, *verb = command
    finished = run_command(module, *verb, '--out', str(tmp_path / 'f'), *bad)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert message in finished.stderr and not (tmp_path / 'f').exists()


@pytest.mark.parametrize('bad, message', [
    (['--her-k', '2'], '--her-k sets hindsight replay, which is off: add --her'),
    (['--her', '--her-k', '17'], 'argument --her-k: 17 is not allowed: a whole number from 1 to 16'),
])
def test_evaluate_refuses_bad_her_options_as_training_does(tmp_path, bad, message):
    from command_line import run_command

    finished = run_command('stepsignal', 'evaluate', '--random-scenarios', *bad, '--out', str(tmp_path / 'e'))
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert message in finished.stderr and not (tmp_path / 'e').exists()


def test_evaluate_hands_every_her_setting_to_each_seed():
    from stepsignal.experiments.evaluate import seed_runs

    with_her, = seed_runs([3], 500, random_scenarios=True, hindsight=Hindsight(strategy='final', k=2))
    at = with_her.arguments.index('--her')
    assert with_her.arguments[at:at + 5] == ('--her', '--her-strategy', 'final', '--her-k', '2')
    without, = seed_runs([3], 500, random_scenarios=True)
    assert not any(argument.startswith('--her') for argument in without.arguments)


def test_her_trains_on_the_random_scenarios(tmp_path):
    """A short run with --her learns the family: at 2,000 steps seeds 0-9 solved 75% to 86% of the
    never-seen scenarios (benchmarks/her/HER.json); an untrained policy solves next to none. The margin:
    at least 60%, on a seed the measurement did not use."""
    import json

    from command_line import run_command

    finished = run_command('stepsignal', 'scenarios', '--her', '--steps', '2000', '--seed', '11',
                           '--out', str(tmp_path / 'run'))
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads((tmp_path / 'run' / 'result.json').read_text())
    assert result['her'] == {'strategy': 'future', 'k': 4, 'relabelled_share': 0.8}
    policy = json.loads((tmp_path / 'run' / 'policy' / 'policy.json').read_text())
    assert policy['trained_on']['her'] == result['her']
    assert result['unseen']['success_rate'] >= 0.6, result['unseen']


def test_the_hindsight_measurement_reports_from_sets_already_measured(tmp_path):
    """``stepsignal.experiments.hindsight`` reads a set whose summary is there instead of training
    it again (so an interrupted measurement resumes), and tabulates every seed of every set."""
    import json

    from shared.cli import RUN_MARKER
    from stepsignal.experiments.hindsight import main, set_folder
    from stepsignal.rates import success_rate

    def seed_result(seed, rate, her):
        checks = [{'env_steps': steps, 'l2_distance': 5.0 / (1 + steps / 500) + her} for steps in (500, 1000, 1500)]
        return {'seed': seed, 'unseen': {'success_rate': rate}, 'train_seconds': 10.0 + seed, 'checks': checks,
                'success': rate > 0.5, 'l2_distance': 1.0 - rate}

    rates = {False: [0.9, 0.95], True: [0.8, 0.85]}
    for her in (False, True):
        for kind in ('scenarios', 'question'):
            folder = set_folder(tmp_path, her, kind, 1500)
            folder.mkdir()
            summary = {'date': '2026-12-02', 'machine': 'a test machine',
                       'seeds': [seed_result(seed, rate, her) for seed, rate in zip((3, 4), rates[her])][::-1]}
            (folder / 'summary.json').write_text(json.dumps(summary))
    sets = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob('summary.json'))
    (tmp_path / RUN_MARKER).write_text(json.dumps({'command': 'an earlier measurement', 'version': 2, 'writes': sets}))
    assert main(['--seeds', '3,4', '--budgets', '1500', '--question-seeds', '3,4', '--question-steps', '1500',
                 '--out', str(tmp_path)]) in (None, 0)
    text = (tmp_path / 'report.md').read_text()
    assert 'on 2026-12-02, on a test machine' in text
    assert '| 1,500 | no | 90% | 92% | 95% | 1 of 2' in text and '| 1,500 | yes | 80% | 82% | 85% | 0 of 2' in text
    assert '| 3 | 90% / 80% |' in text and '| 4 | 95% / 85% |' in text  # each seed in its row, whatever the file's order
    assert (tmp_path / 'her.png').stat().st_size > 10_000
    measured = json.loads((tmp_path / 'results.json').read_text())
    assert measured['scenarios']['1500']['her']['rates'] == [0.8, 0.85]
    # the question's scenario alone: no random-scenario sets, no figure
    (tmp_path / 'her.png').unlink()
    assert main(['--budgets', '--question-seeds', '3,4', '--question-steps', '1500', '--out', str(tmp_path)]) == 0
    text = (tmp_path / 'report.md').read_text()
    assert 'Never-seen' not in text and not (tmp_path / 'her.png').exists()
    assert f'| 1,500 | no | {success_rate(2, 2)} | 0.075 |' in text and f'| 1,500 | yes | {success_rate(2, 2)} |' in text
