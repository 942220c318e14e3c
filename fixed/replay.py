"""The replay memory of ``fixed.fast_ddpg.FastDDPGAgent``: speed only, and importable without
TensorFlow (hindsight replay builds on it, and the command lines read its options before TensorFlow loads)."""
import numpy as np


class ReplayMemory:
    """The replay memory as preallocated float32 arrays, one row per transition.

    keras-rl's ``SequentialMemory`` rebuilds every sampled state from single observations in a
    Python loop and hands back lists that become object arrays; here a batch is one fancy index
    per array. States are stored already stacked (``window_length`` observations), so the state
    after a transition is stored with it, unless ``next_states`` is False: an update with gamma 0
    never reads it, and without it the memory is half the size (a batch's ``states1`` is then None).
    """

    def __init__(self, limit, window_length, observation_shape, nb_actions, next_states=True):
        self.limit = int(limit)
        self.window_length = int(window_length)
        state_shape = (self.limit, self.window_length) + tuple(observation_shape)
        self.states0 = np.zeros(state_shape, dtype=np.float32)
        self.actions = np.zeros((self.limit, nb_actions), dtype=np.float32)
        self.rewards = np.zeros(self.limit, dtype=np.float32)
        self.terminals1 = np.zeros(self.limit, dtype=bool)
        self.states1 = np.zeros(state_shape, dtype=np.float32) if next_states else None
        self.nb_entries = 0
        self._next = 0

    def append(self, state0, action, reward, terminal1, state1):
        """Store one transition; once full, the oldest is overwritten."""
        i = self._next
        self.states0[i], self.actions[i], self.rewards[i], self.terminals1[i] = state0, action, reward, terminal1
        if self.states1 is not None:
            self.states1[i] = state1
        self._next = (i + 1) % self.limit
        self.nb_entries = min(self.nb_entries + 1, self.limit)

    def sample(self, batch_size):
        """``batch_size`` transitions drawn uniformly with numpy's global generator (seeded)."""
        i = np.random.randint(0, self.nb_entries, size=batch_size)
        return self.states0[i], self.actions[i], self.rewards[i], self.terminals1[i], self.next_states(i)

    def next_states(self, i):
        """The states after transitions ``i`` (None if the memory keeps none)."""
        return None if self.states1 is None else self.states1[i]
