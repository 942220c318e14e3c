"""Load keras-rl2 1.0.5 on today's TensorFlow.

keras-rl2's last release (2021) was written against Keras 2 living at ``tensorflow.keras``.
Since TensorFlow 2.16, ``tensorflow.keras`` is Keras 3 unless the ``tf-keras`` package is
installed *and* ``TF_USE_LEGACY_KERAS=1`` is set before TensorFlow is first imported. keras-rl2
also reads ``tensorflow.keras.__version__``, which tf-keras' API module does not define.

Import this module before anything that imports TensorFlow or ``rl``: both variants do, so
neither owns it. Every change it makes is listed in docs/porting.md.
"""
import os
import sys

if "tensorflow" in sys.modules and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
    raise ImportError(
        "TensorFlow was imported before stepsignal.keras_rl, so tensorflow.keras is Keras 3 and "
        "keras-rl2 cannot run. Import stepsignal.keras_rl (or original/fixed) first, or set "
        "TF_USE_LEGACY_KERAS=1 in the environment. See docs/porting.md."
    )
os.environ["TF_USE_LEGACY_KERAS"] = "1"
# TensorFlow's C++ start-up chatter (CPU feature flags, oneDNN notes) says nothing about this kit.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402  (must come after the environment variable)
import tf_keras  # noqa: E402
import tensorflow.keras as keras  # noqa: E402  (the module rl imports from, not tf's lazy alias)

if not hasattr(keras, "__version__"):
    # rl/callbacks.py does `from tensorflow.keras import __version__`.
    keras.__version__ = tf_keras.__version__

import rl  # noqa: E402,F401  (checks that the shim worked; rl/agents/ddpg.py turns eager mode off)

__all__ = ["tf", "keras"]


class OldStepAPI:
    """Let keras-rl2 drive a Gymnasium env: ``reset() -> obs`` and a 4-tuple ``step``.

    keras-rl2's ``Agent.fit`` still speaks gym's pre-0.26 API. ``done`` is ``terminated or
    truncated``; ``info['TimeLimit.truncated']`` tells the two apart (gym's old convention), so
    that an agent can avoid storing a time limit as a terminal state.
    """

    def __init__(self, env, seed=None):
        self.env = env
        self._seed = seed  # used once, at the first reset, as Gymnasium recommends

    def __getattr__(self, name):  # action_space, observation_space, unwrapped, ...
        return getattr(self.env, name)

    def reset(self):
        observation, _ = self.env.reset(seed=self._seed)
        self._seed = None
        return observation

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info, **{'TimeLimit.truncated': bool(truncated and not terminated)})
        return observation, reward, bool(terminated or truncated), info
