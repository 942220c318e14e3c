"""The question's environment, corrected, on Gymnasium.

Each change from original/env.py is marked ``# FIX-n`` with the number of the bug it corrects;
docs/bugs.md explains them. ``diff -u original/env.py fixed/env.py`` reads as the list of fixes.
"""
import logging
import math

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from scipy import signal

from stepsignal.checks import positive_number
from stepsignal.scenario import StepRanges, random_step_scenario

log = logging.getLogger(__name__)

# Default physical ranges. The lowest cutoff is the question's 10e-4 Hz; the highest stays a
# safe margin below Nyquist at any sample rate (the question's sample_rate/2 - 0.1 does not).
DEFAULT_LOWEST_CUTOFF_HZ = 1e-3
DEFAULT_HIGHEST_CUTOFF_FRACTION_OF_NYQUIST = 0.99
FILTER_ORDER = 4
MAX_OBSERVED_SAMPLES = 600
"""Longest signal the agent sees sample by sample (the question's 600); longer ones are shown to
it as this many block averages (``DownsampleObservation``)."""


def butter_lowpass(cutoff, nyq_freq, order=FILTER_ORDER):
    """The Butterworth low-pass of ``signal.butter(order, cutoff / nyq_freq, output='sos')``.

    The same second-order sections, in the same order (``tests/test_speed.py`` compares them),
    computed in closed form: 25 us instead of scipy's 600 us, which is half of an env step.
    Even orders only.
    """
    normal_cutoff = float(cutoff) / nyq_freq
    # FIX-8: second-order sections stay accurate at any cutoff; (b, a) does not at low ones.
    # Analog prototype poles (upper half of the left half-plane), prewarped for the bilinear
    # transform at fs=2 as scipy does, mapped to z; each conjugate pair is one section.
    k = np.arange(1, order // 2 + 1)
    warped = 4.0 * np.tan(np.pi * normal_cutoff / 2.0)
    poles = warped * np.exp(1j * np.pi * (2 * k + order - 1) / (2 * order))
    z = (4.0 + poles) / (4.0 - poles)
    sos = np.zeros((order // 2, 6))
    sos[:, :4] = [1.0, 2.0, 1.0, 1.0]  # zeros at z = -1, a0 = 1
    sos[:, 4] = -2.0 * z.real
    sos[:, 5] = np.abs(z) ** 2
    sos = np.ascontiguousarray(sos[::-1])  # scipy's order: the poles nearest the unit circle last
    sos[0, :3] *= warped ** order / np.prod(np.abs(4.0 - poles) ** 2)  # the gain, in the first section
    return sos


def butter_lowpass_filter(data, cutoff_freq, nyq_freq, order=FILTER_ORDER):
    sos = butter_lowpass(cutoff_freq, nyq_freq, order=order)
    y = signal.sosfiltfilt(sos, data)
    return y


def sosfiltfilt(sos, zi, data):
    """``scipy.signal.sosfiltfilt(sos, data)`` for 1-D data, given ``zi = signal.sosfilt_zi(sos)``.

    The same steps as scipy's (an odd extension of 3 x (2 x sections + 1) samples at each end,
    then a forward and a backward ``sosfilt``, each started in steady state), so the same result
    to the last bit (``tests/test_speed.py``). ``zi`` depends only on the filter, so the env
    keeps it with the filter instead of solving for it at every step.
    """
    edge = 3 * (2 * len(sos) + 1)
    extended = np.concatenate((2 * data[0] - data[edge:0:-1], data, 2 * data[-1] - data[-2:-(edge + 2):-1]))
    forward, _ = signal.sosfilt(sos, extended, zi=zi * extended[0])
    backward, _ = signal.sosfilt(sos, forward[::-1], zi=zi * forward[-1])
    return backward[::-1][edge:-edge]


def min_signal_length(order=FILTER_ORDER):
    """The shortest signal ``sosfiltfilt`` can filter with its default padding, plus one."""
    return 3 * (2 * math.ceil(order / 2) + 1) + 1


class GoalEnv(gym.Env):
    """The GoalEnv contract (gym 0.21, now Gymnasium-Robotics' ``GoalEnv``), on Gymnasium.

    A goal-based env has Dict observations with ``observation``, ``achieved_goal`` and
    ``desired_goal``, and its reward is always ``compute_reward(achieved_goal, desired_goal,
    info)``, also for batches of goals, so that goals can be substituted afterwards (hindsight
    experience replay).
    """

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if not isinstance(self.observation_space, spaces.Dict):
            raise gym.error.Error('GoalEnv requires an observation space of type gymnasium.spaces.Dict')
        for key in ['observation', 'achieved_goal', 'desired_goal']:
            if key not in self.observation_space.spaces:
                raise gym.error.Error(f'GoalEnv requires the "{key}" key to be part of the observation dictionary.')

    def compute_reward(self, achieved_goal, desired_goal, info):
        raise NotImplementedError


class StepSignal(GoalEnv):
    """Low-pass filter a signal and subtract an offset so that it matches a desired signal.

    ## Description
    Each step applies ``filter(input_signal, cutoff) - offset`` to the episode's input signal,
    where the filter is a zero-phase 4th-order Butterworth low-pass (``sosfiltfilt``). The agent
    picks the cutoff and the offset; the goal is the desired signal. The question's scenario is a
    step from 4 to 5 that should become a flat 3: the best the filter can do is a very low cutoff,
    which leaves the starting level 4.0 everywhere, and an offset of 1.0 (docs/optimum.md).

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: ``[cutoff, offset]``, each mapped onto its physical range so
    that -1 gives the lowest value and +1 the highest. The cutoff is mapped on a log scale,
    ``low * (high / low) ** ((a + 1) / 2)``, because what the filter does depends on the cutoff's
    order of magnitude: linearly, every cutoff below 0.03 Hz would share the last 0.2% of the
    range. The offset is mapped linearly onto ``[-max_offset, max_offset]``, where
    ``max_offset`` is the spread of both signals together. Actions outside [-1, 1] are clipped.

    ## Observation Space
    ``Dict`` of three float32 ``Box(-inf, inf, (n,))``: ``observation`` is the input signal,
    ``achieved_goal`` the processed signal (the input itself before the first step),
    ``desired_goal`` the desired signal.

    ## Rewards
    ``compute_reward(achieved_goal, desired_goal, info) = -RMS(achieved_goal - desired_goal)``,
    the question's L2 distance divided by sqrt(n) so that the reward does not grow with the
    signal's length. It works on batches (any leading axes).

    ## Starting State
    The processed signal equals the input. The env draws no random numbers; ``seed`` is accepted
    for the Gymnasium API.

    ## Episode End
    Terminated when the L2 distance to the goal is below ``distance_threshold`` (the question's
    success). Truncated after ``max_episode_steps`` steps.

    ## Arguments
    - ``input_signal``, ``desired_signal``: 1-D arrays of the same length (at least
      ``min_signal_length()`` samples), all finite.
    - ``sample_rate``: samples per second, > 0.
    - ``cutoff_range``: ``(lowest, highest)`` cutoff in Hz, ``0 < lowest < highest < Nyquist``.
      Default ``(1e-3, 0.99 * Nyquist)``.
    - ``distance_threshold``: L2 distance counted as success, default 1.0 (the question's 10e-1).
    - ``max_episode_steps``: the time limit, default 10.
    - ``max_offset``: the offset range is ``[-max_offset, max_offset]``; default the spread of
      both signals together.

    ``gymnasium.utils.env_checker.check_env`` passes without warnings.
    """

    metadata = {'render_modes': []}

    def __init__(self, input_signal, sample_rate, desired_signal, cutoff_range=None,
                 distance_threshold=1.0, max_episode_steps=10, max_offset=None):
        super(StepSignal, self).__init__()
        # FIX-10: float32 throughout, so observations lie inside their float32 spaces.
        self.initial_signal = _checked_signal('input_signal', input_signal)
        self.desired_signal = _checked_signal('desired_signal', desired_signal)
        if self.desired_signal.shape != self.initial_signal.shape:
            raise ValueError(f'desired_signal has {self.desired_signal.size} samples but input_signal has '
                             f'{self.initial_signal.size}: they must be the same length')
        self.signal = self.initial_signal.copy()
        self.sample_rate = positive_number(sample_rate, 'sample_rate', 'samples per second')
        self.cutoff_range = _checked_cutoff_range(cutoff_range, self.sample_rate)
        self.distance_threshold = positive_number(distance_threshold, 'distance_threshold')
        if not (isinstance(max_episode_steps, (int, np.integer)) and max_episode_steps >= 1):
            raise ValueError(f'max_episode_steps must be an integer >= 1, got {max_episode_steps!r}')
        self.max_episode_steps = int(max_episode_steps)
        self.elapsed_steps = 0
        if max_offset is None:
            max_offset = abs(max(max(self.desired_signal), max(self.signal))
                             - min(min(self.desired_signal), min(self.signal)))
        max_offset = positive_number(max_offset, 'max_offset')
        # FIX-7: the physical bounds stay float64 (float16 rounded them onto Nyquist); the agent
        # sees [-1, 1] in float32.
        self.physical_low = np.array([self.cutoff_range[0], -max_offset])
        self.physical_high = np.array([self.cutoff_range[1], max_offset])
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)
        self._filter_cache = (None, None, None)  # (cutoff, sos, zi): redesign only when the cutoff changes
        obs = self._get_obs()
        self.observation_space = spaces.Dict(dict(
            desired_goal=spaces.Box(-np.inf, np.inf, shape=obs['achieved_goal'].shape, dtype='float32'),
            achieved_goal=spaces.Box(-np.inf, np.inf, shape=obs['achieved_goal'].shape, dtype='float32'),
            observation=spaces.Box(-np.inf, np.inf, shape=obs['observation'].shape, dtype='float32'),
        ))

    def step(self, action):
        # FIX-1: -1 maps to low and +1 to high, exactly (cutoff on a log scale, see the docstring).
        cutoff, offset = self.physical_action(action)
        self._set_action(np.array([cutoff, offset]))
        obs = self._get_obs()
        info = {
            'is_success': self._is_success(obs['achieved_goal'], self.desired_signal),
            'l2_distance': float(np.linalg.norm(self.desired_signal - obs['achieved_goal'])),
            'cutoff_hz': float(cutoff),
            'offset': float(offset),
        }
        # FIX-9: the reward *is* compute_reward(achieved, desired, info), the GoalEnv contract.
        reward = float(self.compute_reward(obs['achieved_goal'], self.desired_signal, info))
        # FIX-3: the episode ends by itself: terminated on success, truncated at the time limit.
        self.elapsed_steps += 1
        terminated = bool(info['is_success'])
        truncated = self.elapsed_steps >= self.max_episode_steps and not terminated
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed, options=options)
        self.signal = self.initial_signal.copy()
        self.elapsed_steps = 0
        return self._get_obs(), {}

    def physical_action(self, action):
        """Map a raw action in [-1, 1]^2 to ``(cutoff_hz, offset)``; -1 -> low, +1 -> high."""
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        fraction = (action + 1.0) / 2.0
        low, high = self.physical_low, self.physical_high
        cutoff = low[0] * (high[0] / low[0]) ** fraction[0]
        offset = low[1] + fraction[1] * (high[1] - low[1])
        return min(max(cutoff, low[0]), high[0]), offset

    def _set_action(self, actions):
        cutoff = actions[0]
        offset = actions[1]
        # FIX-14: logging, off unless asked for, instead of print; info carries both values.
        log.debug('cutoff %.6g Hz, offset %.6g', cutoff, offset)
        # FIX-2: always filter the episode's input, so the same action gives the same signal:
        # achieved = filter(input) - offset, as the question intends.
        filtered = self._lowpass(self.initial_signal, cutoff)
        self.signal = (filtered - offset).astype(np.float32)

    def _lowpass(self, data, cutoff):
        cached_cutoff, sos, zi = self._filter_cache
        if cutoff != cached_cutoff:
            sos = butter_lowpass(cutoff, self.sample_rate / 2)
            zi = signal.sosfilt_zi(sos)
            self._filter_cache = (cutoff, sos, zi)
        return sosfiltfilt(sos, zi, data)

    def _get_obs(self):
        return {
            'observation': self.initial_signal.copy(),
            'achieved_goal': self.signal.copy(),
            'desired_goal': self.desired_signal.copy(),
        }

    def compute_reward(self, achieved_goal, desired_goal, info):
        # FIX-21: the RMS error, L2 / sqrt(n), does not grow with the signal's length.
        # FIX-9: works on one goal or a batch: the distance runs over the last axis only.
        d = np.linalg.norm(np.asarray(desired_goal) - np.asarray(achieved_goal), axis=-1)
        return -d / np.sqrt(np.shape(desired_goal)[-1])

    def _is_success(self, achieved_goal, desired_goal):
        d = np.linalg.norm(np.asarray(desired_goal) - np.asarray(achieved_goal), axis=-1)
        return (d < self.distance_threshold).astype(np.float32)


def _checked_signal(name, values):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f'{name} must be a 1-D array of numbers: {error}') from None
    if array.ndim != 1:
        raise ValueError(f'{name} must be 1-D (one channel), got shape {array.shape}')
    if array.size < min_signal_length():
        raise ValueError(f'{name} has {array.size} samples; the filter needs at least {min_signal_length()}')
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f'{name} has {bad.size} NaN or infinite samples (first at index {bad[0]}: '
                         f'{array[bad[0]]}); all samples must be finite')
    return array.astype(np.float32)


def _checked_cutoff_range(cutoff_range, sample_rate):
    nyquist = sample_rate / 2
    if cutoff_range is None:
        low = DEFAULT_LOWEST_CUTOFF_HZ
        high = DEFAULT_HIGHEST_CUTOFF_FRACTION_OF_NYQUIST * nyquist
        if not low < high:
            raise ValueError(f'sample_rate {sample_rate} Hz is too low for the default lowest cutoff '
                             f'{low} Hz; pass cutoff_range=(low, high) with 0 < low < high < {nyquist}')
        return low, high
    try:
        low, high = (float(v) for v in cutoff_range)
    except (TypeError, ValueError):
        raise ValueError(f'cutoff_range must be (lowest_hz, highest_hz), got {cutoff_range!r}') from None
    if not (0 < low < high < nyquist):
        raise ValueError(f'cutoff_range {cutoff_range!r} is not allowed at {sample_rate} Hz: it needs '
                         f'0 < lowest < highest < Nyquist = {nyquist} Hz')
    return low, high


class RandomStepSignal(StepSignal):
    """``StepSignal`` on a new step scenario at every reset, to train an agent that generalises.

    The same env in every other respect (read ``StepSignal``'s docstring). At each reset the input
    and the desired signal are drawn from ``ranges`` (``stepsignal.scenario.StepRanges``: step
    time, level before and after the step, target level) with the env's own generator, so
    ``reset(seed=...)`` makes the sequence of scenarios repeatable. The offset range is fixed for
    the whole family (``ranges.max_offset()``), so that an action means the same in every scenario.

    ## Arguments
    - ``ranges``: a ``StepRanges``; default the question's scenario, varied (see its fields).
    - ``distance_threshold``, ``max_episode_steps``: as for ``StepSignal``.
    """

    def __init__(self, ranges=None, distance_threshold=1.0, max_episode_steps=10):
        self.ranges = ranges or StepRanges()
        first = random_step_scenario(np.random.default_rng(0), self.ranges)  # sets the shapes only
        super().__init__(first.input_signal, first.sample_rate, first.desired_signal,
                         distance_threshold=distance_threshold, max_episode_steps=max_episode_steps,
                         max_offset=self.ranges.max_offset())

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed, options=options)  # seeds self.np_random when a seed is given
        scenario = random_step_scenario(self.np_random, self.ranges)
        self.initial_signal = scenario.input_signal.astype(np.float32)
        self.desired_signal = scenario.desired_signal.astype(np.float32)
        self.signal = self.initial_signal.copy()
        return self._get_obs(), {}


class DownsampleObservation(gym.ObservationWrapper):
    """Show the agent block averages of long signals instead of every sample.

    Each of ``keys`` in the Dict observation longer than ``size`` samples is cut into ``size``
    blocks of (nearly) equal length and each block replaced by its mean: 144,000 samples of audio
    become 600 numbers, the network's input stays small, and the slow shape of the signal (what a
    low-pass filter and an offset act on) is kept. The env itself still filters and rewards the
    full signal; only what the agent sees is smaller (docs/your_signal.md).
    """

    def __init__(self, env, keys, size):
        super().__init__(env)
        self.keys = list(keys)
        self.size = int(size)
        spaces_ = dict(self.env.observation_space.spaces)
        self.block_starts = {}
        for key in self.keys:
            length = spaces_[key].shape[0]
            if length > self.size:
                starts = (np.arange(self.size) * length) // self.size
                self.block_starts[key] = (starts, np.diff(np.append(starts, length)))
                spaces_[key] = spaces.Box(-np.inf, np.inf, shape=(self.size,), dtype=np.float32)
        self.observation_space = spaces.Dict(spaces_)

    def observation(self, observation):
        observation = dict(observation)
        for key, (starts, counts) in self.block_starts.items():
            sums = np.add.reduceat(observation[key].astype(np.float64), starts)
            observation[key] = (sums / counts).astype(np.float32)
        return observation


class FlattenDictWrapper(gym.ObservationWrapper):
    """Concatenate the chosen keys of a Dict observation, in the order given, as float32.

    The same wrapper as original/env.py's, for Gymnasium. (Gymnasium's ``FilterObservation`` +
    ``FlattenObservation`` would do too, but sorts the keys alphabetically.)
    """

    def __init__(self, env, dict_keys):
        super(FlattenDictWrapper, self).__init__(env)
        self.dict_keys = list(dict_keys)
        size = 0
        for key in dict_keys:
            shape = self.env.observation_space.spaces[key].shape
            size += int(np.prod(shape))
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)

    def observation(self, observation):
        # FIX-10: float32, like the space says.
        return np.concatenate([observation[key].ravel() for key in self.dict_keys]).astype(np.float32)
