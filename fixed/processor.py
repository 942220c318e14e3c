"""FIX-17: the keras-rl ``Processor`` that hands the networks observations of order 1.

The map itself is ``fixed.observations.scale_observation``, which a saved policy also uses without
TensorFlow; this class applies it to every observation keras-rl2 reads while training.
"""
from shared import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

import numpy as np
from rl.core import Processor

from .observations import scale_observation


class ScaleObservations(Processor):
    """FIX-17: observations of order 1 for the networks, by one affine map set from a reference (the env's first)."""

    def __init__(self, reference_observation):
        reference = np.asarray(reference_observation, dtype=np.float64)
        self.center = float(reference.mean())
        self.scale = float(reference.std()) or 1.0

    def process_observation(self, observation):
        return scale_observation(observation, self.center, self.scale)
