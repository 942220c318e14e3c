"""The sparse-reward goal env (stepsignal/own_signal/sparse.py): the task HER was made for, on the
kit's scenarios. Its contract first (spaces, reward, episodes, repeatability), then what the
checks measure on it, then one short run of the fixed agent with hindsight replay."""
import gymnasium
import numpy as np
import pytest

from stepsignal.own_signal.sparse import (KNOB_STEP, TIME_LIMIT, EpisodeCheck, SparseStepSignal, episode_outcome,
                                          scenario_env, sparse_env)


class Fixed:
    """An agent whose noise-free policy is one constant move, as the checks ask for an agent."""

    class processor:
        @staticmethod
        def process_observation(observation):
            return observation

    def __init__(self, move):
        self.move = np.asarray(move, dtype=np.float32)

    def policy_action(self, observation):
        return self.move


def test_gymnasium_checker_passes_and_the_knobs_are_in_the_observation():
    from gymnasium.utils.env_checker import check_env

    env = SparseStepSignal()
    check_env(env, skip_render_check=True)
    observation, _ = env.reset(seed=5)
    assert observation['observation'].shape == (env.initial_signal.size + 2,)
    np.testing.assert_array_equal(observation['observation'][-2:], env.knobs.astype(np.float32))
    np.testing.assert_array_equal(observation['observation'][:-2], observation['achieved_goal'])
    assert env.observation_space.contains(observation)
    made = gymnasium.make('stepsignal.own_signal.sparse:stepsignal-sparse-v0')  # the docstring's example
    np.testing.assert_array_equal(made.reset(seed=5)[0]['observation'], observation['observation'])


def test_the_reward_is_zero_within_the_threshold_and_minus_one_outside_on_batches_too():
    env = SparseStepSignal()
    env.reset(seed=0)
    goal = env.desired_signal
    near = goal + 0.9 / np.sqrt(goal.size)  # L2 0.9
    far = goal + 1.1 / np.sqrt(goal.size)  # L2 1.1
    np.testing.assert_array_equal(env.compute_reward(np.stack([near, far, goal]), np.stack([goal] * 3), None),
                                  [0.0, -1.0, 0.0])
    assert float(env.compute_reward(far, goal, None)) == -1.0


def test_an_episode_moves_the_knobs_a_bounded_step_and_is_only_ever_truncated():
    env = SparseStepSignal()
    env.reset(seed=1)
    ends = []
    for step in range(TIME_LIMIT):
        before = env.knobs.copy()
        _, reward, terminated, truncated, info = env.step(np.array([1.0, -1.0], dtype=np.float32))
        assert np.all(np.abs(env.knobs - before) <= KNOB_STEP + 1e-12)
        assert np.all(np.abs(env.knobs) <= 1.0) and reward in (0.0, -1.0) and not terminated
        assert reward == (0.0 if info['is_success'] else -1.0)
        ends.append(truncated)
    assert ends == [False] * (TIME_LIMIT - 1) + [True]
    assert env.knobs.tolist() == [1.0, -1.0]  # the episode's moves cross the whole range and stay at the edge


def test_a_seed_gives_the_same_start_and_the_starts_rarely_succeed():
    """Sparse: a start is a random scenario at random knobs; measured, 2 of 400 starts succeed (0.5%)."""
    first, again = SparseStepSignal(), SparseStepSignal()
    a, _ = first.reset(seed=11)
    b, _ = again.reset(seed=11)
    np.testing.assert_array_equal(a['observation'], b['observation'])
    np.testing.assert_array_equal(a['desired_goal'], b['desired_goal'])
    rng = np.random.default_rng(0)
    successes = 0
    for _ in range(200):
        first.reset(seed=int(rng.integers(10**6)))
        successes += bool(np.linalg.norm(first.desired_signal - first.signal) < first.distance_threshold)
    assert successes <= 10  # at most 5%


def test_random_moves_touch_success_in_few_episodes_and_hardly_ever_end_there():
    """The reward is sparse in the sense HER means: random exploration earns 0 on under 2% of its
    steps (measured: 104 of 15,000, in 24 of 300 episodes), yet not never, so there is something
    to learn from without relabelling."""
    from stepsignal.own_signal.sparse import random_moves

    found = random_moves(episodes=100, seed=3)
    assert found['steps'] == 100 * TIME_LIMIT
    assert 1 <= found['touched'] <= 20 and found['ended'] <= found['touched']
    assert found['rewarded_steps'] < 0.02 * found['steps']
    assert random_moves(episodes=20, seed=3) == random_moves(episodes=20, seed=3)


def test_every_never_seen_start_can_be_reached_in_an_episode_and_held():
    """A scripted policy that knows the answer (cutoff knob at its lowest, the offset knob that puts the
    processed signal nearest the goal) reaches each of 20 never-seen starts within the time limit, and
    stays: the task is solvable, and what an agent must learn is the way there. Its offset window is
    narrow (measured: 0.026-0.027 of the knob's range of 2), but wider than a quarter of one largest
    move, so a policy's last move can land in it."""
    from stepsignal.own_signal.scenarios import UNSEEN_SEED

    grid = np.linspace(-1.0, 1.0, 801)
    for seed in range(UNSEEN_SEED, UNSEEN_SEED + 20):
        env = SparseStepSignal(start_seed=seed)
        env.reset()
        reached = []
        for knob in grid:  # the offset knobs that succeed with the cutoff at its lowest
            env._set_action(np.array(env.physical_action(np.array([-1.0, knob]))))
            reached.append(np.linalg.norm(env.desired_signal - env.signal) < env.distance_threshold)
        window = grid[np.array(reached)]
        assert KNOB_STEP / 4 < np.ptp(window) < KNOB_STEP
        target = np.array([-1.0, window.mean()])
        env.reset()
        outcomes = []
        for _ in range(TIME_LIMIT):
            move = np.clip((target - env.knobs) / KNOB_STEP, -1.0, 1.0)
            outcomes.append(env.step(move.astype(np.float32))[4]['is_success'])
        first = outcomes.index(1.0)
        assert first < 2 / KNOB_STEP and all(outcomes[first:])  # across the whole range at most, and held


def test_a_check_runs_whole_episodes_and_counts_their_steps():
    """EpisodeCheck: each env a whole noise-free episode, scored by the mean return; a move to the
    same corner from every start ends there, so it ends at the same L2 wherever it started."""
    from stepsignal.own_signal.scenarios import CHECK_SEED
    from shared.scenario import StepRanges

    envs = [scenario_env(CHECK_SEED + i, StepRanges()) for i in range(3)]
    check = EpisodeCheck(envs, every=1000)
    assert check.steps_per_check == 3 * TIME_LIMIT
    outcome = episode_outcome(Fixed([1.0, 1.0]), envs[0])
    assert outcome['episode_steps'] == TIME_LIMIT and outcome['reward'] == -TIME_LIMIT and not outcome['success']
    score, median_l2, every_success = check(Fixed([1.0, 1.0]))
    assert score == -TIME_LIMIT and not every_success and median_l2 > 1.0
    again = episode_outcome(Fixed([1.0, 1.0]), envs[0])  # the env's first seed again: the same start
    assert again == outcome


def test_hindsight_relabels_a_sparse_episode_with_goals_it_reached():
    """The fixed agent's HER memory on the sparse env: a transition relabelled with its own step's
    achieved goal earns the reward 0 that the real goal never gave."""
    from fixed.hindsight import Hindsight, HindsightMemory, GoalRecorder, flat_goal_env

    env = sparse_env(seed=2)
    goals = GoalRecorder.under(flat_goal_env(env))
    memory = HindsightMemory(1000, 1, env.observation_space.shape, 2, goals=goals,
                             compute_reward=env.unwrapped.compute_reward, hindsight=Hindsight(strategy='episode', k=16))
    observation = env.reset()
    for _ in range(TIME_LIMIT):
        next_observation, reward, done, info = env.step(np.array([0.0, 0.0], dtype=np.float32))  # stay put
        assert reward == -1.0  # the real goal: not reached
        memory.append(observation[None], np.zeros(2, dtype=np.float32), reward, False, next_observation[None])
        observation = next_observation
    np.random.seed(0)
    _, _, rewards, _, _ = memory.sample(64)
    # Staying put, every step achieved the same signal: every relabelled transition reached its goal.
    assert 0.0 in rewards and set(np.unique(rewards)) <= {0.0, -1.0}
    assert np.mean(rewards == 0.0) > 0.8  # 16/17 of the batch relabelled


@pytest.mark.parametrize('her', [False, True], ids=['plain', 'her'])
def test_the_fixed_agent_trains_on_the_sparse_family_and_is_scored_on_never_seen_starts(her, tmp_path):
    from fixed.extras import Extras
    from fixed.hindsight import Hindsight
    from stepsignal.own_signal.sparse import GAMMA, train_sparse

    agent, result = train_sparse(tmp_path, seed=0, nb_steps=600, extras=Extras(hindsight=Hindsight() if her else None))
    assert result['hyperparameters']['gamma'] == GAMMA and result['hyperparameters']['max_episode_steps'] == TIME_LIMIT
    assert result['unseen']['scenarios'] == 100 and 0.0 <= result['unseen']['success_rate'] <= 1.0
    assert ('her' in result) == her
    assert result['steps'] == 600 and result['episode_steps'] == TIME_LIMIT  # the kept policy: a whole episode
    from stepsignal.experiments.sparse_her import environment_steps

    assert environment_steps(600) == (result['steps_trained'], len(result['checks']), result['env_steps'])


def test_the_sparse_her_tables_pool_the_never_seen_starts_with_their_interval(tmp_path):
    """stepsignal.experiments.sparse_her: one table per budget, a row per agent, the never-seen starts'
    spread over seeds and all seeds pooled with the 95% interval; a failed run counted and said."""
    import json

    from stepsignal.experiments.sparse_her import main
    from stepsignal.rates import success_rate

    def row(seed, rate, first=None):
        return {'seed': seed, 'steps_per_second': 50.0 + seed, 'unseen': {'success_rate': rate, 'scenarios': 100},
                'first_success_env_steps': first}

    runs = {'fixed 5000 0': row(0, 0.1, 5000), 'fixed 5000 1': row(1, 0.3, 2500), 'fixed-her 5000 0': row(0, 0.9),
            'fixed-her 5000 1': {'seed': 1, 'error': 'exit status 1: out of memory'}}
    moves = {'episodes': 300, 'seed': 0, 'touched': 24, 'ended': 3, 'rewarded_steps': 104, 'steps': 15000}
    out = tmp_path / 'sparse'
    assert main(['--seeds', '0,1', '--budgets', '5000', '--out', str(out), '--page-only']) == 0  # makes the folder
    (out / 'results.json').write_text(json.dumps({'machine': 'a test machine', 'date': '2026-12-07', 'runs': runs,
                                                  'random_moves': moves}))
    assert main(['--seeds', '0,1', '--budgets', '5000', '--out', str(out), '--page-only']) == 0
    page = (out / 'report.md').read_text()
    assert f'| fixed | 10% / 20% / 30% | {success_rate(40, 200)} | 2 | 5,000 | 50 |' in page
    assert f'| fixed --her | 90% / 90% / 90% | {success_rate(90, 100)} | 2 (1 failed to run) | never | 50 |' in page
    assert '| 0 | 10% / 90% |' in page and '| 1 | 30% / failed |' in page  # each seed: fixed / fixed --her
    assert 'SB3' not in page  # not measured: no row
    assert '4,000 training steps and 2 checks of 500 steps: 5,000 in all.' in page
    assert '](sparse_her.png)' in page and (out / 'sparse_her.png').stat().st_size > 10_000
    assert f'{success_rate(24, 300)} touch success at some step and {success_rate(3, 300)} end in it' in page
    with pytest.raises(SystemExit) as exit:
        main(['--methods', 'fixed,dqn', '--out', str(tmp_path / 'other'), '--page-only'])
    assert exit.value.code == 2 and not (tmp_path / 'other').exists()
