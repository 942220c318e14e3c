"""The agent's actions and the settings the env applies (FIX-1, FIX-7).

Each component of an action lies in [-1, 1] (the actor's tanh range); -1 sets its knob's lowest
value and +1 its highest, exactly: on a log scale for a frequency (what a filter does depends on
the cutoff's order of magnitude), linearly for an offset or a blend.
"""
import numpy as np

from . import filters


def action_bounds(sample_rate, max_offset):
    """FIX-7: the lowest and the highest ``[cutoff_hz, offset]``, float64: the highest cutoff safely
    below Nyquist, the lowest one the filter applies accurately (FIX-8)."""
    low = np.array([max(10e-4, filters.lowest_accurate_cutoff(sample_rate)), -float(max_offset)])
    high = np.array([0.99 * (sample_rate / 2), float(max_offset)])
    return low, high


def settings_for(action, low, high, scales):
    """FIX-1: the knobs' values for ``action`` (clipped to [-1, 1]), one per component:
    ``low * (high / low) ** fraction`` on a 'log' scale, ``low + fraction * (high - low)`` on a
    'linear' one, where ``fraction = (action + 1) / 2``."""
    action = np.clip(np.asarray(action, dtype=np.float64).reshape(len(scales)), -1.0, 1.0)
    fraction = (action + 1.0) / 2.0
    found = []
    for i, scale in enumerate(scales):
        if scale == 'log':
            found.append(min(max(low[i] * (high[i] / low[i]) ** fraction[i], low[i]), high[i]))
        else:
            found.append(low[i] + fraction[i] * (high[i] - low[i]))
    return found
