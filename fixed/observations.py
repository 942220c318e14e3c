"""What the agent reads: the scaling of every observation (FIX-17), and float32 spaces whose bounds
hold every value (FIX-10)."""
import numpy as np
from gymnasium import spaces

from . import filters


def scale_observation(observation, center, scale):
    """FIX-17: ``observation`` as the networks read it, float32 of order 1: ``(observation - center) / scale``.

    ``fixed.processor.ScaleObservations`` applies it during training; ``fixed.policy`` when a saved
    policy answers, without TensorFlow.
    """
    return ((np.asarray(observation, dtype=np.float32) - center) / scale).astype(np.float32)


def float32_box(low, high, shape):
    """A float32 ``Box(low, high, shape)`` that holds every float32 value in ``[low, high]``.

    The bounds are widened by a millionth of their size, so that rounding them to float32 never
    cuts off a value on the edge, and kept within float32's range.
    """
    margin = 1e-6 * max(abs(low), abs(high), 1.0)
    largest = float(np.finfo(np.float32).max)
    low, high = max(low - margin, -largest), min(high + margin, largest)
    return spaces.Box(np.full(shape, low, dtype=np.float32), np.full(shape, high, dtype=np.float32), dtype=np.float32)


def goal_observation_space(ranges, max_offset, shape):
    """FIX-10: the goal env's ``Dict`` space, float32 boxes that hold every observation it makes.

    ``ranges``: ``{'observation': (lowest, highest), 'desired_goal': ...}`` of the input and the
    goal; the processed signal's box is what the filter can make of the input, +- ``max_offset``.
    """
    filtered_low, filtered_high = filters.output_range(*ranges['observation'])
    ranges = dict(ranges, achieved_goal=(filtered_low - max_offset, filtered_high + max_offset))
    return spaces.Dict({key: float32_box(*ranges[key], shape) for key in ('desired_goal', 'achieved_goal', 'observation')})
