"""The question's actor, critic and keras-rl2 DDPGAgent, layer by layer and argument by argument.

This file has a twin. ``original/agent.py`` is the question's code with every bug in place,
marked ``# BUG-n``; ``fixed/agent.py`` is the same code corrected, each change marked ``# FIX-n``,
``# IMPROVEMENT-n`` or ``# PORT`` (docs/bugs.md, docs/porting.md). The numbers are in the
variant's ``hyperparameters.py``. ``diff -u original/agent.py fixed/agent.py`` lists the changes.
"""
from shared import keras_rl  # noqa: F401  (PORT: tf-keras must be set up before TensorFlow loads)

from rl.random import GaussianWhiteNoiseProcess  # FIX-11
from tensorflow.keras.initializers import RandomUniform  # FIX-6
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input
from tensorflow.keras.models import Model, Sequential
# PORT: keras-rl2 turns eager execution off, which only the legacy optimizers support.
from tensorflow.keras.optimizers.legacy import Adam

from .hyperparameters import HYPERPARAMETERS
from .extras import Extras  # IMPROVEMENT-5, the fast update: beyond the question's script
from .processor import ScaleObservations  # FIX-17: observations of order 1
from .fast_ddpg import replay_memory  # speed only: a float32 memory for the one-graph-call update
from .hooked_ddpg import EpisodeMemory  # FIX-12: stores nothing of fit's made-up step after an episode
from .keras_rl2_fixes import FastFixedDDPGAgent, FixedDDPGAgent  # FIX-12, -15, -18, -19: keras-rl2's own bugs


def build_actor(env, window_length=HYPERPARAMETERS.window_length):  # FIX-20
    nb_actions = env.action_space.shape[0]
    # Building Actor agent (Policy-net)
    actor = Sequential()
    actor.add(Flatten(input_shape=(window_length,) + env.observation_space.shape, name='flatten'))  # FIX-20: passed in
    actor.add(Dense(128))
    actor.add(Activation('relu'))
    actor.add(Dense(64))
    actor.add(Activation('relu'))
    # FIX-6: tanh bounds the output to [-1, 1]; small final weights start it away from tanh's flat tails.
    actor.add(Dense(nb_actions, kernel_initializer=RandomUniform(-3e-3, 3e-3)))
    actor.add(Activation('tanh'))
    return actor


def build_critic(env, window_length=HYPERPARAMETERS.window_length):  # FIX-20
    nb_actions = env.action_space.shape[0]
    # Building Critic net (Q-net)
    action_input = Input(shape=(nb_actions,), name='action_input')
    # FIX-17: observations arrive scaled, by ScaleObservations (see build_agent); FIX-20: window_length.
    observation_input = Input(shape=(window_length,) + env.observation_space.shape, name='observation_input')
    flattened_observation = Flatten()(observation_input)
    # FIX-23: the action gets a hidden layer of its own, so Q can bend where the reward bends.
    x = Dense(128)(flattened_observation)
    x = Activation('relu')(x)
    a = Dense(64)(action_input)  # FIX-23: the action's own hidden layer
    a = Activation('relu')(a)
    x = Concatenate()([a, x])
    x = Dense(64)(x)
    x = Activation('relu')(x)
    x = Dense(1)(x)
    x = Activation('linear')(x)
    critic = Model(inputs=[action_input, observation_input], outputs=x)
    return critic, action_input


def build_agent(env, hp=HYPERPARAMETERS, training_steps=None, reference_observation=None, extras=Extras()):
    """Return the compiled agent (FIX-13: no policy object), sized for ``training_steps`` (FIX-5); FIX-17:
    ``reference_observation`` sets the scaling; ``extras``: hindsight and the fast update (extras.py)."""
    nb_actions = env.action_space.shape[0]
    nb_steps = training_steps or hp.nb_steps  # FIX-5
    actor = build_actor(env, hp.window_length)  # FIX-20
    critic, action_input = build_critic(env, hp.window_length)  # FIX-20
    processor = ScaleObservations(reference_observation)  # FIX-17
    # Building Keras agent
    # FIX-5: the memory holds the whole run; FIX-12: it stores nothing of fit's made-up step after an episode.
    memory = EpisodeMemory(limit=hp.memory_limit or max(nb_steps, 1000), window_length=hp.window_length)
    agent_class = FixedDDPGAgent
    if extras.fast_update:  # speed only: one graph call per update on float32 arrays (fast_ddpg.py); IMPROVEMENT-5
        agent_class, memory = FastFixedDDPGAgent, replay_memory(env, memory, hp.gamma, extras.hindsight, processor)
    # FIX-13: no BoltzmannQPolicy: DDPG's policy is its actor plus exploration noise.
    # FIX-11: independent Gaussian noise, broad at first and annealed: far-apart actions, then refined.
    random_process = GaussianWhiteNoiseProcess(size=nb_actions, mu=0.0, sigma=hp.noise_sigma, sigma_min=hp.noise_sigma_min,
                                               n_steps_annealing=max(1, int(hp.noise_annealing_fraction * nb_steps)))
    # FIX-4: warmups well below nb_steps (a tenth of a short run, at least one batch): training happens.
    warmup_critic = max(hp.batch_size, min(hp.nb_steps_warmup_critic, nb_steps // 10))
    warmup_actor = max(hp.batch_size, min(hp.nb_steps_warmup_actor, nb_steps // 10))
    # FIX-22: gamma=0: the next observation does not depend on the action; the best immediate reward wins.
    # FIX-12, FIX-15, FIX-18, FIX-19: keras-rl2's own bugs, corrected in FixedDDPGAgent (keras_rl2_fixes.py).
    agent = agent_class(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                        memory=memory, nb_steps_warmup_critic=warmup_critic,
                        nb_steps_warmup_actor=warmup_actor, random_process=random_process,
                        gamma=hp.gamma, target_model_update=hp.target_model_update, batch_size=hp.batch_size,
                        processor=processor, saturation_penalty=hp.saturation_penalty,  # beyond FIX-6
                        gradient_steps=hp.gradient_steps,  # IMPROVEMENT-3: updates per environment step
                        time_limit_is_terminal=hp.time_limit_is_terminal)
    # Beyond FIX-6, IMPROVEMENT-2: the actor learns slower than the critic, so it cannot outrun its estimate.
    agent.compile([Adam(learning_rate=hp.actor_learning_rate, clipnorm=hp.clipnorm),
                   Adam(learning_rate=hp.critic_learning_rate, clipnorm=hp.clipnorm)], metrics=['mae'])
    return agent

