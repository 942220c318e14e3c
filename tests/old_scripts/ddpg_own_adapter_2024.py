"""A keras-rl2 script that adapts gym 0.26's env to keras-rl's old API itself: for tests of diagnose.

Written for this kit, in the shape docs/porting.md recommends: the env from ``gym.make`` wrapped in
the script's own adapter, reset() -> obs and step -> (obs, reward, terminated or truncated, info).
``python ddpg_own_adapter_2024.py plain`` writes the adapter as a plain class holding the env in
an attribute of its own, instead of a ``gym.Wrapper``.
"""
import os
import sys

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import gym  # noqa: E402
import tensorflow.keras as keras  # noqa: E402
import tf_keras  # noqa: E402

if not hasattr(keras, '__version__'):
    keras.__version__ = tf_keras.__version__

from rl.agents import DDPGAgent  # noqa: E402
from rl.memory import SequentialMemory  # noqa: E402
from rl.random import GaussianWhiteNoiseProcess  # noqa: E402
from tensorflow.keras.layers import Concatenate, Dense, Flatten, Input  # noqa: E402
from tensorflow.keras.models import Model, Sequential  # noqa: E402
from tensorflow.keras.optimizers.legacy import Adam  # noqa: E402


class OldAPI(gym.Wrapper):
    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        return observation

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated or truncated, info


class PlainOldAPI:
    def __init__(self, env):
        self.wrapped = env
        self.action_space, self.observation_space = env.action_space, env.observation_space

    def reset(self):
        return self.wrapped.reset()[0]

    def step(self, action):
        observation, reward, terminated, truncated, info = self.wrapped.step(action)
        return observation, reward, terminated or truncated, info


adapter = PlainOldAPI if sys.argv[1:] == ['plain'] else OldAPI
env = adapter(gym.make('Pendulum-v1', disable_env_checker=True))
nb_actions = env.action_space.shape[0]
actor = Sequential([Flatten(input_shape=(1,) + env.observation_space.shape), Dense(16, activation='relu'),
                    Dense(nb_actions, activation='tanh')])
action_input = Input(shape=(nb_actions,))
observation_input = Input(shape=(1,) + env.observation_space.shape)
x = Dense(16, activation='relu')(Concatenate()([Dense(8, activation='relu')(action_input),
                                                Flatten()(observation_input)]))
critic = Model([action_input, observation_input], Dense(1)(x))
agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                  memory=SequentialMemory(limit=1000, window_length=1), nb_steps_warmup_critic=50,
                  nb_steps_warmup_actor=50, random_process=GaussianWhiteNoiseProcess(sigma=0.3, size=nb_actions),
                  gamma=0.9)
agent.compile(Adam(learning_rate=1e-3), metrics=['mae'])
agent.fit(env, nb_steps=300, verbose=0)
