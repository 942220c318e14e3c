"""The fast paths compute the same things as the slow ones they replace.

Speed itself is measured in benchmarks, never asserted here.
"""
import numpy as np
import pytest
from scipy import signal


@pytest.mark.parametrize('cutoff', np.geomspace(1e-3, 14.85, 25))
def test_closed_form_butterworth_equals_scipys(cutoff):
    from fixed.env import butter_lowpass

    expected = signal.butter(4, cutoff / 15.0, btype='lowpass', output='sos')
    np.testing.assert_allclose(butter_lowpass(cutoff, 15.0), expected, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize('fast_update', [True, False], ids=['fast', 'plain-keras-rl2'])
@pytest.mark.parametrize('gamma, updates', [(0.99, 1), (0.0, 3)])
def test_fixed_agent_update_gives_stock_keras_rl_weights(gamma, updates, fast_update):
    """The same batch through stock keras-rl2's DDPG update and the fixed agent's (without the
    saturation penalty), on the fast path (one graph call) and on keras-rl2's own update with the
    actor step rebuilt through the ``actor_loss`` hook.

    With gamma > 0 the targets come from the target networks, whose soft update keras-rl2 runs
    in the same graph call as the optimizer step, reading the weights before or after it (the fast
    update: after, always): the runs then drift apart by tau per step, so that case is compared
    after one update. With
    gamma = 0, three updates in a row also check the order (the actor must see the new critic).
    """
    from rl.agents import DDPGAgent
    from rl.memory import Experience, SequentialMemory
    from tensorflow.keras.optimizers.legacy import Adam

    from fixed.agent import build_actor, build_critic
    from fixed.keras_rl2_fixes import FastFixedDDPGAgent, FixedDDPGAgent
    from fixed.hooked_ddpg import EpisodeMemory
    from fixed.replay import ReplayMemory
    from fixed.train import make_env

    env = make_env()
    settings = dict(nb_actions=2, gamma=gamma, batch_size=8, nb_steps_warmup_critic=1, nb_steps_warmup_actor=1,
                    target_model_update=1e-2)

    def agent(cls, memory, **extra):
        actor = build_actor(env)
        critic, action_input = build_critic(env)
        built = cls(actor=actor, critic=critic, critic_action_input=action_input, memory=memory, **settings, **extra)
        built.compile([Adam(learning_rate=1e-3, clipnorm=1.), Adam(learning_rate=1e-3, clipnorm=1.)], metrics=['mae'])
        return built

    stock = agent(DDPGAgent, SequentialMemory(limit=100, window_length=1))
    if fast_update:
        ours = agent(FastFixedDDPGAgent, ReplayMemory(100, 1, env.observation_space.shape, 2), saturation_penalty=0.0)
    else:
        ours = agent(FixedDDPGAgent, EpisodeMemory(limit=100, window_length=1), saturation_penalty=0.0)
    for name in ('actor', 'critic', 'target_actor', 'target_critic'):
        getattr(ours, name).set_weights(getattr(stock, name).get_weights())

    rng = np.random.default_rng(0)
    n = settings['batch_size']
    state0 = rng.normal(size=(n, 1, 1200)).astype(np.float32)
    state1 = rng.normal(size=(n, 1, 1200)).astype(np.float32)
    action = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    reward = rng.normal(size=n).astype(np.float32)
    terminal1 = np.array([False, True] * (n // 2))

    stock.memory.sample = lambda batch_size: [Experience(state0[i], action[i], reward[i], state1[i], terminal1[i])
                                              for i in range(n)]
    stock.memory.append = lambda *args, **kwargs: None
    if fast_update:
        ours.memory.sample = lambda batch_size: (state0, action, reward, terminal1, state1)
        ours.memory.nb_entries = n
    else:
        ours.memory.sample, ours.memory.append = stock.memory.sample, stock.memory.append
    before = stock.actor.get_weights() + stock.critic.get_weights()
    targets_before = {name: getattr(ours, name).get_weights() for name in ('target_actor', 'target_critic')}
    for each in (stock, ours):
        each.training, each.step = True, 10
        each.recent_observation, each.recent_action, each._state = state0[0], action[0], state0[0]
        for _ in range(updates):  # Adam's first step is only the gradient's sign: more tell more
            each.backward(0.0, terminal=False)

    after_stock = stock.actor.get_weights() + stock.critic.get_weights()
    after_fast = ours.actor.get_weights() + ours.critic.get_weights()
    assert any(not np.allclose(b, a) for b, a in zip(before, after_stock))  # the update did something
    for s, f in zip(after_stock, after_fast):
        np.testing.assert_allclose(f, s, rtol=1e-5, atol=1e-6)
    # The soft target updates read the source before or after its step: they agree to tau * steps.
    one_step_of_tau = settings['target_model_update'] * 1e-3 * 2 * updates
    for name in ('target_actor', 'target_critic'):
        for s, f in zip(getattr(stock, name).get_weights(), getattr(ours, name).get_weights()):
            np.testing.assert_allclose(f, s, rtol=0, atol=one_step_of_tau)
        # ... and our agent's targets do move: keras-rl hands its soft updates over as
        # (variable, new value) pairs, which a graph call must turn into assignments.
        assert any(not np.array_equal(b, a) for b, a in zip(targets_before[name], getattr(ours, name).get_weights()))


def test_with_gamma_0_the_memory_keeps_no_next_states_and_the_updates_are_the_same():
    """FIX-22's gamma 0: the update never reads the state after a transition, so build_agent's
    memory keeps none (half the memory); the same transitions and seed give the same weights to
    the bit as a memory that keeps them. With gamma 0.99 (FIX-22 reverted) they are kept."""
    import dataclasses

    from fixed.agent import build_agent
    from fixed.replay import ReplayMemory
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import make_env

    env = make_env()
    hp = dataclasses.replace(HYPERPARAMETERS, batch_size=8, nb_steps_warmup_critic=8, nb_steps_warmup_actor=8)
    assert build_agent(env, dataclasses.replace(hp, gamma=0.99), training_steps=100).memory.states1 is not None
    rng = np.random.default_rng(0)
    shape = env.observation_space.shape
    transitions = [(rng.normal(size=(1,) + shape), rng.uniform(-1, 1, size=2), rng.normal(), False,
                    rng.normal(size=(1,) + shape)) for _ in range(20)]

    def three_updates(next_states, start=None):
        agent = build_agent(env, hp, training_steps=100)
        assert agent.memory.states1 is None
        agent.memory = ReplayMemory(100, 1, shape, 2, next_states=next_states)
        if start is not None:
            agent.actor.set_weights(start[0])
            agent.critic.set_weights(start[1])
        start = agent.actor.get_weights(), agent.critic.get_weights()
        for transition in transitions:
            agent.memory.append(*transition)
        np.random.seed(0)
        agent.training, agent.step = True, 50
        for _ in range(3):
            agent._update()
        return start, agent.actor.get_weights() + agent.critic.get_weights()

    start, without = three_updates(next_states=False)
    _, kept = three_updates(next_states=True, start=start)
    assert any(not np.array_equal(a, b) for a, b in zip(start[0] + start[1], without))  # they learnt
    for a, b in zip(without, kept):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('nyquist, cutoff', [(15.0, 1e-3), (15.0, 0.05), (15.0, 14.85), (4000.0, 1.0),
                                             (24000.0, 100.0), (24000.0, 23760.0)])
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_env_filter_equals_scipys_sosfiltfilt_bit_for_bit(nyquist, cutoff, dtype):
    from fixed import filters
    from fixed.env import butter_lowpass, butter_lowpass_filter

    data = (np.random.default_rng(0).normal(size=3000) + 4).astype(dtype)
    sos = butter_lowpass(cutoff, nyquist)
    np.testing.assert_array_equal(butter_lowpass_filter(data, cutoff, nyquist), signal.sosfiltfilt(sos, data))
    # A long float32 channel of your own audio is filtered as its float64 copy would be, without the copy
    np.testing.assert_array_equal(filters.sosfiltfilt(sos, data, in_float64=True),
                                  signal.sosfiltfilt(sos, data.astype(np.float64)))
    channels = np.column_stack([data, data[::-1]])  # several channels: each as if alone (your own signal)
    np.testing.assert_array_equal(butter_lowpass_filter(channels, cutoff, nyquist),
                                  signal.sosfiltfilt(sos, channels, axis=0))
    # laid out as scipy's answer is (a reversed view), so what is computed from it sums in the same order
    assert filters.sosfiltfilt(sos, data).strides == signal.sosfiltfilt(sos, data).strides


def test_the_filter_works_in_one_array_beside_its_input():
    """Both passes run in place in the extended copy: a long signal costs one float64 array more,
    not scipy's three (measured: 1.15 and 3.0 times the input, for a million samples)."""
    import tracemalloc

    from fixed import filters
    from fixed.env import butter_lowpass

    data = np.random.default_rng(0).normal(size=1_000_000)
    tracemalloc.start()
    try:
        filters.sosfiltfilt(butter_lowpass(100.0, 24000.0), data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * data.nbytes


@pytest.mark.parametrize('length', [0, 1, 7, 8, 9, 16, 17, 31, 33, 1000])
def test_reversing_in_place_a_block_at_a_time_reverses(length):
    from fixed.filters import _reverse_in_place

    values = np.arange(length, dtype=np.float64)
    _reverse_in_place(values, block=4)
    np.testing.assert_array_equal(values, np.arange(length, dtype=np.float64)[::-1])


@pytest.mark.parametrize('rate', [30, 8000, 16000, 44100, 48000, 96000, 192000, 384000])
def test_the_lowest_cutoff_passes_a_constant_at_every_rate(rate):
    """FIX-8 at audio rates: the env's lowest cutoff passes a constant to within 1e-6, up to 384 kHz.

    Below ``fixed.filters.lowest_accurate_cutoff`` it does not (0.018 off at 0.001 Hz and 48 kHz)
    and at 384 kHz scipy could not even set the filter up; the env's range starts there instead.
    """
    from fixed.env import StepSignal

    n = int(min(rate, 48000))
    env = StepSignal(np.full(n, 0.5), rate, np.full(n, 0.3))
    env.reset()
    *_, info = env.step(np.array([-1.0, 0.0], dtype=np.float32))
    assert info['cutoff_hz'] == pytest.approx(max(1e-3, 2e-5 * rate / 2))
    assert np.max(np.abs(env.signal - 0.5)) / 0.5 < 1e-6 + 1e-7  # float32 output: its own rounding is 6e-8


def test_a_run_whose_update_bootstraps_repeats_from_its_seed(tmp_path):
    """With gamma above 0 the update reads the target networks, and their soft update is in the same
    graph call as the optimizer steps: unordered, a run differs from its repeat by when each read
    happened (it did, before the kit ordered them). The fast update orders them (the step, then the
    target moves), so it repeats to the bit. keras-rl2's own update (``fast_update=False``) leaves
    its critic's order to TensorFlow."""
    import dataclasses

    from fixed.extras import Extras
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    hp = dataclasses.replace(HYPERPARAMETERS, nb_steps=700, gamma=0.95)
    runs = []
    for name in ('first', 'again'):
        agent, result = train(tmp_path / name, seed=4, hp=hp, extras=Extras())
        runs.append(([c['l2_distance'] for c in result['checks']], agent.target_critic.get_weights()))
    assert runs[0][0] == runs[1][0]
    for first, again in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(first, again)
