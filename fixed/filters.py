"""The zero-phase Butterworth low-pass that FIX-8 needs: accurate at any cutoff, and fast.

``scipy.signal.butter(order, cutoff, output='sos')`` followed by ``scipy.signal.sosfiltfilt``
is the fix (docs/bugs.md#bug-8). An env step runs it once, so its cost is the env's cost; the
functions here compute exactly the same numbers (``tests/test_speed.py`` compares them to the
last bit) in a twentieth of the time: the sections in closed form instead of through scipy's
general zpk machinery, and the filter's steady state (``sosfilt_zi``) solved once per cutoff
instead of at every call.
"""
import functools
import math

import numpy as np
from scipy import signal


def butter_lowpass_sos(order, normal_cutoff):
    """The sections of ``signal.butter(order, normal_cutoff, output='sos')``, in closed form.

    The same second-order sections in the same order: 25 us instead of scipy's 600 us, and
    remembered, so that a cutoff asked for again (the policy checks, a converged policy) is not
    designed again. Even orders only.
    """
    return _butter_lowpass_sos(int(order), float(normal_cutoff)).copy()  # a copy: the cached one is shared


@functools.lru_cache(maxsize=256)
def _butter_lowpass_sos(order, normal_cutoff):
    # Analog prototype poles (upper half of the left half-plane), prewarped for the bilinear
    # transform at fs=2 as scipy does, mapped to z; each conjugate pair is one section.
    k = np.arange(1, order // 2 + 1)
    warped = 4.0 * np.tan(np.pi * normal_cutoff / 2.0)
    poles = warped * np.exp(1j * np.pi * (2 * k + order - 1) / (2 * order))
    z = (4.0 + poles) / (4.0 - poles)
    sos = np.zeros((order // 2, 6))
    sos[:, :4] = [1.0, 2.0, 1.0, 1.0]  # zeros at z = -1, a0 = 1
    sos[:, 4] = -2.0 * z.real
    sos[:, 5] = np.abs(z) ** 2
    sos = np.ascontiguousarray(sos[::-1])  # scipy's order: the poles nearest the unit circle last
    sos[0, :3] *= warped ** order / np.prod(np.abs(4.0 - poles) ** 2)  # the gain, in the first section
    return sos


@functools.lru_cache(maxsize=256)
def _steady_state(sos_bytes, sections):
    sos = np.frombuffer(sos_bytes).reshape(sections, 6)
    return signal.sosfilt_zi(sos)


def sosfiltfilt(sos, data, in_float64=False):
    """``scipy.signal.sosfiltfilt(sos, data)`` along the first axis, to the last bit.

    The same steps as scipy's (an odd extension of 3 x (2 x sections + 1) samples at each end,
    then a forward and a backward ``sosfilt``, each started in steady state). The steady state
    depends only on the filter, so it is solved once per filter and remembered. A 2-D ``data``
    is filtered column by column (one column per channel). ``in_float64``: filter float32 ``data``
    as ``np.asarray(data, dtype=np.float64)`` would be, without making that copy (scipy extends
    float32 data in float32).

    Memory: one float64 array beside ``data``. scipy's makes the extension, then a copy of it per
    pass; here both passes run in place in the extension (``_filter_in_place``), which is reversed
    in place between them, and the answer is a view of it, laid out as scipy's is.
    """
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    data = np.asarray(data)
    if data.ndim == 2:  # each column into its place: a long multichannel signal is not copied twice more
        out = np.empty(data.shape)
        for channel in range(data.shape[1]):
            out[:, channel] = sosfiltfilt(sos, data[:, channel], in_float64)
        return out
    zi = _steady_state(sos.tobytes(), len(sos))
    edge = 3 * (2 * len(sos) + 1)
    head, tail = data[:edge + 1], data[-(edge + 1):]
    if in_float64:  # the ends too, so the extension is what a float64 copy's would be
        head, tail = head.astype(np.float64), tail.astype(np.float64)
    extended = np.empty(len(data) + 2 * edge)  # scipy's extension (ends in data's type), in float64 as it filters
    extended[:edge] = 2 * head[0] - head[edge:0:-1]
    extended[edge:-edge] = data
    extended[-edge:] = 2 * tail[-1] - tail[-2::-1]
    _filter_in_place(sos, extended, zi * extended[0])  # forward
    _reverse_in_place(extended)
    _filter_in_place(sos, extended, zi * extended[0])  # backward, over the reversed forward pass
    return extended[::-1][edge:-edge]


try:  # the kernel scipy's sosfilt runs on its own copy of the data (scipy is pinned: setup.cfg)
    from scipy.signal._sosfilt import _sosfilt
except ImportError:  # another scipy: its public sosfilt, the same numbers with a copy more
    _sosfilt = None


def _filter_in_place(sos, values, zi):
    """``values[:] = scipy.signal.sosfilt(sos, values, zi=zi)[0]``, without a copy of ``values``
    (1-D, contiguous float64); ``zi`` is used up."""
    if _sosfilt is None:
        values[:] = signal.sosfilt(sos, values, zi=zi)[0]
    else:
        _sosfilt(sos, values.reshape(1, -1), np.ascontiguousarray(zi.reshape(1, -1, 2)))


def _reverse_in_place(values, block=1 << 16):
    """``values[:] = values[::-1]`` with a block's copy at a time, not the whole array's."""
    low, high = 0, len(values)
    while high - low > 2 * block:
        front = values[low:low + block].copy()
        values[low:low + block] = values[high - block:high][::-1]
        values[high - block:high] = front[::-1]
        low, high = low + block, high - block
    values[low:high] = values[low:high][::-1].copy()


LARGEST_GAIN = 3.0
"""An upper bound on the sum of |h| over the impulse response of the 4th-order sections, at every
cutoff up to 0.99 x Nyquist (the highest any env here allows). Measured: 1.30 at low cutoffs, 1.65
at 0.5 x Nyquist, 2.998 at 0.99 x Nyquist (``tests/test_ecosystem.py`` measures it again)."""


def output_range(low, high):
    """The range ``sosfiltfilt`` output can reach for data within ``[low, high]``, at any cutoff
    up to 0.99 x Nyquist: wide, but a bound the filter cannot leave.

    The filter passes a constant unchanged, so each pass multiplies the data's distance from the
    middle of the range by at most ``LARGEST_GAIN``; the odd extension at each end reaches 1.5
    spreads from the middle.
    """
    middle, spread = (low + high) / 2.0, high - low
    reach = 1.5 * spread * LARGEST_GAIN ** 2
    return middle - reach, middle + reach


def min_signal_length(order=4):
    """The shortest signal ``sosfiltfilt`` can filter with its padding, plus one."""
    return 3 * (2 * math.ceil(order / 2) + 1) + 1


LOWEST_ACCURATE_NORMALIZED_CUTOFF = 2e-5
"""The lowest cutoff, as a fraction of Nyquist, at which these 4th-order sections pass a constant
to within a relative error of 1e-6.

Below it the poles sit so close to z = 1 that the sections' coefficients cannot hold the filter in
float64: measured on constants of 600 to 300,000 samples, the error was 2.5e-6 at 5e-6 x Nyquist,
up to 1.0e-6 between 1e-5 and 1.26e-5, and at most 5e-7 from 2e-5 up; from 5e-9 x Nyquist scipy's
``sosfilt_zi`` fails with a singular matrix. At the question's 30 Hz the floor is 3e-4 Hz, below
its lowest cutoff of 0.001 Hz; at 48 kHz it is 0.48 Hz, at 384 kHz 3.84 Hz."""


def lowest_accurate_cutoff(sample_rate):
    """The lowest cutoff in Hz that the filter applies accurately at ``sample_rate``."""
    return LOWEST_ACCURATE_NORMALIZED_CUTOFF * sample_rate / 2
