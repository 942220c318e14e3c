"""The checked fixed env (``stepsignal.own_signal.any_signal.AnySignal``, what the commands build) refuses a bad
argument at construction, with a message that names it and says what is allowed.

The original env takes the same values: some run on and give NaN rewards, others fail at the first
step with numpy's or gym's words, which name neither the argument nor what is allowed.
"""
import numpy as np
import pytest

from stepsignal.own_signal.any_signal import AnySignal

BAD_ARGUMENTS = {
    'sample rate 0': (dict(sample_rate=0), ['sample_rate is 0', 'above 0 samples per second']),
    'sample rate NaN': (dict(sample_rate=float('nan')), ['sample_rate is nan', 'finite']),
    'sample rate not a number': (dict(sample_rate='fast'), ["sample_rate must be a number", "'fast'"]),
    'negative distance threshold': (dict(distance_threshold=-1.0), ['distance_threshold is -1.0', 'above 0']),
    'offset range of 0': (dict(max_offset=0), ['max_offset is 0', 'above 0']),
    'no step per episode': (dict(time_limit=0), ['time_limit', '>= 1', '0']),
    'cutoff range reaching Nyquist': (dict(cutoff_range=(1.0, 15.0)), ['cutoff_range', 'Nyquist = 15.0 Hz']),
    'target of another length': (dict(desired_signal=np.zeros(100)), ['100 samples', 'same length']),
    'too short for the filter': (dict(input_signal=np.ones(6)), ['6 samples', 'at least 16']),
    'NaN in the input': (dict(input_signal=np.r_[np.ones(123), np.nan, np.ones(99)]), ['NaN', 'index 123']),
    'a target beyond float32': (dict(desired_signal=np.full(600, 1e308)), ['desired_signal reaches 1e+308', 'float32']),
    'nothing to do': (dict(input_signal=np.zeros(600), desired_signal=np.zeros(600)),
                      ['both the constant 0', 'nothing to filter or offset']),
}


@pytest.mark.parametrize('case', BAD_ARGUMENTS)
def test_fixed_env_refuses_a_bad_argument_by_name(case, scenario):
    arguments = dict(input_signal=scenario.input_signal, sample_rate=scenario.sample_rate,
                     desired_signal=scenario.desired_signal)
    changes, expected = BAD_ARGUMENTS[case]
    arguments.update(changes)
    if 'input_signal' in changes and 'desired_signal' not in changes:  # a target of the same length: only the input is wrong
        arguments['desired_signal'] = np.zeros_like(changes['input_signal'])
    with pytest.raises(ValueError) as raised:
        AnySignal(**arguments)
    for words in expected:
        assert words in str(raised.value)


def test_fixed_env_accepts_numbers_given_as_text_or_numpy(scenario):
    env = AnySignal(scenario.input_signal, str(scenario.sample_rate), scenario.desired_signal,
                    distance_threshold=np.float32(0.5))
    assert env.sample_rate == scenario.sample_rate and env.distance_threshold == 0.5


def test_original_env_takes_bad_arguments_and_runs_into_nan_or_a_cryptic_error(scenario):
    from original.env import StepSignal as OriginalStepSignal

    def first_reward(**changes):
        arguments = dict(input_signal=scenario.input_signal, sample_rate=scenario.sample_rate,
                         desired_signal=scenario.desired_signal)
        arguments.update(changes)
        env = OriginalStepSignal(**arguments)
        env.reset()
        return env.step(np.array([1.0, 0.0]))[1]

    assert np.isnan(first_reward(sample_rate=float('nan')))
    with_nan = scenario.input_signal.copy()
    with_nan[123] = np.nan
    assert np.isnan(first_reward(input_signal=with_nan))
    with pytest.raises(ZeroDivisionError) as raised:  # deep in butter_lowpass, at the first step
        first_reward(sample_rate=0)
    assert 'sample_rate' not in str(raised.value)


def test_the_time_limit_comes_from_the_table_the_run_is_given(tmp_path):
    """The env reads no table of its own: the registration passes the fixed table's time limit,
    and ``train`` passes the one of the table it is given."""
    import dataclasses
    import inspect

    import gymnasium

    import fixed  # noqa: F401  (registers stepsignal-v1)
    from fixed.env import StepSignal
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    assert inspect.signature(StepSignal).parameters['time_limit'].default == HYPERPARAMETERS.max_episode_steps
    assert gymnasium.make('stepsignal-v1').unwrapped.max_episode_steps == HYPERPARAMETERS.max_episode_steps
    hp = dataclasses.replace(HYPERPARAMETERS, nb_steps=100, max_episode_steps=7, check_every=None)
    agent, _ = train(tmp_path, seed=0, hp=hp)
    import json

    steps = json.loads((tmp_path / 'trace.json').read_text())['steps']
    episodes = [[step for step in steps if step['episode'] == number] for number in sorted({s['episode'] for s in steps})]
    for episode in episodes[:-1]:  # every finished one: truncated at the table's 7, or ended earlier by a success
        assert len(episode) == 7 or (len(episode) < 7 and episode[-1]['l2_distance'] < 1.0), episode[-1]
    assert any(len(episode) == 7 for episode in episodes)
