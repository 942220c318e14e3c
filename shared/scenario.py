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


@dataclass(frozen=True)
class StepRanges:
    """The family of step scenarios around the question's, for training that generalises.

    Every scenario is a step signal of ``length_s`` seconds at ``sample_rate`` that should become a
    flat level; each field below is drawn uniformly from its ``(low, high)`` range, independently,
    at every reset. The question's scenario is one member (step at 5 s, 4 -> 5, target 3).
    """

    step_time_s: tuple = (2.0, 18.0)
    """When the step happens, in seconds from the start."""
    start_level: tuple = (3.5, 4.5)
    """The input's level before the step."""
    end_level: tuple = (4.5, 5.5)
    """The input's level after the step."""
    target_level: tuple = (2.5, 3.5)
    """The flat level the processed signal should have."""
    length_s: float = 20.0
    sample_rate: float = 30.0

    def max_offset(self):
        """The largest offset any member can need: the spread of all levels together."""
        levels = self.start_level + self.end_level + self.target_level
        return max(levels) - min(levels)


def random_step_scenario(rng: np.random.Generator, ranges: StepRanges = StepRanges()) -> Scenario:
    """Draw one scenario of the family ``ranges`` with the generator ``rng``."""
    n_samples = int(ranges.length_s * ranges.sample_rate)
    x = np.linspace(0, ranges.length_s, n_samples)
    step_time, start, end, target = (rng.uniform(*r) for r in (ranges.step_time_s, ranges.start_level,
                                                                ranges.end_level, ranges.target_level))
    step = np.where(x < step_time, start, end)
    return Scenario(time=x, input_signal=step, desired_signal=np.full(n_samples, target),
                    sample_rate=ranges.sample_rate)


def speech_with_hum(seconds=2.0, sample_rate=22050, offset=0.2, hum=0.1):
    """``(noisy, clean)``: speech-like audio for tests and benchmarks, made here, not recorded.

    ``clean`` is voiced bursts: a 140 Hz voice with 21 harmonics (up to about 3 kHz), in
    syllables of 150 ms every 250 ms. ``noisy`` is the same plus a DC ``offset`` and 50 Hz hum of
    amplitude ``hum``. A low-pass cannot take the hum out without the voice, so the best filter
    keeps the voice (a high cutoff) and removes the offset.
    """
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 22))
    syllables = ((t % 0.25) < 0.15) * np.sin(np.pi * (t % 0.25) / 0.15) ** 2
    clean = 0.3 * voice * syllables
    return clean + offset + hum * np.sin(2 * np.pi * 50 * t), clean
