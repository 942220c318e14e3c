"""The question's actor, critic and keras-rl2 DDPGAgent, layer by layer and argument by argument.

This file has a twin. ``original/agent.py`` is the question's code with every bug in place,
marked ``# BUG-n``; ``fixed/agent.py`` is the same code corrected, each change marked ``# FIX-n``,
``# IMPROVEMENT-n`` or ``# PORT`` (docs/bugs.md, docs/porting.md). The numbers are in the
variant's ``hyperparameters.py``. ``diff -u original/agent.py fixed/agent.py`` lists the changes.
"""
from shared import keras_rl  # noqa: F401  (PORT: tf-keras must be set up before TensorFlow loads)

import numpy as np  # FIX-17, FIX-18, FIX-19: the classes below
from rl.core import Processor  # FIX-17: ScaleObservations
from rl.random import GaussianWhiteNoiseProcess  # FIX-11
from tensorflow.keras import backend as K  # the saturation penalty beyond FIX-6
from tensorflow.keras.initializers import RandomUniform  # FIX-6
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input
from tensorflow.keras.models import Model, Sequential
# PORT: keras-rl2 turns eager execution off, which only the legacy optimizers support.
from tensorflow.keras.optimizers.legacy import Adam

from .hyperparameters import HYPERPARAMETERS
from .observations import scale_observation  # FIX-17: the map, also used without TensorFlow (policy.py)
from shared.checks import step_budget  # FIX-15
from shared.old_step_api import RemembersTruncation  # FIX-12
from .hooked_ddpg import EpisodeMemory, HookedDDPGAgent  # keras-rl2's DDPG, with doors for FIX-12 and beyond FIX-6
from .fast_ddpg import FastDDPGAgent, replay_memory  # the same DDPG, in one graph call per update (speed only)

# Beyond FIX-6: tanh(2) = 0.964: past this pre-activation the actor's gradient all but vanishes.
TANH_USEFUL_RANGE = 2.0


def build_actor(env, window_length=HYPERPARAMETERS.window_length):  # FIX-20
    nb_actions = env.action_space.shape[0]
    # Building Actor agent (Policy-net)
    actor = Sequential()
    # FIX-20: the leading dimension is the memory's window_length, passed in, not typed by hand.
    actor.add(Flatten(input_shape=(window_length,) + env.observation_space.shape, name='flatten'))
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
    # FIX-17: observations arrive scaled by ScaleObservations (see build_agent); FIX-20.
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


class ScaleObservations(Processor):
    """FIX-17: observations of order 1 for the networks, by one affine map set from a reference (the env's first)."""

    def __init__(self, reference_observation):
        reference = np.asarray(reference_observation, dtype=np.float64)
        self.center = float(reference.mean())
        self.scale = float(reference.std()) or 1.0

    def process_observation(self, observation):
        return scale_observation(observation, self.center, self.scale)


class FixedDDPGAgent(HookedDDPGAgent):  # keras-rl2's DDPGAgent with doors for these (fixed/hooked_ddpg.py)
    """keras-rl2's DDPGAgent with the fixes keras-rl2 itself needs (FIX-12, -15, -18, -19) and beyond FIX-6."""

    def __init__(self, *args, saturation_penalty=0.0, time_limit_is_terminal=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.saturation_penalty = saturation_penalty
        self.time_limit_is_terminal = time_limit_is_terminal  # FIX-12: False
        self._steps = None  # FIX-12: the env as fit drives it, which tells a time limit from an end

    def actor_loss(self, q_values, pre_tanh):
        # Beyond FIX-6: keras-rl's -mean(Q) plus a penalty, zero while |pre-activation| < 2, that brings
        # an actor back from tanh's flat tails, where its gradient vanishes.
        tail = K.relu(K.abs(pre_tanh) - TANH_USEFUL_RANGE)
        return -K.mean(q_values) + self.saturation_penalty * K.mean(K.square(tail))

    def process_state_batch(self, batch):
        # FIX-19: stack the batch as float32 straight away; keras-rl builds an object array.
        batch = np.asarray(batch, dtype=np.float32)
        return batch if self.processor is None else self.processor.process_state_batch(batch)

    def select_action(self, state):
        # FIX-18: clip actor output plus noise before it is stored: the actions the env really applied.
        return np.clip(super().select_action(state), -1.0, 1.0)

    def store_as_terminal(self, terminal):
        # FIX-12: a time limit is not a terminal state; keep bootstrapping through it.
        return terminal and (self.time_limit_is_terminal or not (self._steps is not None and self._steps.truncated))

    def fit(self, env, nb_steps, *args, nb_max_episode_steps=None, **kwargs):
        # FIX-15: keras-rl2's np.int16 counter wraps at 32767 and fit never ends: refuse before any work.
        step_budget(nb_steps)
        if nb_max_episode_steps is not None:
            raise ValueError('nb_max_episode_steps makes keras-rl store its time limit as a terminal '
                             'state (BUG-12); give the env its own time limit instead (truncation).')
        self._steps = RemembersTruncation(env)  # FIX-12: whether fit's last step was a time limit
        return super().fit(self._steps, nb_steps, *args, **kwargs)


class FastFixedDDPGAgent(FixedDDPGAgent, FastDDPGAgent):
    """The same agent, its update in one graph call on a float32 memory (fixed/fast_ddpg.py): speed only."""


def build_agent(env, hp=HYPERPARAMETERS, training_steps=None, reference_observation=None,
                hindsight=None, fast_update=True):  # IMPROVEMENT-5; beyond FIX-19: fast_update
    """Return the compiled agent (FIX-13: no policy object), sized for ``training_steps`` (FIX-5); FIX-17:
    ``reference_observation`` sets the scaling; ``hindsight`` relabels goals; ``fast_update``: speed only."""
    nb_actions = env.action_space.shape[0]
    nb_steps = training_steps or hp.nb_steps  # FIX-5
    actor = build_actor(env, hp.window_length)  # FIX-20
    critic, action_input = build_critic(env, hp.window_length)  # FIX-20
    processor = ScaleObservations(reference_observation)  # FIX-17
    # Building Keras agent
    if hindsight is not None and not fast_update:
        raise ValueError('hindsight replay (IMPROVEMENT-5) builds on the fast path\'s memory: it needs fast_update')
    # FIX-5: the memory holds the whole run; FIX-12: it stores nothing of fit's made-up step after an episode.
    memory = EpisodeMemory(limit=hp.memory_limit or max(nb_steps, 1000), window_length=hp.window_length)
    agent_class = FixedDDPGAgent
    if fast_update:  # beyond FIX-19, speed only: one graph call per update, on float32 arrays (fast_ddpg.py)
        agent_class, memory = FastFixedDDPGAgent, replay_memory(env, memory, hp.gamma, hindsight, processor)  # IMPROVEMENT-5
    # FIX-13: no BoltzmannQPolicy: DDPG's policy is its actor plus exploration noise.
    # FIX-11: independent Gaussian noise, broad at first and annealed: far-apart actions, then refined.
    random_process = GaussianWhiteNoiseProcess(size=nb_actions, mu=0.0, sigma=hp.noise_sigma, sigma_min=hp.noise_sigma_min,
                                               n_steps_annealing=max(1, int(hp.noise_annealing_fraction * nb_steps)))
    # FIX-4: warmups well below nb_steps (a tenth of a short run, at least one batch): training happens.
    warmup_critic = max(hp.batch_size, min(hp.nb_steps_warmup_critic, nb_steps // 10))
    warmup_actor = max(hp.batch_size, min(hp.nb_steps_warmup_actor, nb_steps // 10))
    # FIX-22: gamma=0: the next observation does not depend on the action; the best immediate reward wins.
    # FIX-12, FIX-15, FIX-18, FIX-19: keras-rl2's own bugs, corrected in FixedDDPGAgent.
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

