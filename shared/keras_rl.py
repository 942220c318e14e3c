"""Load keras-rl2 1.0.5 on today's TensorFlow.

keras-rl2's last release (2021) was written against Keras 2 living at ``tensorflow.keras``.
Since TensorFlow 2.16, ``tensorflow.keras`` is Keras 3 unless the ``tf-keras`` package is
installed *and* ``TF_USE_LEGACY_KERAS=1`` is set before TensorFlow is first imported. keras-rl2
also reads ``tensorflow.keras.__version__``, which tf-keras' API module does not define.

Import this module before anything that imports TensorFlow or ``rl``: both variants do, so
neither owns it. Every change it makes is listed in docs/porting.md.
"""
import logging
import os
import sys
import warnings

if "tensorflow" in sys.modules and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
    raise ImportError(
        "TensorFlow was imported before shared.keras_rl, so tensorflow.keras is Keras 3 and "
        "keras-rl2 cannot run. Import shared.keras_rl (or original/fixed) first, or set "
        "TF_USE_LEGACY_KERAS=1 in the environment. See docs/porting.md."
    )
os.environ["TF_USE_LEGACY_KERAS"] = "1"
# TensorFlow's C++ start-up chatter (CPU feature flags, oneDNN notes) says nothing about this kit.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from shared.quiet import TENSORFLOW_NOISE, held_back  # noqa: E402

with held_back(TENSORFLOW_NOISE):  # TensorFlow's start-up notes, the cuInit "error" among them
    import tensorflow as tf  # noqa: E402  (must come after the environment variable)
    import tf_keras  # noqa: E402
    tf.config.list_physical_devices()  # looks for a GPU now, while its notes are held back

# keras-rl2's DDPG reads Model.state_updates, which tf-keras deprecates at every compile: not the user's code.
warnings.filterwarnings('ignore', message='`Model.state_updates` will be removed')
# The question's `Adam(lr=...)`, kept as written in original/ (and in the old scripts diagnose runs): the legacy
# optimizers still take it, and the warning would say nothing the reader needs.
warnings.filterwarnings('ignore', message='The `lr` argument is deprecated')
# The same from tf-keras' new optimizers, through absl's log: where diagnose meets one, its optimizer shim says it.
logging.getLogger('absl').addFilter(lambda record: '`lr` is deprecated' not in record.getMessage())
import tensorflow.keras as keras  # noqa: E402  (the module rl imports from, not tf's lazy alias)

if not hasattr(keras, "__version__"):
    # rl/callbacks.py does `from tensorflow.keras import __version__`.
    keras.__version__ = tf_keras.__version__

import rl  # noqa: E402,F401  (checks that the shim worked; rl/agents/ddpg.py turns eager mode off)

__all__ = ["tf", "keras"]
