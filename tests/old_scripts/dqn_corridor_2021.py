"""DQN on a corridor of numbered cells, in the style of 2021 Taxi-v3 keras-rl2 scripts: for tests of diagnose.

Written for this kit. The observation is a cell number (a Discrete space), embedded by an
``Embedding`` + ``Reshape`` input, as Taxi scripts do: its declared input shape says nothing of the
window, yet it takes keras-rl's (1, 1) and (32, 1) batches. The env speaks gym 0.26's API and,
like gym 0.26's Taxi-v3, puts an array in ``info['action_mask']``, which keras-rl2's ``fit``
cannot add up.
"""
import numpy as np
import gym
from gym import spaces
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Embedding, Reshape
from tensorflow.keras.optimizers import Adam
from rl.agents.dqn import DQNAgent
from rl.policy import EpsGreedyQPolicy
from rl.memory import SequentialMemory


class Corridor(gym.Env):
    """Cells 0..29; step left or right; the episode ends at cell 29."""

    def __init__(self):
        self.observation_space = spaces.Discrete(30)
        self.action_space = spaces.Discrete(2)
        self.cell = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.cell = int(self.np_random.integers(0, 10))
        return self.cell, {'action_mask': self._mask()}

    def step(self, action):
        self.cell = int(np.clip(self.cell + (1 if action == 1 else -1), 0, 29))
        arrived = self.cell == 29
        return self.cell, (1.0 if arrived else -0.01), arrived, False, {'action_mask': self._mask()}

    def _mask(self):
        return np.array([self.cell > 0, self.cell < 29], dtype=np.int8)


env = Corridor()
np.random.seed(123)
nb_actions = env.action_space.n

model = Sequential()
model.add(Embedding(30, 8, input_length=1))
model.add(Reshape((8,)))
model.add(Dense(24, activation='relu'))
model.add(Dense(nb_actions, activation='linear'))

memory = SequentialMemory(limit=5000, window_length=1)
dqn = DQNAgent(model=model, nb_actions=nb_actions, memory=memory, nb_steps_warmup=50,
               target_model_update=1e-2, policy=EpsGreedyQPolicy())
dqn.compile(Adam(lr=1e-3), metrics=['mae'])
dqn.fit(env, nb_steps=20000, visualize=False, verbose=0, nb_max_episode_steps=100)
