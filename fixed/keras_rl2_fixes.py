"""keras-rl2's DDPGAgent with the fixes only keras-rl2 itself can take: no line of the question's
script holds these bugs, the library does (docs/bugs.md).

- FIX-12: a time limit is stored as a truncation, not a terminal state (``fit`` never passes
  ``info`` to ``backward``, so the agent asks the env adapter, ``RemembersTruncation``);
- FIX-15: ``fit`` refuses more steps than keras-rl2's int16 step counter can count;
- FIX-18: the actions stored are the ones the env applied, clipped to [-1, 1];
- FIX-19: a state batch is stacked as float32 at once, not as an object array;
- beyond FIX-6: the saturation penalty, through ``fixed/hooked_ddpg.py``'s ``actor_loss`` door.

``fixed/agent.py`` builds the agent with them; ``FastFixedDDPGAgent`` is the same agent with
``fixed/fast_ddpg.py``'s update (speed only), the default.
"""
from shared import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

import numpy as np
from tensorflow.keras import backend as K

from .fast_ddpg import FastDDPGAgent
from .hooked_ddpg import HookedDDPGAgent
from shared.checks import step_budget
from shared.old_step_api import RemembersTruncation


class FixedDDPGAgent(HookedDDPGAgent):  # keras-rl2's DDPGAgent with doors for these (fixed/hooked_ddpg.py)
    """keras-rl2's DDPGAgent with the fixes keras-rl2 itself needs (FIX-12, -15, -18, -19) and beyond FIX-6."""

    def __init__(self, *args, saturation_penalty=0.0, time_limit_is_terminal=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.saturation_penalty = saturation_penalty
        self.time_limit_is_terminal = time_limit_is_terminal  # FIX-12: False
        self._steps = None  # FIX-12: the env as fit drives it, which tells a time limit from an end

    def actor_loss(self, q_values, pre_tanh):
        # Beyond FIX-6: keras-rl's -mean(Q) plus a penalty, zero while |pre-activation| < 2 (tanh(2) = 0.964),
        # that brings an actor back from tanh's flat tails, where its gradient all but vanishes.
        tail = K.relu(K.abs(pre_tanh) - 2.0)
        return -K.mean(q_values) + self.saturation_penalty * K.mean(K.square(tail))

    def process_state_batch(self, batch):
        batch = np.asarray(batch, dtype=np.float32)  # FIX-19: float32 at once; keras-rl builds an object array
        return batch if self.processor is None else self.processor.process_state_batch(batch)

    def select_action(self, state):
        return np.clip(super().select_action(state), -1.0, 1.0)  # FIX-18: store the actions the env applied

    def store_as_terminal(self, terminal):
        # FIX-12: a time limit is not a terminal state; keep bootstrapping through it.
        return terminal and (self.time_limit_is_terminal or not (self._steps is not None and self._steps.truncated))

    def fit(self, env, nb_steps, *args, nb_max_episode_steps=None, **kwargs):
        step_budget(nb_steps)  # FIX-15: keras-rl2's int16 counter wraps at 32767, fit never ends: refuse now
        if nb_max_episode_steps is not None:
            raise ValueError('nb_max_episode_steps makes keras-rl store its time limit as a terminal '
                             'state (BUG-12); give the env its own time limit instead (truncation).')
        self._steps = RemembersTruncation(env)  # FIX-12: whether fit's last step was a time limit
        return super().fit(self._steps, nb_steps, *args, **kwargs)


class FastFixedDDPGAgent(FixedDDPGAgent, FastDDPGAgent):
    """The same agent, its update in one graph call on a float32 memory (fixed/fast_ddpg.py): speed only."""
