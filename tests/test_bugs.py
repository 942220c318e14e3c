"""One test per BUG-n: what the question's setup really does.

Each ``test_bug_N_*`` asserts the original's behaviour; its ``test_fix_N_*`` twin, beside it,
asserts what the fixed variant does instead on the same input. docs/bugs.md explains every pair.
"""
import json
import pickle

import numpy as np
import pytest
from scipy import signal

from stepsignal.scenario import question_scenario


def printed_action(capsys):
    """The (cutoff, offset) that the original env printed on its last step."""
    line = capsys.readouterr().out.strip().splitlines()[-1]
    cutoff, offset = (float(v) for v in line.split())
    return cutoff, offset


# BUG-1: the action rescaling drops `low`.
def test_bug_1_rescaling_drops_low(original_env, capsys):
    original_env.reset()
    original_env.step(np.array([-1.0, -1.0]))
    cutoff, offset = printed_action(capsys)
    assert offset == 0.0  # -1 should be the lowest offset, -2; it lands in the middle
    assert cutoff == pytest.approx(1e-3, rel=1e-2)  # only reached because the clip pulls 0 up

    offsets = []
    for raw in np.linspace(-1, 1, 21):
        original_env.reset()
        original_env.step(np.array([0.0, raw]))
        offsets.append(printed_action(capsys)[1])
    assert min(offsets) == 0.0  # no raw action in [-1, 1] gives a negative offset
    assert max(offsets) == 2.0 and offsets.index(2.0) == 10  # 0 already maps to the top


# BUG-2: every step filters the already-processed signal again.
def test_bug_2_same_action_twice_gives_two_different_signals(original_env):
    original_env.reset()
    action = np.array([-0.5, -0.9])
    first, *_ = original_env.step(action)
    second, *_ = original_env.step(action)
    assert not np.allclose(first['achieved_goal'], second['achieved_goal'])
    offset = original_env.action_space.high[1] * 2 / 2 * (action[1] + 1)
    # The second step subtracted the offset a second time, on top of the first.
    assert np.mean(first['achieved_goal'] - second['achieved_goal']) == pytest.approx(offset, rel=0.05)


# BUG-3: `done` is never True.
def test_bug_3_episode_never_ends(original_env):
    original_env.reset()
    dones = [original_env.step(np.array([a, 0.0]))[2] for a in np.linspace(-1, 1, 40)]
    assert not any(dones)


# BUG-4: warmups of 2000/10000 against nb_steps=10.
def test_bug_4_fit_changes_no_weight(original_run):
    agent, trace, _ = original_run
    assert agent.nb_steps_warmup_critic > trace['nb_steps'] and agent.nb_steps_warmup_actor > trace['nb_steps']
    assert trace['actor_weights_changed'] is False
    assert trace['critic_weights_changed'] is False


# BUG-5: the replay memory is smaller than the actor's warmup.
def test_bug_5_memory_forgets_before_actor_learns(original_env):
    from original.agent import build_agent
    from original.env import FlattenDictWrapper

    env = FlattenDictWrapper(original_env, dict_keys=['observation', 'desired_goal'])
    agent, _ = build_agent(env)
    memory = agent.memory
    obs = np.zeros(2, dtype=np.float32)
    for t in range(agent.nb_steps_warmup_actor + 1):  # up to the actor's first training step
        memory.append(obs + t, np.zeros(2), 0.0, False)
    assert memory.nb_entries == memory.limit == 2000
    oldest_kept = memory.observations[0][0]  # RingBuffer index 0 is the oldest entry
    assert oldest_kept == agent.nb_steps_warmup_actor + 1 - memory.limit  # 8001: 80% forgotten


# BUG-6: a linear, unbounded actor output.
def test_bug_6_actor_output_is_unbounded(original_run):
    _, trace, _ = original_run
    raw = np.array([step['action'] for step in trace['steps']])
    assert np.abs(raw).max() > 1.0  # the env's action space is [-1, 1] after its own rescaling


# BUG-7: float16 action bounds.
def test_bug_7_float16_bounds_hit_nyquist_at_16khz(capsys):
    from original.env import StepSignal

    rate = 16000
    x = np.linspace(0, 1, rate)
    env = StepSignal(0.5 * (np.sign(x - 0.5) + 9), rate, 3 * np.ones(rate))
    assert env.action_space.high[0] == rate / 2  # 7999.9 rounded onto Nyquist
    env.reset()
    with pytest.raises(ValueError, match='critical frequencies'):
        env.step(np.array([1.0, 0.0]))


# BUG-8: the (b, a) filter is numerically wrong at low cutoffs.
def test_bug_8_ba_filter_wrong_at_low_cutoff(scenario):
    from original.env import butter_lowpass_filter

    nyquist = scenario.sample_rate / 2
    broken = butter_lowpass_filter(scenario.input_signal, 1e-3, nyquist)
    sos = signal.butter(4, 1e-3 / nyquist, btype='lowpass', output='sos')
    stable = signal.sosfiltfilt(sos, scenario.input_signal)
    assert np.mean(broken) == pytest.approx(6.13, abs=0.05)  # above the input's maximum of 5
    assert np.mean(stable) == pytest.approx(4.0, abs=0.01)


# BUG-9: compute_reward's signature and sign break the GoalEnv contract.
def test_bug_9_compute_reward_breaks_goal_contract(original_env):
    original_env.reset()
    obs, reward, _, info = original_env.step(np.array([0.0, 0.0]))
    with pytest.raises(TypeError):
        original_env.compute_reward(obs['achieved_goal'], obs['desired_goal'], info)
    assert reward == -original_env.compute_reward(obs['achieved_goal'], obs['desired_goal'])
    assert reward != original_env.compute_reward(obs['achieved_goal'], obs['desired_goal'])


# BUG-10: float64 observations in a float32 space.
def test_bug_10_observations_outside_their_space(original_env):
    obs = original_env.reset()
    assert obs['observation'].dtype == np.float64
    assert not original_env.observation_space.contains(obs)


# BUG-11: OU noise that barely moves within an episode.
def test_bug_11_ou_noise_barely_moves_within_episode(original_run):
    agent, _, _ = original_run
    noise = agent.random_process
    np.random.seed(0)
    within, starts = [], []
    for _ in range(200):
        noise.reset_states()
        samples = np.array([noise.sample() for _ in range(5)])  # one 5-step episode
        within.append(np.ptp(samples, axis=0).max())
        starts.append(samples[0])
    # Within an episode the noise moves by a few hundredths of the [-1, 1] range...
    assert np.median(within) < 0.1
    # ...and what varies is only the level drawn at each reset.
    assert np.std(starts) > 0.2


# BUG-12: the time limit is stored as a terminal state.
def test_bug_12_time_limit_stored_as_terminal(original_run):
    agent, trace, _ = original_run
    memory = agent.memory
    terminals = [bool(memory.terminals[i]) for i in range(memory.nb_entries)]
    # Per episode fit stores 5 steps, then one extra transition after the end (reward 0).
    # The 5th step is stored as terminal although the env never said done (BUG-3).
    episode = [False, False, False, False, True, False]
    assert terminals == episode * 2
    assert len(trace['steps']) == 10


# BUG-13: a discrete-action policy created for DDPG.
def test_bug_13_boltzmann_policy_is_discrete_and_unused(original_env):
    from original.agent import build_agent
    from original.env import FlattenDictWrapper

    env = FlattenDictWrapper(original_env, dict_keys=['observation', 'desired_goal'])
    agent, policy = build_agent(env)
    choice = policy.select_action(q_values=np.array([0.3, -0.2]))
    assert choice in (0, 1)  # an index, not a continuous (cutoff, offset)
    assert not hasattr(agent, 'policy')  # DDPGAgent never received it


# BUG-14: print in step.
def test_bug_14_step_prints(original_env, capsys):
    original_env.reset()
    capsys.readouterr()
    for _ in range(3):
        original_env.step(np.array([0.0, 0.0]))
    assert len(capsys.readouterr().out.strip().splitlines()) == 3


# BUG-15: keras-rl2's int16 step counter under numpy 2.
def test_bug_15_int16_step_counter_wraps(original_run):
    from rl.callbacks import Callback

    agent, _, _ = original_run

    class TinyEnv:  # the cheapest env keras-rl can drive, so 32768 steps take seconds
        def reset(self):
            return np.zeros(2, dtype=np.float32)

        def step(self, action):
            return np.zeros(2, dtype=np.float32), 0.0, False, {}

    class StopWhenNegative(Callback):
        seen = []

        def on_step_end(self, step, logs={}):
            self.seen.append(int(agent.step))
            if agent.step < 0:
                raise KeyboardInterrupt  # keras-rl's own way out of fit

    forward, backward = agent.forward, agent.backward
    agent.forward = lambda observation: np.zeros(2)  # skip the networks, keep fit's own loop
    agent.backward = lambda reward, terminal=False: []
    try:
        with pytest.warns(RuntimeWarning, match='overflow'):
            agent.fit(TinyEnv(), nb_steps=40000, verbose=0, callbacks=[StopWhenNegative()])
    finally:
        agent.forward, agent.backward = forward, backward
    assert max(StopWhenNegative.seen) == 32767
    assert StopWhenNegative.seen[-1] == -32768  # below nb_steps again: fit would never end


# BUG-16: the history is saved with pickle.
def test_bug_16_history_pickled_with_numpy_types(original_run):
    _, _, out = original_run
    (path,) = out.glob('history_dqn_test_*.pickle')
    with open(path, 'rb') as handle:
        history = pickle.load(handle)
    assert isinstance(history['nb_episode_steps'][0], np.integer)  # numpy's class, pickled
    with pytest.raises(TypeError):
        json.dumps(history)


# BUG-17: raw observations go straight into the networks.
def test_bug_17_raw_observations_give_large_activations(original_run, scenario):
    agent, _, _ = original_run
    obs = np.concatenate([scenario.input_signal, scenario.desired_signal]).astype(np.float32)
    kernel, bias = agent.actor.layers[1].get_weights()
    pre_activation = obs @ kernel + bias
    assert np.std(pre_activation) > 3.0  # tanh(3) = 0.995: a bounded unit would be saturated


# BUG-18: noisy actions are stored unclipped.
def test_bug_18_noisy_actions_stored_unclipped(original_run):
    agent, _, _ = original_run
    memory = agent.memory
    stored = np.array([memory.actions[i] for i in range(memory.nb_entries)])
    assert np.abs(stored).max() > 1.0


# BUG-19: object-array state batches.
def test_bug_19_state_batch_is_object_array(original_run, scenario):
    agent, _, _ = original_run
    state = [np.concatenate([scenario.input_signal, scenario.desired_signal])]
    assert agent.process_state_batch([state]).dtype == object


# BUG-20: the input shape's leading 1 is typed by hand, apart from window_length.
def test_bug_20_window_length_hard_coded(original_run, scenario):
    from rl.memory import SequentialMemory

    agent, _, _ = original_run
    memory = agent.memory
    agent.memory = SequentialMemory(limit=2000, window_length=2)
    try:
        obs = np.concatenate([scenario.input_signal, scenario.desired_signal])
        with pytest.raises(ValueError, match='shape'):
            agent.forward(obs)
    finally:
        agent.memory = memory


# The asker's symptom: the applied actions stay in one neighbourhood across episodes.
def test_symptom_actions_stuck_in_one_neighbourhood(original_run):
    _, trace, _ = original_run
    steps = trace['steps']
    assert {s['episode'] for s in steps} == {0, 1} and len(steps) == 10
    applied = np.array([[s['cutoff_hz'], s['offset']] for s in steps])
    first, second = applied[:5], applied[5:]
    assert np.allclose(first, second)  # episode 2 applies what episode 1 applied
    assert all(s['l2_distance'] > 1.0 for s in steps)  # and never gets near the goal
