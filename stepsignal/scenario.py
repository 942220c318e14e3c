"""The question's scenario: a 20 s step signal at 30 Hz that the agent should flatten to 3.

Neither variant owns it, so both use this one definition.
"""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scenario:
    """An input signal, the signal we want out of it, and their common sample rate."""

    time: np.ndarray
    """Sample times in seconds."""
    input_signal: np.ndarray
    """What the env filters: the question's step from 4 to 5 at t = 5 s."""
    desired_signal: np.ndarray
    """The goal: the question's flat 3."""
    sample_rate: float
    """Samples per second (Hz)."""


def question_scenario(length_s: float = 20.0, sample_rate: float = 30.0) -> Scenario:
    """Build the question's signals, exactly as its script does (float64, 600 samples)."""
    n_samples = int(length_s * sample_rate)
    x = np.linspace(0, length_s, n_samples)
    desired = 3 * np.ones(n_samples)
    step = 0.5 * (np.sign(x - 5) + 9)
    return Scenario(time=x, input_signal=step, desired_signal=desired, sample_rate=sample_rate)
