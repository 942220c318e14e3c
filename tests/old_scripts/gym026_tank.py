"""A gym 0.26-style env (reset -> (obs, info), 5-value step) trained by keras-rl's DDPG.

Written for this kit, for tests of `python -m stepsignal diagnose`. The action is a valve
opening in [0, 10]. `python gym026_tank.py` gives the actor a bare tanh, which reaches
[-1, 1], a tenth of the range; `python gym026_tank.py scaled` maps the tanh onto [0, 10].
"""
import sys

import numpy as np
import gym
from gym import spaces
from tensorflow.keras.layers import Dense, Flatten, Input, Concatenate, Lambda
from tensorflow.keras.models import Model, Sequential
from tensorflow.keras.optimizers.legacy import Adam
from rl.agents import DDPGAgent
from rl.memory import SequentialMemory
from rl.random import GaussianWhiteNoiseProcess


class Tank(gym.Env):
    """Fill a tank to level 5 with a valve opening in [0, 10]; episodes of 20 steps."""

    action_space = spaces.Box(0.0, 10.0, (1,), np.float32)
    observation_space = spaces.Box(0.0, 10.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.level, self.t = 0.0, 0
        return np.array([self.level], np.float32), {}

    def step(self, action):
        opening = float(np.clip(action, 0.0, 10.0)[0])
        self.level = float(np.clip(0.8 * self.level + 0.2 * opening, 0.0, 10.0))
        self.t += 1
        reward = -abs(self.level - 5.0) / 5.0
        return np.array([self.level], np.float32), reward, False, self.t >= 20, {}


env = Tank()
actor = Sequential([Flatten(input_shape=(1, 1)), Dense(16, activation='relu'), Dense(1, activation='tanh')])
if sys.argv[1:] == ['scaled']:
    actor.add(Lambda(lambda tanh: 5.0 + 5.0 * tanh))
action_input = Input(shape=(1,))
observation_input = Input(shape=(1, 1))
x = Concatenate()([action_input, Flatten()(observation_input)])
critic = Model([action_input, observation_input], Dense(1)(Dense(16, activation='relu')(x)))
agent = DDPGAgent(nb_actions=1, actor=actor, critic=critic, critic_action_input=action_input,
                  memory=SequentialMemory(limit=1000, window_length=1), nb_steps_warmup_critic=20,
                  nb_steps_warmup_actor=20, random_process=GaussianWhiteNoiseProcess(sigma=1.0, size=1), gamma=.9)
agent.compile(Adam(learning_rate=1e-3))
agent.fit(env, nb_steps=2000, verbose=0)
