"""The question's actor, critic and keras-rl2 DDPGAgent, layer by layer and argument by argument.

This file has a twin. ``original/agent.py`` is the question's code with every bug in place,
marked ``# BUG-n``; ``fixed/agent.py`` is the same code corrected, each change marked ``# FIX-n``,
``# IMPROVEMENT-n`` or ``# PORT`` (docs/bugs.md, docs/porting.md). The numbers are in the
variant's ``hyperparameters.py``. ``diff -u original/agent.py fixed/agent.py`` lists the changes.
"""
from shared import keras_rl  # noqa: F401  (PORT: tf-keras must be set up before TensorFlow loads)

from rl.agents import DDPGAgent
from rl.memory import SequentialMemory
from rl.policy import BoltzmannQPolicy
from rl.random import OrnsteinUhlenbeckProcess
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input
from tensorflow.keras.models import Model, Sequential
# PORT: keras-rl2 turns eager execution off, which only the legacy optimizers support.
from tensorflow.keras.optimizers.legacy import Adam

from .hyperparameters import HYPERPARAMETERS


def build_actor(env):
    nb_actions = env.action_space.shape[0]
    # Building Actor agent (Policy-net)
    actor = Sequential()
    # BUG-20: the leading 1 must equal the memory's window_length, but it is typed here by hand.
    actor.add(Flatten(input_shape=(1,) + env.observation_space.shape, name='flatten'))
    actor.add(Dense(128))
    actor.add(Activation('relu'))
    actor.add(Dense(64))
    actor.add(Activation('relu'))
    actor.add(Dense(nb_actions))
    # BUG-6: a linear output is unbounded; the env clips everything beyond [-1, 1] to the same action.
    actor.add(Activation('linear'))
    return actor


def build_critic(env):
    nb_actions = env.action_space.shape[0]
    # Building Critic net (Q-net)
    action_input = Input(shape=(nb_actions,), name='action_input')
    # BUG-17: raw observations (values of 3 to 5) go straight in: a bounded actor would saturate at once.
    observation_input = Input(shape=(1,) + env.observation_space.shape, name='observation_input')
    flattened_observation = Flatten()(observation_input)
    # BUG-23: the action is 2 of the first layer's inputs, its effect on Q drowned by the observation's.
    x = Concatenate()([action_input, flattened_observation])
    x = Dense(128)(x)
    x = Activation('relu')(x)
    x = Dense(64)(x)
    x = Activation('relu')(x)
    x = Dense(1)(x)
    x = Activation('linear')(x)
    critic = Model(inputs=[action_input, observation_input], outputs=x)
    return critic, action_input


def build_agent(env, hp=HYPERPARAMETERS):
    """Return ``(agent, policy)``: the compiled DDPGAgent and the policy the question created."""
    nb_actions = env.action_space.shape[0]
    actor = build_actor(env)
    critic, action_input = build_critic(env)
    # Building Keras agent
    # BUG-5: a memory smaller than the actor's warmup forgets transitions before the actor learns.
    memory = SequentialMemory(limit=hp.memory_limit, window_length=hp.window_length)
    # BUG-13: BoltzmannQPolicy picks discrete actions; DDPGAgent never takes a policy: it does nothing.
    policy = BoltzmannQPolicy()
    # BUG-11: OU noise with keras-rl's dt=1e-2 is almost a constant within an episode.
    random_process = OrnsteinUhlenbeckProcess(size=nb_actions, theta=hp.noise_theta, mu=0, sigma=hp.noise_sigma)
    # BUG-4: warmups longer than fit(nb_steps=...): not one gradient step runs.
    # BUG-22: gamma=.99 discounts a future this one-answer task does not have; targets grow ~100-fold.
    # BUG-18: keras-rl stores actor output plus noise unclipped: actions the env never told apart.
    # BUG-19: without a Processor, keras-rl builds every state batch as an object array.
    agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=memory, nb_steps_warmup_critic=hp.nb_steps_warmup_critic,
                      nb_steps_warmup_actor=hp.nb_steps_warmup_actor, random_process=random_process,
                      gamma=hp.gamma, target_model_update=hp.target_model_update, batch_size=hp.batch_size)
    # One optimizer for both networks: keras-rl2 gives the actor a copy of it.
    agent.compile(Adam(lr=hp.critic_learning_rate, clipnorm=hp.clipnorm), metrics=['mae'])
    return agent, policy
