"""The question's environment: a step signal, low-pass filtered and offset to match a goal.

This file has a twin. ``original/env.py`` is the question's code on gym 0.26 with every bug in
place, marked ``# BUG-n``; ``fixed/env.py`` is the same code corrected, each change marked
``# FIX-n`` with the bug it corrects (docs/bugs.md) or ``# PORT`` where today's stack forced it
(docs/porting.md). ``diff -u original/env.py fixed/env.py`` lists those changes and nothing else.
"""
import gym
import numpy as np
from gym import spaces
from scipy import signal

from shared.goal_env import flatten_dict_wrapper_class, goal_env_class


def butter_lowpass(cutoff, nyq_freq, order=4):
    normal_cutoff = float(cutoff) / nyq_freq
    # BUG-8: the (b, a) transfer-function form is numerically broken at low normalised cutoffs.
    b, a = signal.butter(order, normal_cutoff, btype='lowpass')
    return b, a


def butter_lowpass_filter(data, cutoff_freq, nyq_freq, order=4):
    b, a = butter_lowpass(cutoff_freq, nyq_freq, order=order)
    y = signal.filtfilt(b, a, data)
    return y


# PORT: gym 0.21's GoalEnv and gym 0.15's FlattenDictWrapper, gone from today's gym (shared/goal_env.py).
GoalEnv = goal_env_class(gym, __name__)
FlattenDictWrapper = flatten_dict_wrapper_class(gym, __name__)


class StepSignal(GoalEnv):
    """Low-pass filter a signal and subtract an offset so that it matches a desired signal.

    ## Description
    The agent picks a cutoff and an offset; the goal is the desired signal. In the question's
    scenario a step from 4 to 5 should become a flat 3 (docs/optimum.md has the best answer).
    Each step filters the previous step's output again and subtracts the offset again (BUG-2).

    ## Action Space
    ``Box([0.001, -max_offset], [sample_rate/2 - 0.1, max_offset], (2,), float16)``: ``[cutoff,
    offset]``, where ``max_offset`` is the spread of both signals together. ``step`` reads an
    action as if it were in [-1, 1] and rescales it without the lower bound (BUG-1, BUG-7).

    ## Observation Space
    ``Dict`` of three float32 ``Box(-inf, inf, (n,))`` holding float64 arrays (BUG-10):
    ``observation`` and ``achieved_goal`` are both the processed signal, ``desired_goal`` the goal.

    ## Rewards
    ``-L2(achieved_goal - desired_goal)``: the negative of ``compute_reward`` (BUG-9), and it
    grows with the signal's length (BUG-21).

    ## Starting State
    The processed signal equals the input.

    ## Episode End
    Never by itself (BUG-3): only the caller's step limit ends an episode.

    ## Arguments
    ``input_signal`` and ``desired_signal``, 1-D arrays of the same length; ``sample_rate`` in Hz.
    ``gym.make`` takes them (``original/__init__.py``)::

        import original, gym
        env = gym.make('stepsignal-v0', input_signal=x, sample_rate=rate, desired_signal=y, disable_env_checker=True)

    ## Version History
    - v1: the question's env corrected (``fixed/env.py``, docs/bugs.md), on Gymnasium.
    - v0: the question's env as it was asked (``original/env.py``), on gym 0.26.
    """

    def __init__(self, input_signal, sample_rate, desired_signal):
        super(StepSignal, self).__init__()
        self.initial_signal = input_signal
        self.signal = self.initial_signal.copy()
        self.sample_rate = sample_rate
        self.desired_signal = desired_signal
        self.distance_threshold = 10e-1
        max_offset = abs(max(max(self.desired_signal), max(self.signal))
                         - min(min(self.desired_signal), min(self.signal)))
        # BUG-7: float16 rounds the bounds: at common rates sample_rate/2-0.1 becomes Nyquist, which butter refuses.
        self.action_space = spaces.Box(low=np.array([10e-4, -max_offset]),
                                       high=np.array([self.sample_rate/2-0.1, max_offset]), dtype=np.float16)
        obs = self._get_obs()
        # BUG-10: the spaces say float32 but _get_obs returns float64 arrays: no observation is in its space.
        self.observation_space = spaces.Dict(dict(
            desired_goal=spaces.Box(-np.inf, np.inf, shape=obs['achieved_goal'].shape, dtype='float32'),
            achieved_goal=spaces.Box(-np.inf, np.inf, shape=obs['achieved_goal'].shape, dtype='float32'),
            observation=spaces.Box(-np.inf, np.inf, shape=obs['observation'].shape, dtype='float32'),
        ))

    def step(self, action):
        # BUG-1: the rescaling forgets `low`: no action in [-1, 1] reaches a range's lower half (a negative offset).
        range = self.action_space.high - self.action_space.low
        action = range / 2 * (action + 1)
        self._set_action(action)
        obs = self._get_obs()
        # BUG-3: the episode never ends by itself, not even on success: only the caller's step limit stops it.
        done = False
        info = {
            'is_success': self._is_success(obs['achieved_goal'], self.desired_signal),
        }
        # BUG-9: reward != compute_reward(achieved, desired, info), the GoalEnv contract (sign, no info).
        reward = -self.compute_reward(obs['achieved_goal'], self.desired_signal)
        return obs, reward, done, info

    def reset(self):
        self.signal = self.initial_signal.copy()
        return self._get_obs()

    def _set_action(self, actions):
        actions = np.clip(actions, a_max=self.action_space.high, a_min=self.action_space.low)
        cutoff = actions[0]
        offset = actions[1]
        # BUG-14: print in the env's step floods stdout on every step and cannot be switched off.
        print(cutoff, offset)
        # BUG-2: filters the previous step's output, not the input: the same action gives a new signal each step.
        self.signal = butter_lowpass_filter(self.signal, cutoff, self.sample_rate/2) - offset

    def _get_obs(self):
        obs = self.signal
        achieved_goal = self.signal
        return {
            'observation': obs.copy(),
            'achieved_goal': achieved_goal.copy(),
            'desired_goal': self.desired_signal.copy(),
        }

    def compute_reward(self, goal_achieved, goal_desired):
        # BUG-21: the L2 distance grows with the signal's length (as sqrt(n)), and the critic's targets with it.
        d = np.linalg.norm(goal_desired-goal_achieved)
        return d

    def _is_success(self, achieved_goal, desired_goal):
        d = self.compute_reward(achieved_goal, desired_goal)
        return (d < self.distance_threshold).astype(np.float32)

