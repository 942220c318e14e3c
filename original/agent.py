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
    # BUG-20: the leading 1 must equal the memory's window_length, but it is typed here by hand:
    # change SequentialMemory(window_length=...) alone and fit fails with a shape error.
    actor.add(Flatten(input_shape=(1,) + env.observation_space.shape, name='flatten'))
    actor.add(Dense(128))
    actor.add(Activation('relu'))
    actor.add(Dense(64))
    actor.add(Activation('relu'))
    actor.add(Dense(nb_actions))
    # BUG-6: a linear output is unbounded, but the env expects actions in [-1, 1]; everything
    # beyond is clipped by the env and looks the same to it.
    actor.add(Activation('linear'))
    return actor


def build_critic(env):
    nb_actions = env.action_space.shape[0]
    # Building Critic net (Q-net)
    action_input = Input(shape=(nb_actions,), name='action_input')
    # BUG-17: raw observations (1200 values of 3 to 5) go straight into the networks: first-layer
    # activations are large from the start, so a bounded actor would saturate at once.
    observation_input = Input(shape=(1,) + env.observation_space.shape, name='observation_input')
    flattened_observation = Flatten()(observation_input)
    # BUG-23: the action is 2 of the first layer's 1202 inputs; its effect on Q is drowned by
    # the observation's, so the critic resolves the action's effect slowly and coarsely.
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
    # BUG-5: a replay memory of 2000 transitions is below the actor's warmup of 10000: by the
    # time the actor may learn, the first 8000 transitions are already forgotten.
    memory = SequentialMemory(limit=hp.memory_limit, window_length=hp.window_length)
    # BUG-13: BoltzmannQPolicy picks a discrete action index from Q-values; DDPG's actions are
    # continuous and DDPGAgent never takes a policy, so this object does nothing.
    policy = BoltzmannQPolicy()
    # BUG-11: OU noise with keras-rl's default dt=1e-2 moves by about sigma*0.1 per step: within
    # a 5-step episode the noise is almost a constant, drawn afresh at each episode start.
    random_process = OrnsteinUhlenbeckProcess(size=nb_actions, theta=hp.noise_theta, mu=0, sigma=hp.noise_sigma)
    # BUG-4: warmups of 2000 (critic) and 10000 (actor) steps against fit(nb_steps=10): not one
    # gradient step runs, every action is the untrained actor plus noise.
    # BUG-22: gamma=.99 makes the critic estimate a sum over ~100 future steps, but the task's
    # answer is one (cutoff, offset) per signal: there is nothing to discount, and with no real
    # terminal state the critic's targets are about 100 times the reward.
    # BUG-18: keras-rl stores actor output plus noise in memory unclipped, so the critic learns
    # from actions the env never distinguishes (everything beyond +-1 is clipped there).
    # BUG-19: without a Processor, keras-rl builds every state batch as an object array.
    agent = DDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                      memory=memory, nb_steps_warmup_critic=hp.nb_steps_warmup_critic,
                      nb_steps_warmup_actor=hp.nb_steps_warmup_actor, random_process=random_process,
                      gamma=hp.gamma, target_model_update=hp.target_model_update, batch_size=hp.batch_size)
    # One optimizer for both networks: keras-rl2 gives the actor a copy of it.
    agent.compile(Adam(lr=hp.critic_learning_rate, clipnorm=hp.clipnorm), metrics=['mae'])
    return agent, policy
