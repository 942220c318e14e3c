"""keras-rl2's DDPG update, computed as keras-rl2 computes it, in one graph call: speed only.

Nothing here is a fix. ``FastDDPGAgent`` is ``fixed/hooked_ddpg.py``'s ``HookedDDPGAgent`` (keras-rl2's
``DDPGAgent`` with the doors the fixes use) with the same Keras models, losses and optimizers
(``tests/test_speed.py`` checks the weights an update gives against stock keras-rl2's), but an update
costs one graph call instead of five, on float32 batches from a preallocated ``ReplayMemory``, and the
actor answers without ``predict_on_batch``'s overhead. It is the default; ``Extras(fast_update=False)``
(``fixed/extras.py``, ``--plain-keras-rl2``) trains on keras-rl2's own update instead. docs/bugs.md#bug-19
and benchmarks/speed/ say how much faster it is.

Two pieces, and the memory they use:

- ``graph_function``: a graph-mode callable without Keras' per-call overhead;
- ``FastDDPGAgent``: acting, storing and updating with it, on ``fixed.replay.ReplayMemory``
  (transitions as preallocated float32 arrays, a batch one index per array).
"""
from shared import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

from collections import deque

import numpy as np
import tensorflow as tf
from rl.util import AdditionalUpdatesOptimizer, huber_loss
from tensorflow.core.protobuf import config_pb2
from tensorflow.keras import backend as K

from .hooked_ddpg import HookedDDPGAgent, soft_target_updates
from .replay import ReplayMemory


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


def replay_memory(env, memory, gamma, hindsight=None, processor=None):
    """The fast path's memory in place of keras-rl2's ``memory`` (its limit and window): a ``ReplayMemory``,
    or ``hindsight``'s, built on it, which scales a new goal as ``processor`` scales observations. With
    ``gamma`` 0 it keeps no next state: the update never reads one."""
    size = dict(limit=memory.limit, window_length=memory.window_length, observation_shape=env.observation_space.shape,
                nb_actions=env.action_space.shape[0], next_states=gamma != 0)
    if hindsight is None:
        return ReplayMemory(**size)
    return hindsight.memory(env, **size, goal_to_state=None if processor is None else processor.process_observation)


class FastDDPGAgent(HookedDDPGAgent):
    """keras-rl2's ``DDPGAgent`` behind the same hooks (``fixed/hooked_ddpg.py``), acting, storing and
    updating without its per-call overheads. Its ``memory`` must be a ``fixed.replay.ReplayMemory``."""

    update = 'one graph call'

    def compile(self, optimizer, metrics=[]):
        super().compile(optimizer, metrics=metrics)  # ends with this class's _compile_updates
        self._act = graph_function(self.actor.inputs, self.actor.outputs)  # no predict_on_batch overhead

    def _compile_updates(self):
        """DDPG's update, as its four steps in the order they run, in one graph call.

        keras-rl2 computes the same update in five calls (the target actor, the target critic,
        ``train_on_batch``, the actor's update), each with its own conversions; here the whole
        update is one call of ``train_fn``. The steps:

        1. Target Q: ``y = r + gamma * (1 - terminal1) * Q'(s1, mu'(s1))``, from the target networks.
        2. Critic loss: Huber (here squared, keras-rl's ``delta_clip`` is inf) between ``y`` and
           ``Q(s0, a)``; one Adam step of the critic on it.
        3. Actor loss: ``actor_loss`` against the critic *after* step 2; one Adam step of the actor.
        4. Soft target update: each target weight moves ``tau`` of the way towards its network's.
        """
        state_shape = tuple(self.actor.input_shape[1:])
        state0 = K.placeholder(shape=(None,) + state_shape, name='state0')
        state1 = K.placeholder(shape=(None,) + state_shape, name='state1')
        action = K.placeholder(shape=(None, self.nb_actions), name='action')
        reward = K.placeholder(shape=(None,), name='reward')
        not_terminal1 = K.placeholder(shape=(None,), name='not_terminal1')
        batch = [state0, action, reward, not_terminal1] + ([state1] if self.gamma else [])

        def q(critic, state, act):
            inputs = [state]
            inputs.insert(self.critic_action_input_idx, act)
            return K.flatten(critic(inputs))

        # 1. Target Q: what Q(s0, a) should be. The target networks move slowly (step 4), so the
        #    critic is not chasing its own output. With gamma 0 it is the reward alone.
        if self.gamma == 0:  # nothing to bootstrap: skip two network passes per update
            target = reward
        else:
            target = K.stop_gradient(reward + self.gamma * not_terminal1 * q(self.target_critic, state1,
                                                                              self.target_actor(state1)))
        # 2. Critic loss: how far the critic's Q(s0, a) is from the target; one step of its
        #    optimizer. keras-rl wraps that optimizer so that its updates include step 4 for the
        #    critic's target (AdditionalUpdatesOptimizer); here step 4 is built after the step, so
        #    that it moves the target towards the critic the step wrote, after step 1 has read it.
        q0 = q(self.critic, state0, action)
        loss = K.mean(huber_loss(target, q0, self.delta_clip))
        optimizer = self.critic.optimizer
        wrapped = isinstance(optimizer, AdditionalUpdatesOptimizer)
        critic_updates = (optimizer.optimizer if wrapped else optimizer).get_updates(
            params=self.critic.trainable_weights, loss=loss)
        if wrapped:
            critic_updates += soft_target_updates(self.target_critic, self.critic, self.target_model_update,
                                                  critic_updates)
        metrics = [loss, K.mean(K.abs(target - q0)), K.mean(q0)]  # keras-rl's loss, mae, mean_q
        self.critic_train_fn = graph_function(batch, metrics, critic_updates)

        # 3. Actor loss, against the updated critic: move mu(s0) towards actions the critic rates
        #    higher; 4. for the actor's target comes with it (HookedDDPGAgent._actor_updates).
        #    (While only one network is past its warmup, critic_train_fn or actor_train_fn runs alone.)
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

    def select_action(self, state):
        action = self._act([np.asarray(state, dtype=np.float32)[None]])[0][0]
        if self.training and self.random_process is not None:
            action = action + self.random_process.sample()
        return action

    def actor_outputs(self, states):
        return self._act([states])[0]

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
        terminal = self.store_as_terminal(terminal)
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
            for _ in range(self.gradient_steps):  # each on a batch of its own
                metrics = self._update()
        if self.target_model_update >= 1 and self.step % self.target_model_update == 0:
            self.update_target_models_hard()
        return metrics

    def _update(self):
        """One DDPG update on a fresh batch from memory; returns keras-rl's metrics (or NaNs)."""
        state0, action, reward_batch, terminal1, state1 = self.memory.sample(self.batch_size)
        batch = [state0, action, reward_batch, 1.0 - terminal1] + ([state1] if self.gamma else [])
        critic_due = self.step > self.nb_steps_warmup_critic
        actor_due = self.step > self.nb_steps_warmup_actor
        if critic_due and actor_due:
            return self.train_fn(batch)  # both in one call, critic first
        if critic_due:
            return self.critic_train_fn(batch)
        self.actor_train_fn([state0])
        return [np.nan for _ in self.metrics_names]

