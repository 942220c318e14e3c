"""DDPG keeping a boat's heading, in the style of 2019 keras-rl scripts: for tests of diagnose.

Written for this kit, in the shape of real scripts of that year: the env in a module beside the
script (run it from another folder and it must still be found), standalone ``keras`` imports,
``Adam(lr=)``, a Keras ``TensorBoard`` callback handed to keras-rl's ``fit``, the Pendulum
example's Ornstein-Uhlenbeck noise on an action range of +-0.1 (five times too large: nearly
every noisy action is clipped to a bound), ``.h5f`` weights and a visualised test.
"""
import numpy as np

from keras.callbacks import TensorBoard
from keras.models import Sequential, Model
from keras.layers import Dense, Activation, Flatten, Input, Concatenate
from keras.optimizers import Adam

from rl.agents import DDPGAgent
from rl.memory import SequentialMemory
from rl.random import OrnsteinUhlenbeckProcess
from heading_env import HeadingEnv

env = HeadingEnv()
np.random.seed(123)
env.seed(123)
nb_actions = env.action_space.shape[0]

actor = Sequential()
actor.add(Flatten(input_shape=(1,) + env.observation_space.shape))
actor.add(Dense(32))
actor.add(Activation('relu'))
actor.add(Dense(nb_actions))
actor.add(Activation('linear'))

action_input = Input(shape=(nb_actions,), name='action_input')
observation_input = Input(shape=(1,) + env.observation_space.shape, name='observation_input')
x = Concatenate()([action_input, Flatten()(observation_input)])
x = Dense(32)(x)
x = Activation('relu')(x)
x = Dense(1)(x)
critic = Model(inputs=[action_input, observation_input], outputs=x)

memory = SequentialMemory(limit=100000, window_length=1)
random_process = OrnsteinUhlenbeckProcess(size=nb_actions, theta=.15, mu=0., sigma=.5)
agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                  memory=memory, nb_steps_warmup_critic=100, nb_steps_warmup_actor=100,
                  random_process=random_process, gamma=.9, target_model_update=1e-3)
agent.compile(Adam(lr=.001, clipnorm=1.), metrics=['mae'])

tensorboard = TensorBoard(log_dir='./logs/heading')
agent.fit(env, nb_steps=50000, visualize=False, verbose=0, nb_max_episode_steps=500, callbacks=[tensorboard])
agent.save_weights('heading_weights.h5f', overwrite=True)
agent.test(env, nb_episodes=2, visualize=True, nb_max_episode_steps=50)
