"""The rules every caller checks its arguments by, each in one place (no TensorFlow import).

Each check returns the value in its canonical type or raises ``BadInput`` whose message names
the value and what is allowed; the command lines turn that message into their one-line error
(exit 2). Any other exception that escapes a run is the kit's own defect, never the user's input.
"""
import math

import numpy as np

from shared.limits import MAX_KERAS_RL_STEPS


class BadInput(ValueError):
    """The user's input breaks a rule of the kit; the message names the option or file, the value
    and what is allowed. Raised only by the kit's own checks, so that an error from inside a
    library (numpy, h5py, struct) is never mistaken for the user's."""


def positive_number(value, name, unit=''):
    """``value`` as a finite float above 0, or ``BadInput`` naming ``name``, the value and what is allowed.

    ``unit`` (for example ``'samples per second'``) is added to the message.
    """
    of_unit, in_unit = (f' of {unit}', f' {unit}') if unit else ('', '')
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(f'{name} must be a number{of_unit}, got {value!r}') from None
    if not (math.isfinite(number) and number > 0):
        raise BadInput(f'{name} is {value!r}: it must be a finite number above 0{in_unit}')
    return number


def whole_number(value, name, low, high=None, why=''):
    """``value`` as an int from ``low`` to ``high`` (no upper bound: None), or ``BadInput`` naming
    ``name``, the value and the range (``why``, in brackets, says what the number is)."""
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not whole or value < low or (high is not None and value > high):
        allowed = f'>= {low}' if high is None else f'from {low} to {high}'
        raise BadInput(f'{name} is {value!r}: it must be an integer {allowed}' + (f' ({why})' if why else ''))
    return int(value)


MAX_SEED = 2**32 - 1
"""numpy's global generator takes seeds below 2**32."""


def seed_number(value):
    """``value`` as a seed for every generator of a run, or ``BadInput`` saying what is allowed."""
    return whole_number(value, 'seed', 0, MAX_SEED, why='2**32 - 1')


def step_budget(value):
    """``value`` as a budget of environment steps keras-rl2 can count, or ``BadInput``.

    keras-rl2 counts steps in np.int16 (BUG-15): more than 32767 steps in one ``fit`` never end.
    """
    return whole_number(value, 'steps', 1, MAX_KERAS_RL_STEPS,
                        why='keras-rl2 counts steps in np.int16 and never ends a longer fit')


MIN_TRAINING_STEPS = 100
"""The smallest budget the command lines accept: the fixed agent's first update comes after a
warmup of at least one batch (64 steps), and the policy checks take their share of the budget;
with fewer steps not one gradient step would run (the question's BUG-4 again)."""


def training_budget(value):
    """``step_budget``'s rule, and at least ``MIN_TRAINING_STEPS``: a budget in which training happens."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < MIN_TRAINING_STEPS:
            raise BadInput(f'steps is {value}: it must be at least {MIN_TRAINING_STEPS} (and at most '
                           f'{MAX_KERAS_RL_STEPS}), or not one gradient step runs (the first update waits for a '
                           f'warmup of at least one batch, 64 steps)')
        if value > MAX_KERAS_RL_STEPS:
            raise BadInput(f'steps is {value}: it must be at most {MAX_KERAS_RL_STEPS} (and at least '
                           f'{MIN_TRAINING_STEPS}): keras-rl2 counts steps in np.int16 and never ends a longer fit')
    return step_budget(value)


def episode_steps(value):
    """``value`` as the steps of a training episode: an integer of at least 1."""
    return whole_number(value, 'episode steps', 1, why='1: every step a new episode')


def updates_per_step(value):
    """``value`` as gradient updates per environment step: an integer from 1 to 16."""
    return whole_number(value, 'gradient steps', 1, 16, why='updates per environment step')
