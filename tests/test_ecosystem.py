"""The kit in the ecosystem: Gymnasium ids, declared bounds, Gymnasium's and Stable-Baselines3's checkers.

SB3's checker is only in the bench extra (``pip install -e ".[bench]"``); its tests are skipped
without it.
"""
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import fixed  # noqa: F401  (registers stepsignal-v1)
from fixed.env import FlattenDictWrapper
from fixed import filters
from stepsignal.own_signal.view import DownsampleObservation
from stepsignal.own_signal.any_signal import AnySignal
from stepsignal.own_signal.scenarios import RandomStepSignal

WRAPPED_WARNING = 'is different from the unwrapped version'
"""Gymnasium's checker on a wrapped env: it is meant for the env itself (``env.unwrapped``)."""


def caught_warnings(function, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        function(*args, **kwargs)
    return [str(w.message) for w in caught]


def question_env():
    return gymnasium.make('stepsignal-v1').unwrapped


def audio_env(**kwargs):
    rng = np.random.default_rng(0)
    signal = np.sin(np.arange(48_000) / 50.0) + 0.1 * rng.standard_normal(48_000)
    return AnySignal(signal, 48_000, np.zeros(48_000), **kwargs)


# -- Gymnasium ids ------------------------------------------------------------------------------

def test_stepsignal_v1_without_arguments_is_the_question_scenario(scenario):
    env = gymnasium.make('stepsignal-v1')
    observation, _ = env.reset(seed=0)
    np.testing.assert_array_equal(observation['observation'], scenario.input_signal.astype(np.float32))
    np.testing.assert_array_equal(observation['desired_goal'], scenario.desired_signal.astype(np.float32))
    assert env.unwrapped.sample_rate == scenario.sample_rate


def test_stepsignal_v1_is_the_fixed_env_and_v0_is_not_registered_with_gymnasium():
    assert gymnasium.spec('stepsignal-v1').entry_point == 'fixed.env:StepSignal'
    # v0 is the question's env, registered with gym (original/__init__.py), not with Gymnasium.
    with pytest.raises(gymnasium.error.Error):
        gymnasium.spec('stepsignal-v0')


def test_random_family_is_made_by_its_module_prefixed_id():
    env = gymnasium.make('stepsignal.own_signal.scenarios:stepsignal-random-v0')
    first, _ = env.reset(seed=3)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first['observation'], again['observation'])
    assert isinstance(env.unwrapped, RandomStepSignal)


# -- declared observation bounds -----------------------------------------------------------------

@pytest.mark.parametrize('normal_cutoff', [1e-4, 1e-2, 0.5, 0.9, 0.99])
def test_filter_gain_bound_holds_up_to_the_highest_cutoff(normal_cutoff):
    sos = filters.butter_lowpass_sos(4, normal_cutoff)
    impulse = np.zeros(min(2_000_000, int(200 / normal_cutoff)))
    impulse[0] = 1.0
    from scipy import signal

    assert np.abs(signal.sosfilt(sos, impulse)).sum() <= filters.LARGEST_GAIN


@pytest.mark.parametrize('make', [
    lambda: question_env(),
    lambda: audio_env(),
    lambda: AnySignal(np.r_[np.zeros(300), np.ones(300)] * 1e6, 1000, np.full(600, -3e6)),
    lambda: RandomStepSignal(),
], ids=['question', 'audio', 'large-step', 'random-family'])
def test_observations_stay_inside_finite_bounds_at_extreme_actions(make):
    env = make()
    for space in env.observation_space.spaces.values():
        assert np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))
    rng = np.random.default_rng(1)
    corners = [np.array(corner, dtype=np.float32) for corner in ([-1, -1], [-1, 1], [1, -1], [1, 1])]
    for episode in range(3):
        observation, _ = env.reset(seed=episode)
        assert env.observation_space.contains(observation)
        for action in corners + [rng.uniform(-1, 1, 2).astype(np.float32) for _ in range(4)]:
            observation, *_ = env.step(action)
            assert env.observation_space.contains(observation), (action, {
                key: (float(value.min()), float(value.max())) for key, value in observation.items()})


def test_the_bounds_are_not_infinite_in_disguise():
    # The question's step spans 4..5 and an offset of at most 2: the achieved goal's bound is wide
    # (13.5 spreads each side) but not astronomically so.
    space = question_env().observation_space
    assert space['observation'].low.min() == pytest.approx(4.0, rel=1e-5)
    assert space['observation'].high.max() == pytest.approx(5.0, rel=1e-5)
    assert -20 < space['achieved_goal'].low.min() < space['achieved_goal'].high.max() < 30


def test_flattening_and_the_compact_view_keep_the_bounds():
    env = audio_env()
    compact = DownsampleObservation(env, keys=['observation', 'desired_goal'], size=600)
    flat = FlattenDictWrapper(compact, dict_keys=['observation', 'desired_goal'])
    assert flat.observation_space.shape == (1200,)
    assert flat.observation_space.low[0] == pytest.approx(env.observation_space['observation'].low[0], rel=1e-5)
    assert flat.observation_space.high[-1] == pytest.approx(env.observation_space['desired_goal'].high[0], rel=1e-5)
    observation, _ = flat.reset(seed=0)
    assert flat.observation_space.contains(observation)


# -- Gymnasium's checker -------------------------------------------------------------------------

@pytest.mark.parametrize('make', [
    lambda: gymnasium.make('stepsignal-v1').unwrapped,
    lambda: audio_env(),
    lambda: audio_env(cutoff_range=(20, 10_000)),
    lambda: gymnasium.make('stepsignal.own_signal.scenarios:stepsignal-random-v0').unwrapped,
], ids=['stepsignal-v1', 'audio', 'audio-range', 'random-family'])
def test_gymnasium_check_env_passes_without_a_warning(make):
    assert caught_warnings(check_env, make(), skip_render_check=True) == []


@pytest.mark.parametrize('make', [
    lambda: FlattenDictWrapper(gymnasium.make('stepsignal-v1'), ['observation', 'desired_goal']),
    lambda: FlattenDictWrapper(DownsampleObservation(audio_env(), ['observation', 'desired_goal'], 600),
                               ['observation', 'desired_goal']),
], ids=['question-training-env', 'audio-training-env'])
def test_gymnasium_check_env_on_the_training_envs_warns_only_that_they_are_wrapped(make):
    # The env keras-rl trains on, before its old-step-API adapter: check_env passes, re-creating
    # it through the wrappers' recorded arguments; its one warning is that it is wrapped.
    messages = caught_warnings(check_env, make(), skip_render_check=True)
    assert len(messages) == 1 and WRAPPED_WARNING in messages[0]


# -- Stable-Baselines3's checker -----------------------------------------------------------------

@pytest.mark.parametrize('make', [
    lambda: gymnasium.make('stepsignal-v1').unwrapped,
    lambda: audio_env(),
    lambda: gymnasium.make('stepsignal.own_signal.scenarios:stepsignal-random-v0').unwrapped,
], ids=['stepsignal-v1', 'audio', 'random-family'])
def test_sb3_check_env_passes_without_a_warning(make):
    env_checker = pytest.importorskip('stable_baselines3.common.env_checker',
                                      reason='Stable-Baselines3 is in the bench extra: pip install -e ".[bench]"')
    assert caught_warnings(env_checker.check_env, make()) == []


def test_sb3_check_env_refuses_a_flattened_goal_env_as_documented():
    # SB3 counts any env whose base has compute_reward as goal-conditioned, and those must keep
    # Dict observations; keras-rl needs them flat. FlattenDictWrapper's docstring says so.
    env_checker = pytest.importorskip('stable_baselines3.common.env_checker',
                                      reason='Stable-Baselines3 is in the bench extra: pip install -e ".[bench]"')
    flat = FlattenDictWrapper(question_env(), ['observation', 'desired_goal'])
    with pytest.raises(AssertionError, match='require the observation space to be gymnasium.spaces.Dict'):
        env_checker.check_env(flat)
