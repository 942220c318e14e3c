"""The question's environment: a step signal, low-pass filtered and offset to match a goal.

This file has a twin. ``original/env.py`` is the question's code on gym 0.26 with every bug in
place, marked ``# BUG-n``; ``fixed/env.py`` is the same code corrected, each change marked
``# FIX-n`` with the bug it corrects (docs/bugs.md) or ``# PORT`` where today's stack forced it
(docs/porting.md). ``diff -u original/env.py fixed/env.py`` lists those changes and nothing else.
"""
import logging  # FIX-14: logging, not print

import gymnasium as gym  # PORT: Gymnasium, gym's maintained successor (gym stopped at 0.26)
import numpy as np
from gymnasium import spaces  # PORT: Gymnasium

from . import filters  # FIX-8: second-order sections, computed as scipy does but faster
from .actions import action_bounds, settings_for  # FIX-1, FIX-7: the agent's units and the env's
from .observations import goal_observation_space  # FIX-10: bounds that survive float32
from shared.goal_env import flatten_dict_wrapper_class, goal_env_class

log = logging.getLogger(__name__)  # FIX-14


def butter_lowpass(cutoff, nyq_freq, order=4):
    normal_cutoff = float(cutoff) / nyq_freq
    sos = filters.butter_lowpass_sos(order, normal_cutoff)  # FIX-8: second-order sections, accurate at any cutoff
    return sos


def butter_lowpass_filter(data, cutoff_freq, nyq_freq, order=4):
    sos = butter_lowpass(cutoff_freq, nyq_freq, order=order)  # FIX-8
    y = filters.sosfiltfilt(sos, data)  # FIX-8: scipy's sosfiltfilt, to the last bit
    return y


# PORT: gym 0.21's GoalEnv and gym 0.15's FlattenDictWrapper, gone from today's gym (shared/goal_env.py).
GoalEnv = goal_env_class(gym, __name__)
FlattenDictWrapper = flatten_dict_wrapper_class(gym, __name__)


class StepSignal(GoalEnv):
    """Low-pass filter a signal and subtract an offset so that it matches a desired signal.

    ## Description
    The agent picks a cutoff and an offset; the goal is the desired signal. In the question's
    scenario a step from 4 to 5 should become a flat 3 (docs/optimum.md has the best answer).
    Each step filters the episode's input (FIX-2) in second-order sections (FIX-8) and subtracts the offset.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: ``[cutoff, offset]``, -1 the lowest, +1 the highest (FIX-1, FIX-7): the
    cutoff on a log scale from 0.001 Hz (or the lowest the filter applies accurately) to 0.99 x Nyquist,
    the offset over ``+-max_offset``, the spread of both signals together. Outside [-1, 1]: clipped.

    ## Observation Space
    ``Dict`` of three float32 ``Box(low, high, (n,))`` holding float32 arrays (FIX-10):
    ``observation`` is the input (FIX-2), ``achieved_goal`` the processed signal, ``desired_goal`` the goal.

    ## Rewards
    ``compute_reward(achieved_goal, desired_goal, info)`` (FIX-9, batches too): ``-RMS(achieved_goal -
    desired_goal)``, L2 over sqrt(n) (FIX-21); success: L2 below ``distance_threshold`` (``info['l2_distance']``).

    ## Starting State
    The processed signal equals the input.

    ## Episode End
    Terminated on success; truncated after ``max_episode_steps`` steps (FIX-3, FIX-12).

    ## Arguments
    ``input_signal`` and ``desired_signal``, 1-D arrays of the same length; ``sample_rate`` in Hz.
    ``time_limit``: the steps of an episode before it is truncated (FIX-3).
    ``gymnasium.make`` takes them; with none, the question's scenario (``fixed/__init__.py``)::

        import fixed, gymnasium  # PORT: registered with Gymnasium ('fixed:stepsignal-v1' without the import)
        env = gymnasium.make('stepsignal-v1', input_signal=x, sample_rate=rate, desired_signal=y)

    ## Version History
    - v1: the question's env corrected (``fixed/env.py``, docs/bugs.md), on Gymnasium.
    - v0: the question's env as it was asked (``original/env.py``), on gym 0.26.
    """

    def __init__(self, input_signal, sample_rate, desired_signal, time_limit=10):  # FIX-3: episodes end
        super(StepSignal, self).__init__()
        self.initial_signal = np.asarray(input_signal, dtype=np.float64).astype(np.float32)  # FIX-10: float32 throughout
        self.signal = self.initial_signal.copy()
        self.sample_rate = sample_rate
        self.desired_signal = np.asarray(desired_signal, dtype=np.float64).astype(np.float32)  # FIX-10
        self.distance_threshold = 10e-1
        self.max_episode_steps = int(time_limit)  # FIX-3: the env ends its episodes itself (a truncation, FIX-12)
        self.elapsed_steps = 0
        max_offset = abs(max(max(self.desired_signal), max(self.signal))
                         - min(min(self.desired_signal), min(self.signal)))
        self.physical_low, self.physical_high = action_bounds(self.sample_rate, max_offset)  # FIX-7: float64
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)  # FIX-1: the agent's units
        self.observation_space = self._observation_space()  # FIX-10: float32 arrays, as the spaces say, inside them

    def step(self, action):
        cutoff, offset = self.physical_action(action)  # FIX-1: -1 maps to low and +1 to high, exactly
        self._set_action(np.array([cutoff, offset]))
        obs = self._get_obs()
        self.elapsed_steps += 1  # FIX-3: the episode ends by itself: terminated on success, truncated at the limit
        # FIX-9: one distance per step, for success and info; the reward is compute_reward's (the GoalEnv contract).
        l2_distance = float(np.linalg.norm(self.desired_signal - obs['achieved_goal']))
        info = {
            'is_success': self._is_success(l2_distance),
            'l2_distance': l2_distance,  # FIX-14: what the env applied and achieved, in info
            'cutoff_hz': float(cutoff),
            'offset': float(offset),
        }
        reward = float(self.compute_reward(obs['achieved_goal'], self.desired_signal, info))  # FIX-9
        terminated = bool(info['is_success'])  # FIX-3
        truncated = self.elapsed_steps >= self.max_episode_steps and not terminated
        return obs, reward, terminated, truncated, info  # PORT: Gymnasium's 5-tuple

    def reset(self, *, seed=None, options=None):  # PORT: Gymnasium's reset
        super().reset(seed=seed, options=options)
        self.signal = self.initial_signal.copy()
        self.elapsed_steps = 0  # FIX-3
        return self._get_obs(), {}  # PORT: (observation, info)

    def physical_action(self, action):  # FIX-1: -1 -> low, +1 -> high; the cutoff on a log scale
        return tuple(settings_for(action, self.physical_low, self.physical_high, ('log', 'linear')))

    def _set_action(self, actions):
        # FIX-1: already clipped, in the agent's units, by physical_action.
        cutoff = actions[0]
        offset = actions[1]
        log.debug('cutoff %.6g Hz, offset %.6g', cutoff, offset)  # FIX-14: logging, off unless asked for; and info
        # FIX-2: always filter the episode's input: achieved = filter(input) - offset, as the question intends.
        self.signal = (butter_lowpass_filter(self.initial_signal, cutoff, self.sample_rate/2) - offset).astype(np.float32)

    def _get_obs(self):
        obs = self.initial_signal  # FIX-2: the agent sees the input, which every action filters
        achieved_goal = self.signal
        return {
            'observation': obs.copy(),
            'achieved_goal': achieved_goal.copy(),
            'desired_goal': self.desired_signal.copy(),
        }

    def _observation_space(self):  # FIX-10: bounds the observations keep
        return goal_observation_space(self._signal_ranges(), self.physical_high[1], self.initial_signal.shape)

    def _signal_ranges(self):  # FIX-10
        """``{'observation': (lowest, highest), 'desired_goal': ...}`` of the input and the goal."""
        return {'observation': (float(self.initial_signal.min()), float(self.initial_signal.max())),
                'desired_goal': (float(self.desired_signal.min()), float(self.desired_signal.max()))}

    def compute_reward(self, goal_achieved, goal_desired, info):
        # FIX-21: the RMS error, L2 / sqrt(n), does not grow with the signal's length.
        d = np.linalg.norm(np.asarray(goal_desired) - np.asarray(goal_achieved), axis=-1)  # FIX-9: or a batch
        return -d / np.sqrt(np.shape(goal_desired)[-1])

    def _is_success(self, l2_distance):  # FIX-9: from the step's one distance
        return np.float32(l2_distance < self.distance_threshold)

