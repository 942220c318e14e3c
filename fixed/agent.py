"""The question's actor, critic and keras-rl2 DDPGAgent, corrected so that they learn.

Each change from original/agent.py is marked ``# FIX-n`` (docs/bugs.md). Where keras-rl2
itself is the bug, ``FixedDDPGAgent`` and ``ScaleObservations`` below correct it.
"""
from stepsignal import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

from collections import deque

import numpy as np
from rl.agents import DDPGAgent
from rl.core import Processor
from rl.random import GaussianWhiteNoiseProcess
from rl.util import get_soft_target_model_updates, huber_loss
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2
from tensorflow.keras import backend as K
from tensorflow.keras.initializers import RandomUniform
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input
from tensorflow.keras.models import Model, Sequential
from tensorflow.keras.optimizers.legacy import Adam

from stepsignal.limits import MAX_KERAS_RL_STEPS

WINDOW_LENGTH = 1
# tanh(2) = 0.964: beyond this pre-activation the actor's gradient all but vanishes (FIX-6).
TANH_USEFUL_RANGE = 2.0
CRITIC_LEARNING_RATE = 1e-3
"""The critic's Adam step, the question's 1e-3."""
ACTOR_LEARNING_RATE = 1e-5
"""IMPROVEMENT-2: the actor's Adam step, 100 times the critic's smaller.

Adam moves every weight by about its learning rate per update, whatever the gradient's size. The
actor's first layer takes 1,200 inputs, and on the question's scenario they are the same at every
step, so all 1,200 weights of a unit move the same way and its pre-activation moves up to 1,200
times as far. At the DDPG paper's 1e-4 the noise-free action crossed from the centre of the action
square to its edge in about 50 updates, long before the critic knew the reward's shape, and
which edge it hit decided the basin (docs/bugs.md#improvement-2)."""
GRADIENT_STEPS = 2
"""IMPROVEMENT-3: DDPG updates per environment step, each on a batch of its own.

keras-rl makes one; Stable-Baselines3 calls this ``gradient_steps``. On random scenarios the
policy must read the right offset off the observation to within 0.04 for every scenario of the
family; with one update per step, 15,000 steps left it short at the family's edges (93% of
never-seen scenarios on some seeds), with two it is not (docs/bugs.md#improvement-3)."""


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
    # FIX-23: the action gets a hidden layer of its own before it meets the observation. Each of
    # its relu units switches on a line across the action square, so Q can bend where the reward
    # bends (the tip of the offset's V). Where the action is 2 inputs of a layer fed by the
    # observation, every unit's on/off is set by the observation, and Q is linear in the action.
    x = Dense(128)(flattened_observation)
    x = Activation('relu')(x)
    a = Dense(64)(action_input)
    a = Activation('relu')(a)
    x = Concatenate()([a, x])
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


def graph_function(inputs, outputs, updates=()):
    """``K.function(inputs, outputs, updates=updates)`` without its per-call overhead.

    keras-rl2 runs in graph mode. Each ``K.function`` call re-checks the session and repacks its
    arguments, and ``Session.run`` (also behind ``Session.make_callable`` when it has feeds)
    rebuilds its feed and fetch lists: about 0.5 ms per call, more than a small network's
    forward pass. A callable made from ``CallableOptions`` (the same one Keras' own graph
    functions use) is set up once and then only hands the arrays to TensorFlow.
    """
    session = tf.compat.v1.keras.backend.get_session()  # also initialises the variables created so far (optimizer slots)
    options = config_pb2.CallableOptions()
    options.feed.extend(tensor.name for tensor in inputs)
    options.fetch.extend(tensor.name for tensor in outputs)
    if updates:
        # keras-rl's soft target updates are (variable, new value) pairs, which K.function turns
        # into assignments; tf.group alone would only read them, and the targets would never move.
        ops = [tf.compat.v1.assign(*update) if isinstance(update, tuple) else update for update in updates]
        options.target.append(tf.group(*ops).name)
    run = session._make_callable_from_options(options)
    dtypes = [tensor.dtype.as_numpy_dtype for tensor in inputs]
    return lambda values: run(*[np.asarray(value, dtype=dtype) for value, dtype in zip(values, dtypes)])


class ReplayMemory:
    """FIX-19: the replay memory as preallocated float32 arrays, one row per transition.

    keras-rl's ``SequentialMemory`` rebuilds every sampled state from single observations in a
    Python loop and hands back lists that become object arrays; here a batch is one fancy index
    per array. States are stored already stacked (``window_length`` observations), so the state
    after a transition is stored with it.
    """

    def __init__(self, limit, window_length, observation_shape, nb_actions):
        self.limit = int(limit)
        self.window_length = int(window_length)
        state_shape = (self.limit, self.window_length) + tuple(observation_shape)
        self.states0 = np.zeros(state_shape, dtype=np.float32)
        self.actions = np.zeros((self.limit, nb_actions), dtype=np.float32)
        self.rewards = np.zeros(self.limit, dtype=np.float32)
        self.terminals1 = np.zeros(self.limit, dtype=bool)
        self.states1 = np.zeros(state_shape, dtype=np.float32)
        self.nb_entries = 0
        self._next = 0

    def append(self, state0, action, reward, terminal1, state1):
        """Store one transition; once full, the oldest is overwritten."""
        i = self._next
        self.states0[i], self.actions[i], self.rewards[i] = state0, action, reward
        self.terminals1[i], self.states1[i] = terminal1, state1
        self._next = (i + 1) % self.limit
        self.nb_entries = min(self.nb_entries + 1, self.limit)

    def sample(self, batch_size):
        """``batch_size`` transitions drawn uniformly with numpy's global generator (seeded)."""
        i = np.random.randint(0, self.nb_entries, size=batch_size)
        return self.states0[i], self.actions[i], self.rewards[i], self.terminals1[i], self.states1[i]


class FixedDDPGAgent(DDPGAgent):
    """keras-rl2's DDPGAgent with the fixes keras-rl2 itself needs (FIX-6, -12, -15, -18, -19).

    It computes DDPG's updates exactly as keras-rl2 does (the same Keras models, losses and
    optimizers; ``tests/test_speed.py`` checks the resulting weights), but an update costs one
    graph call instead of keras-rl2's five, on float32 batches from ``ReplayMemory``.
    """

    def __init__(self, *args, saturation_penalty=1.0, gradient_steps=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.saturation_penalty = saturation_penalty
        self.gradient_steps = int(gradient_steps)  # IMPROVEMENT-3: updates per environment step
        self._truncated = False  # set after every env step by _TruncationReporter

    def compile(self, optimizer, metrics=[]):
        super().compile(optimizer, metrics=list(metrics))
        self._compile_updates()
        self._act = graph_function(self.actor.inputs, self.actor.outputs)  # no predict_on_batch overhead

    def _actor_updates(self, state):
        """The actor's loss on ``state`` and the update ops of its optimizer (and soft target)."""
        # FIX-6: keras-rl's actor loss is -mean(Q(s, actor(s))). Once a tanh output is pushed
        # into its flat tail (|pre-activation| > 2, |action| > 0.96), its gradient vanishes and
        # the actor sits in a corner of the action space for thousands of steps. Add a penalty
        # that is zero inside that range and grows outside it, so the actor can always come back.
        pre_tanh = Model(self.actor.inputs, self.actor.layers[-2].output)(state)
        actions = self.actor.layers[-1](pre_tanh)  # the tanh: one pass through the actor, not two
        critic_inputs = [state]
        critic_inputs.insert(self.critic_action_input_idx, actions)
        q_values = self.critic(critic_inputs)
        tail = K.relu(K.abs(pre_tanh) - TANH_USEFUL_RANGE)
        loss = -K.mean(q_values) + self.saturation_penalty * K.mean(K.square(tail))
        updates = self.actor_optimizer.get_updates(params=self.actor.trainable_weights, loss=loss)
        updates += get_soft_target_model_updates(self.target_actor, self.actor, self.target_model_update)
        return actions, updates

    def _compile_updates(self):
        """FIX-19: DDPG's update in few graph calls, targets included.

        keras-rl2 calls the target actor, the target critic, ``train_on_batch`` and the actor's
        update, each a separate call with its own conversions. The same computation here:
        ``y = r + gamma * (1 - terminal1) * Q'(s1, mu'(s1))``, a step of the critic's own optimizer
        (with its soft target update) on ``mean(0.5 * (y - Q(s0, a))**2)``, then, in the same call
        but only after that step (as keras-rl2 does it), the actor's step against the new critic.
        """
        state_shape = tuple(self.actor.input_shape[1:])
        state0 = K.placeholder(shape=(None,) + state_shape, name='state0')
        state1 = K.placeholder(shape=(None,) + state_shape, name='state1')
        action = K.placeholder(shape=(None, self.nb_actions), name='action')
        reward = K.placeholder(shape=(None,), name='reward')
        not_terminal1 = K.placeholder(shape=(None,), name='not_terminal1')
        batch = [state0, action, reward, not_terminal1, state1]

        def q(critic, state, act):
            inputs = [state]
            inputs.insert(self.critic_action_input_idx, act)
            return K.flatten(critic(inputs))

        if self.gamma == 0:  # nothing to bootstrap (FIX-22): skip two network passes per update
            target = reward
        else:
            target = K.stop_gradient(reward + self.gamma * not_terminal1 * q(self.target_critic, state1,
                                                                              self.target_actor(state1)))
        q0 = q(self.critic, state0, action)
        loss = K.mean(huber_loss(target, q0, self.delta_clip))
        critic_updates = self.critic.optimizer.get_updates(params=self.critic.trainable_weights, loss=loss)
        metrics = [loss, K.mean(K.abs(target - q0)), K.mean(q0)]  # keras-rl's loss, mae, mean_q
        self.critic_train_fn = graph_function(batch, metrics, critic_updates)

        actions, actor_updates = self._actor_updates(state0)
        self.actor_train_fn = graph_function([state0], [actions], actor_updates)
        with tf.control_dependencies(tf.nest.flatten(critic_updates)):  # the actor sees the new critic
            _, actor_after_critic = self._actor_updates(state0)
        self.train_fn = graph_function(batch, metrics, critic_updates + actor_after_critic)

    def reset_states(self):
        super().reset_states()
        self._recent = deque(maxlen=self.memory.window_length)
        self._pending = None  # the last transition, waiting for the state that follows it
        self._episode_over = False

    def process_state_batch(self, batch):
        # FIX-19: stack the batch as float32 straight away; keras-rl builds an object array.
        batch = np.asarray(batch, dtype=np.float32)
        if self.processor is None:
            return batch
        return self.processor.process_state_batch(batch)

    def select_action(self, state):
        action = self._act([np.asarray(state, dtype=np.float32)[None]])[0][0]
        if self.training and self.random_process is not None:
            action = action + self.random_process.sample()
        # FIX-18: clip actor output plus noise to the action space *before* it is stored, so
        # the critic learns about the actions the env really applied.
        return np.clip(action, -1.0, 1.0)

    def policy_action(self, observation):
        """The noise-free action for the first observation of an episode (already processed).

        The actor alone: no exploration noise, and nothing stored or changed in the agent, so it
        can be asked in the middle of training.
        """
        state = np.zeros((self.memory.window_length,) + np.shape(observation), dtype=np.float32)
        state[-1] = observation  # zeros before the episode's first observation, as in forward
        return np.clip(self._act([state[None]])[0][0], -1.0, 1.0)

    def forward(self, observation):
        self._recent.append(np.asarray(observation, dtype=np.float32))
        state = np.zeros((self.memory.window_length,) + self._recent[0].shape, dtype=np.float32)
        state[-len(self._recent):] = self._recent  # zeros before the episode's first observation
        if self._pending is not None:  # the previous transition ends in this state
            self.memory.append(*self._pending, state)
            self._pending = None
        action = self.select_action(state)
        self.recent_observation, self.recent_action, self._state = observation, action, state
        return action

    def backward(self, reward, terminal=False):
        episode_ends = terminal
        # FIX-12: a time limit is not a terminal state; keep bootstrapping through it.
        terminal = terminal and not self._truncated
        if self.training:
            if self._episode_over:
                # keras-rl's fit calls forward/backward once more after an episode ends, with a
                # made-up reward of 0: that is not a transition of the env, so it is not stored.
                self._episode_over = False
            else:
                self._pending = (self._state, self.recent_action, reward, terminal)
                self._episode_over = episode_ends
        metrics = [np.nan for _ in self.metrics_names]
        can_train = self.step > self.nb_steps_warmup_critic or self.step > self.nb_steps_warmup_actor
        if self.training and can_train and self.step % self.train_interval == 0 and self.memory.nb_entries:
            for _ in range(self.gradient_steps):  # IMPROVEMENT-3: each on a batch of its own
                metrics = self._update()
        if self.target_model_update >= 1 and self.step % self.target_model_update == 0:
            self.update_target_models_hard()
        return metrics

    def _update(self):
        """One DDPG update on a fresh batch from memory; returns keras-rl's metrics (or NaNs)."""
        state0, action, reward_batch, terminal1, state1 = self.memory.sample(self.batch_size)
        batch = [state0, action, reward_batch, 1.0 - terminal1, state1]
        critic_due = self.step > self.nb_steps_warmup_critic
        actor_due = self.step > self.nb_steps_warmup_actor
        if critic_due and actor_due:
            return self.train_fn(batch)  # both in one call, critic first
        if critic_due:
            return self.critic_train_fn(batch)
        self.actor_train_fn([state0])
        return [np.nan for _ in self.metrics_names]

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


def build_agent(env, nb_steps, reference_observation, window_length=WINDOW_LENGTH,
                actor_learning_rate=ACTOR_LEARNING_RATE):
    """Return the compiled agent, sized for a run of ``nb_steps`` environment steps.

    ``reference_observation`` (the env's first) sets the observation scaling (FIX-17).
    ``actor_learning_rate`` is IMPROVEMENT-2's; the tests compare it with the DDPG paper's 1e-4.
    """
    nb_actions = env.action_space.shape[0]
    actor = build_actor(env, window_length)
    critic, action_input = build_critic(env, window_length)
    # Building Keras agent
    # FIX-5: the memory holds the whole run, so nothing is forgotten before it is learnt from.
    memory = ReplayMemory(limit=max(nb_steps, 1000), window_length=window_length,
                          observation_shape=env.observation_space.shape, nb_actions=nb_actions)
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
                           batch_size=batch_size, processor=ScaleObservations(reference_observation),
                           gradient_steps=GRADIENT_STEPS)
    # FIX-6: the actor learns slower than the critic, so that it does not outrun the critic's
    # estimate into a corner of the action space (the DDPG paper: 10 times slower).
    # IMPROVEMENT-2: 100 times slower here, for an actor with 1,200 inputs (ACTOR_LEARNING_RATE).
    # (With gamma=0 the target networks serve no target; target_model_update only sets how fast
    # they follow.)
    agent.compile([Adam(learning_rate=actor_learning_rate, clipnorm=1.),
                   Adam(learning_rate=CRITIC_LEARNING_RATE, clipnorm=1.)], metrics=['mae'])
    return agent
