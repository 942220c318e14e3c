"""keras-rl2's DDPG, opened at the three places the fixes change it, and nothing else.

``HookedDDPGAgent`` is keras-rl2's ``DDPGAgent`` with its own update and memory. keras-rl2 writes
the actor's loss inside ``compile`` and stores every episode end from inside ``backward``, so a fix
to either needs a door; these are the doors, with keras-rl2's behaviour behind each by default:

- ``actor_loss(q_values, pre_tanh)``: keras-rl2's ``-mean(Q(s, mu(s)))``;
- ``store_as_terminal(terminal)``: keras-rl2 stores every end of an episode as terminal;
- ``gradient_steps``: updates per environment step, each on a batch of its own (keras-rl2: 1).

``fixed/keras_rl2_fixes.py``'s ``FixedDDPGAgent`` overrides them; ``fixed/fast_ddpg.py`` computes the same
update faster behind the same doors.
"""
from shared import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

import numpy as np
import tensorflow as tf
from rl.agents import DDPGAgent
from rl.memory import SequentialMemory
from rl.util import get_soft_target_model_updates
from tensorflow.keras import backend as K
from tensorflow.keras.models import Model


class EpisodeMemory(SequentialMemory):
    """keras-rl2's ``SequentialMemory``, told by its agent which calls of ``append`` store nothing."""

    skip_next = False

    def append(self, observation, action, reward, terminal, training=True):
        if self.skip_next:
            self.skip_next = False
            return
        super().append(observation, action, reward, terminal, training=training)


def soft_target_updates(target, model, tau, after):
    """Soft target update, ``target <- tau * model + (1 - tau) * target``, read only once ``after``
    (the model's optimizer step) has run: in one graph call nothing else orders the two, and a
    run whose update reads its targets (gamma above 0) would not repeat from its seed."""
    with tf.control_dependencies(tf.nest.flatten(after)):
        return get_soft_target_model_updates(target, model, tau)


class HookedDDPGAgent(DDPGAgent):
    """keras-rl2's ``DDPGAgent`` with the hooks above; its ``memory`` is an ``EpisodeMemory``."""

    update = 'keras-rl2'
    """How the update is computed (``result.json``'s ``update``)."""

    def __init__(self, *args, gradient_steps=1, **kwargs):
        super().__init__(*args, **kwargs)
        self.gradient_steps = int(gradient_steps)

    def actor_loss(self, q_values, pre_tanh):
        """keras-rl2's actor loss, ``-mean(Q(s, mu(s)))``; ``pre_tanh`` is the actor's output before its last layer."""
        return -K.mean(q_values)

    def store_as_terminal(self, terminal):
        """Whether an episode's end, as ``fit`` reports it, is stored as a terminal state (keras-rl2: always)."""
        return terminal

    def compile(self, optimizer, metrics=[]):
        super().compile(optimizer, metrics=list(metrics))
        self._compile_updates()

    def _compile_updates(self):
        """keras-rl2's actor step, built again with ``actor_loss`` (keras-rl2 writes its own loss inline)."""
        state_inputs = [tensor for tensor in self.critic.inputs if tensor is not self.critic_action_input]
        actions, updates = self._actor_updates(state_inputs[0])
        self.actor_train_fn = K.function(state_inputs, [actions], updates=updates + self.actor.updates)

    def _actor_updates(self, state):
        """The actor's loss on ``state`` and the update ops of its optimizer (and soft target)."""
        pre_tanh = Model(self.actor.inputs, self.actor.layers[-2].output)(state)
        actions = self.actor.layers[-1](pre_tanh)  # the last layer: one pass through the actor, not two
        critic_inputs = [state]
        critic_inputs.insert(self.critic_action_input_idx, actions)
        q_values = self.critic(critic_inputs)
        loss = self.actor_loss(q_values, pre_tanh)
        updates = self.actor_optimizer.get_updates(params=self.actor.trainable_weights, loss=loss)
        return actions, updates + soft_target_updates(self.target_actor, self.actor, self.target_model_update, updates)

    def reset_states(self):
        super().reset_states()
        self._episode_over = False

    def backward(self, reward, terminal=False):
        # keras-rl's fit calls forward/backward once more after an episode ends, with a made-up
        # reward of 0: not a transition of the env, so not stored. (keras-rl2's memory skips it
        # only while the step before was stored as terminal.)
        made_up = self._episode_over
        self._episode_over = self.training and terminal and not made_up
        metrics = [np.nan for _ in self.metrics_names]
        for update in range(self.gradient_steps):  # each on a batch of its own; the transition stored once
            self.memory.skip_next = made_up or update > 0
            metrics = super().backward(reward, terminal=self.store_as_terminal(terminal))
        return metrics

    def policy_action(self, observation):
        """The noise-free action for the first observation of an episode (already processed).

        The actor alone: no exploration noise, and nothing stored or changed in the agent, so it
        can be asked in the middle of training.
        """
        state = np.zeros((self.memory.window_length,) + np.shape(observation), dtype=np.float32)
        state[-1] = observation  # zeros before the episode's first observation, as in forward
        return np.clip(self.actor_outputs(state[None])[0], -1.0, 1.0)

    def actor_outputs(self, states):
        """The actor's outputs for a batch of states."""
        return self.actor.predict_on_batch(states)
