"""The question's actor, critic and keras-rl2 DDPGAgent, corrected so that they learn.

Each change from original/agent.py is marked ``# FIX-n`` (docs/bugs.md). Where keras-rl2
itself is the bug, ``FixedDDPGAgent`` and ``ScaleObservations`` below correct it.
"""
from stepsignal import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

import numpy as np
from rl.agents import DDPGAgent
from rl.core import Processor
from rl.memory import SequentialMemory
from rl.random import GaussianWhiteNoiseProcess
from rl.util import get_soft_target_model_updates
from tensorflow.keras import backend as K
from tensorflow.keras.initializers import RandomUniform
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input
from tensorflow.keras.models import Model, Sequential
from tensorflow.keras.optimizers.legacy import Adam

from stepsignal.limits import MAX_KERAS_RL_STEPS

WINDOW_LENGTH = 1
# tanh(2) = 0.964: beyond this pre-activation the actor's gradient all but vanishes (FIX-6).
TANH_USEFUL_RANGE = 2.0


def build_actor(env, window_length=WINDOW_LENGTH):
    nb_actions = env.action_space.shape[0]
    # Building Actor agent (Policy-net)
    actor = Sequential()
    # FIX-20: the leading dimension is the memory's window_length, passed in, not typed by hand.
    actor.add(Flatten(input_shape=(window_length,) + env.observation_space.shape, name='flatten'))
    actor.add(Dense(128))
    actor.add(Activation('relu'))
    actor.add(Dense(64))
    actor.add(Activation('relu'))
    # FIX-6: tanh bounds the output to the env's [-1, 1]; small final weights start it near 0,
    # away from tanh's flat tails (as in the DDPG paper).
    actor.add(Dense(nb_actions, kernel_initializer=RandomUniform(-3e-3, 3e-3)))
    actor.add(Activation('tanh'))
    return actor


def build_critic(env, window_length=WINDOW_LENGTH):
    nb_actions = env.action_space.shape[0]
    # Building Critic net (Q-net)
    action_input = Input(shape=(nb_actions,), name='action_input')
    # FIX-17: observations arrive scaled by ScaleObservations (see build_agent).
    observation_input = Input(shape=(window_length,) + env.observation_space.shape, name='observation_input')
    flattened_observation = Flatten()(observation_input)
    # FIX-23: the action joins after the observation's first layer (as in the DDPG paper), where
    # it is 2 inputs of 130 instead of 2 of 1202 and its effect on Q is not drowned out.
    x = Dense(128)(flattened_observation)
    x = Activation('relu')(x)
    x = Concatenate()([action_input, x])
    x = Dense(64)(x)
    x = Activation('relu')(x)
    x = Dense(1)(x)
    x = Activation('linear')(x)
    critic = Model(inputs=[action_input, observation_input], outputs=x)
    return critic, action_input


class ScaleObservations(Processor):
    """FIX-17: hand the networks float32 observations of order 1, not raw values of 3 to 5.

    ``center`` and ``scale`` are taken once from a reference observation (the env's first), so
    that the same affine map applies to every observation of the run.
    """

    def __init__(self, reference_observation):
        reference = np.asarray(reference_observation, dtype=np.float64)
        self.center = float(reference.mean())
        self.scale = float(reference.std()) or 1.0

    def process_observation(self, observation):
        return ((np.asarray(observation, dtype=np.float32) - self.center) / self.scale).astype(np.float32)


class FixedDDPGAgent(DDPGAgent):
    """keras-rl2's DDPGAgent with the fixes keras-rl2 itself needs (FIX-12, -15, -18, -19)."""

    def __init__(self, *args, saturation_penalty=1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.saturation_penalty = saturation_penalty
        self._truncated = False  # set after every env step by _TruncationReporter

    def compile(self, optimizer, metrics=[]):
        super().compile(optimizer, metrics=list(metrics))
        # FIX-6: keras-rl's actor loss is -mean(Q(s, actor(s))). Once a tanh output is pushed
        # into its flat tail (|pre-activation| > 2, |action| > 0.96), its gradient vanishes and
        # the actor sits in a corner of the action space for thousands of steps. Add a penalty
        # that is zero inside that range and grows outside it, so the actor can always come back.
        state_inputs = [i for i in self.critic.inputs if i is not self.critic_action_input]
        actions = self.actor(state_inputs)
        pre_tanh = Model(self.actor.inputs, self.actor.layers[-2].output)(state_inputs)
        critic_inputs = list(state_inputs)
        critic_inputs.insert(self.critic_action_input_idx, actions)
        q_values = self.critic(critic_inputs)
        tail = K.relu(K.abs(pre_tanh) - TANH_USEFUL_RANGE)
        loss = -K.mean(q_values) + self.saturation_penalty * K.mean(K.square(tail))
        updates = self.actor_optimizer.get_updates(params=self.actor.trainable_weights, loss=loss)
        updates += get_soft_target_model_updates(self.target_actor, self.actor, self.target_model_update)
        self.actor_train_fn = K.function(state_inputs + [K.learning_phase()], [actions], updates=updates)

    def process_state_batch(self, batch):
        # FIX-19: stack the batch as float32 straight away; keras-rl builds an object array.
        batch = np.asarray(batch, dtype=np.float32)
        if self.processor is None:
            return batch
        return self.processor.process_state_batch(batch)

    def select_action(self, state):
        # FIX-18: clip actor output plus noise to the action space *before* keras-rl stores it,
        # so the critic learns about the actions the env really applied.
        return np.clip(super().select_action(state), -1.0, 1.0)

    def backward(self, reward, terminal=False):
        # FIX-12: a time limit is not a terminal state; keep bootstrapping through it.
        return super().backward(reward, terminal=terminal and not self._truncated)

    def fit(self, env, nb_steps, *args, nb_max_episode_steps=None, **kwargs):
        # FIX-15: keras-rl2's np.int16 counter wraps at 32767 and then never ends fit, with
        # warmups counted as unfinished: refuse before any work is lost.
        if nb_steps > MAX_KERAS_RL_STEPS:
            raise ValueError(f'nb_steps={nb_steps} is more than keras-rl2 can count: its step counter is '
                             f'np.int16 and wraps after {MAX_KERAS_RL_STEPS} steps, after which fit never '
                             f'ends and learning stops. Use at most {MAX_KERAS_RL_STEPS} steps per fit call.')
        if nb_max_episode_steps is not None:
            raise ValueError('nb_max_episode_steps makes keras-rl store its time limit as a terminal '
                             'state (BUG-12); give the env its own time limit instead (truncation).')
        return super().fit(_TruncationReporter(env, self), nb_steps, *args, **kwargs)


class _TruncationReporter:
    """Tell the agent, after each env step, whether ``done`` was a time-limit truncation."""

    def __init__(self, env, agent):
        self.env = env
        self.agent = agent

    def __getattr__(self, name):
        return getattr(self.env, name)

    def step(self, action):
        observation, reward, done, info = self.env.step(action)
        self.agent._truncated = bool(info.get('TimeLimit.truncated', False))
        return observation, reward, done, info


def build_agent(env, nb_steps, reference_observation, window_length=WINDOW_LENGTH):
    """Return the compiled agent, sized for a run of ``nb_steps`` environment steps.

    ``reference_observation`` (the env's first) sets the observation scaling (FIX-17).
    """
    nb_actions = env.action_space.shape[0]
    actor = build_actor(env, window_length)
    critic, action_input = build_critic(env, window_length)
    # Building Keras agent
    # FIX-5: the memory holds the whole run, so nothing is forgotten before it is learnt from.
    memory = SequentialMemory(limit=max(nb_steps, 1000), window_length=window_length)
    # FIX-13: no BoltzmannQPolicy: DDPG's policy is its actor plus exploration noise.
    # FIX-11: independent Gaussian noise, broad at first (sigma 0.6 of the [-1, 1] range) and
    # annealed to 0.05 over 60% of the run: the agent tries far-apart actions, then refines.
    random_process = GaussianWhiteNoiseProcess(size=nb_actions, mu=0.0, sigma=0.6, sigma_min=0.05,
                                               n_steps_annealing=max(1, int(0.6 * nb_steps)))
    # FIX-4: warmups of a few hundred steps, well below nb_steps, so training actually happens.
    # FIX-22: gamma=0: the fixed env's next observation does not depend on the action (each step
    # filters the same input), so the best action is the one with the best immediate reward.
    batch_size = 64
    warmup = max(batch_size, min(200, nb_steps // 10))  # at least one batch without repeats
    agent = FixedDDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                           memory=memory, nb_steps_warmup_critic=warmup, nb_steps_warmup_actor=warmup,
                           random_process=random_process, gamma=0.0, target_model_update=1e-2,
                           batch_size=batch_size, processor=ScaleObservations(reference_observation))
    agent.compile([Adam(learning_rate=1e-4, clipnorm=1.), Adam(learning_rate=1e-3, clipnorm=1.)], metrics=['mae'])
    return agent
