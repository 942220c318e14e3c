"""The rules every caller checks its arguments by, each in one place (no TensorFlow import).

Each check returns the value in its canonical type or raises a ``ValueError`` whose message names
the value and what is allowed; the command lines turn that message into their one-line error.
"""
import math

import numpy as np

from shared.limits import MAX_KERAS_RL_STEPS


def positive_number(value, name, unit=''):
    """``value`` as a finite float above 0, or a ``ValueError`` that names ``name``, the value and what is allowed.

    ``unit`` (for example ``'samples per second'``) is added to the message.
    """
    of_unit, in_unit = (f' of {unit}', f' {unit}') if unit else ('', '')
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f'{name} must be a number{of_unit}, got {value!r}') from None
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f'{name} is {value!r}: it must be a finite number above 0{in_unit}')
    return number


MAX_SEED = 2**32 - 1
"""numpy's global generator takes seeds below 2**32."""


def seed_number(value):
    """``value`` as a seed for every generator of a run, or a ``ValueError`` saying what is allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_SEED:
        raise ValueError(f'seed is {value!r}: it must be an integer from 0 to {MAX_SEED} (2**32 - 1)')
    return int(value)


def step_budget(value):
    """``value`` as a budget of environment steps keras-rl2 can count, or a ``ValueError``.

    keras-rl2 counts steps in np.int16 (BUG-15): more than 32767 steps in one ``fit`` never end.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_KERAS_RL_STEPS:
        raise ValueError(f'steps is {value!r}: it must be an integer from 1 to {MAX_KERAS_RL_STEPS} (keras-rl2 '
                         f'counts steps in np.int16 and never ends a longer fit)')
    return int(value)


MIN_TRAINING_STEPS = 100
"""The smallest budget the command lines accept: the fixed agent's first update comes after a
warmup of at least one batch (64 steps), and the policy checks take their share of the budget;
with fewer steps not one gradient step would run (the question's BUG-4 again)."""


def training_budget(value):
    """``step_budget``'s rule, and at least ``MIN_TRAINING_STEPS``: a budget in which training happens."""
    value = step_budget(value)
    if value < MIN_TRAINING_STEPS:
        raise ValueError(f'steps is {value}: it must be at least {MIN_TRAINING_STEPS}, or not one gradient step '
                         f'runs (the first update waits for a warmup of at least one batch, 64 steps)')
    return value
