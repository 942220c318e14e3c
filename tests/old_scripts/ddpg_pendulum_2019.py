"""A DDPG script as tutorials wrote them in 2019, for tests of `python -m stepsignal diagnose`.

Written for this kit (not copied from anywhere), in the shapes old keras-rl scripts take:
standalone `keras` imports, a retired env id, `env.seed`, `Adam(lr=...)`, a fit longer than
keras-rl2's int16 step counter, `.h5f` weights. Its networks are sound on purpose, so that the
findings about them are the ones tests expect: the critic joins the action after the
observation's first hidden layer (no BUG-23), and the actor's tanh is not scaled to Pendulum's
[-2, 2] torque (BUG-6: half the range out of reach).
"""
import numpy as np
import gym
from keras.models import Sequential, Model
from keras.layers import Dense, Flatten, Input, Concatenate
from keras.optimizers import Adam
from rl.agents import DDPGAgent
from rl.memory import SequentialMemory
from rl.random import OrnsteinUhlenbeckProcess

env = gym.make('Pendulum-v0')
np.random.seed(7)
env.seed(7)
nb_actions = env.action_space.shape[0]

actor = Sequential()
actor.add(Flatten(input_shape=(1,) + env.observation_space.shape))
actor.add(Dense(32, activation='relu'))
actor.add(Dense(nb_actions, activation='tanh'))

action_input = Input(shape=(nb_actions,), name='action_input')
observation_input = Input(shape=(1,) + env.observation_space.shape, name='observation_input')
features = Dense(32, activation='relu')(Flatten()(observation_input))
x = Concatenate()([features, action_input])
x = Dense(32, activation='relu')(x)
critic = Model(inputs=[action_input, observation_input], outputs=Dense(1)(x))

memory = SequentialMemory(limit=100000, window_length=1)
noise = OrnsteinUhlenbeckProcess(size=nb_actions, theta=.15, mu=0., sigma=.3)
agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                  memory=memory, nb_steps_warmup_critic=50, nb_steps_warmup_actor=50,
                  random_process=noise, gamma=.99, target_model_update=1e-3)
agent.compile(Adam(lr=1e-3), metrics=['mae'])
agent.fit(env, nb_steps=50000, visualize=False, verbose=0, nb_max_episode_steps=200)
agent.save_weights('ddpg_pendulum_weights.h5f', overwrite=True)
