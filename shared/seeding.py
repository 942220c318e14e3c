"""One call that seeds every random number generator a run uses."""
import random

import numpy as np

from shared.checks import seed_number


def seed_everything(seed: int) -> None:
    """Seed Python, numpy's global generator (keras-rl's noise and memory use it) and TensorFlow.

    TensorFlow's seed also fixes the initial weights, because tf-keras derives each layer's
    initializer seed from it. Call this before building the networks.
    """
    seed = seed_number(seed)
    import tensorflow as tf  # late: shared.keras_rl must have set up tf-keras first

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
