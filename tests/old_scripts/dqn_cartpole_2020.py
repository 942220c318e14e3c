"""A DQN script on a discrete action space, for tests of `python -m stepsignal diagnose`.

Written for this kit, in keras-rl2's style of 2020 (`tensorflow.keras` imports, `env.seed`,
`Adam(lr=...)`): the continuous-action checks must stay silent on it.
"""
import numpy as np
import gym
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Flatten
from tensorflow.keras.optimizers import Adam
from rl.agents.dqn import DQNAgent
from rl.policy import BoltzmannQPolicy
from rl.memory import SequentialMemory

env = gym.make('CartPole-v1')
np.random.seed(3)
env.seed(3)

model = Sequential([Flatten(input_shape=(1,) + env.observation_space.shape),
                    Dense(16, activation='relu'), Dense(env.action_space.n, activation='linear')])
dqn = DQNAgent(model=model, nb_actions=env.action_space.n, memory=SequentialMemory(limit=5000, window_length=1),
               nb_steps_warmup=20, target_model_update=1e-2, policy=BoltzmannQPolicy())
dqn.compile(Adam(lr=1e-3), metrics=['mae'])
dqn.fit(env, nb_steps=20000, visualize=False, verbose=0)
