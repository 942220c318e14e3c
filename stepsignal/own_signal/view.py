"""What the agent sees of a long signal: block averages, while the env works on every sample."""
import gymnasium as gym
import numpy as np
from gymnasium import spaces

MAX_OBSERVED_SAMPLES = 600
"""Longest signal the agent sees sample by sample (the question's 600); longer ones are shown to
it as this many block averages (``DownsampleObservation``)."""


class DownsampleObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Show the agent block averages of long signals instead of every sample.

    Each of ``keys`` in the Dict observation longer than ``size`` samples is cut into ``size``
    blocks of (nearly) equal length and each block replaced by its mean: 144,000 samples of audio
    become 600 numbers, the network's input stays small, and the slow shape of the signal (what a
    low-pass filter and an offset act on) is kept. The env itself still filters and rewards the
    full signal; only what the agent sees is smaller (docs/your_signal.md).

    The view is not a goal env: ``achieved_goal`` keeps every sample, so compute rewards, and run
    Stable-Baselines3's ``check_env``, on the env itself (``env.unwrapped``).
    """

    def __init__(self, env, keys, size):
        gym.utils.RecordConstructorArgs.__init__(self, keys=keys, size=size)  # check_env re-creates it
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
                # A block's mean lies within the values it averages: the bounds stay.
                box = spaces_[key]
                spaces_[key] = spaces.Box(np.full(self.size, box.low.min()), np.full(self.size, box.high.max()), dtype=np.float32)
        self.observation_space = spaces.Dict(spaces_)

    def observation(self, observation):
        observation = dict(observation)
        for key, (starts, counts) in self.block_starts.items():
            sums = np.add.reduceat(observation[key].astype(np.float64), starts)
            observation[key] = (sums / counts).astype(np.float32)
        return observation
