"""Argument checks shared by the fixed env and the signal-file readers (no TensorFlow import)."""
import math


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
