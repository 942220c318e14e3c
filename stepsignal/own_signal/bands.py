"""What a result did to each part of the spectrum: DC, hum, hiss, the speech band.

One RMS number hides what is left (a low-pass and an offset can reach their ceiling with the hum
untouched), so the report sets the error before (input minus target) beside the error after
(output minus target) in each band, from Welch's spectra; docs/your_signal.md says which bands.
``bands(input, output, target, rate)`` returns the numbers (``result.json`` keeps them);
``band_rows(found)`` the report's table rows.
"""
import numpy as np
from scipy import signal

MAINS = (50.0, 60.0)
"""The mains frequencies of the world's grids, in Hz."""
HARMONICS = 5
"""Hum is counted at the mains frequency and its harmonics up to this one."""
HUM_WIDTH = 2.0
"""Hz on each side of each hum line."""
SPEECH_BAND = (200.0, 3400.0)
"""The telephone band, in Hz: what carries a voice's intelligibility."""
HISS_FROM = 4000.0
"""Hz: above this, on speech, the error is noise (hiss)."""
NEGLIGIBLE = 1e-9
"""A band whose error before is below this share of the whole error had nothing to cut: no cut is stated."""
SHOWN_DB = 60.0
"""dB beyond which the table says "more than": the last bits of a float say nothing about a recording."""


SEGMENTS_AT_ONCE = 16
"""Welch's segments computed together: scipy holds every segment of a signal and its spectrum at
once (92 MB for a minute at 48 kHz), so ``spectrum`` takes a long signal this many at a time."""


def spectrum(values, rate):
    """``(frequencies, power)`` of ``values`` by Welch's method, about 1 Hz apart.

    scipy's ``welch`` with segments of ``length`` samples, half overlapping, is the mean of one
    periodogram per segment; on a long signal it is taken on stretches of ``SEGMENTS_AT_ONCE``
    segments and the means combined by their counts: the same spectrum (to rounding), in a
    fraction of the memory.
    """
    values = np.asarray(values, dtype=np.float64)
    length = int(min(len(values), max(256, round(rate))))
    step = length - length // 2  # scipy's default overlap: half a segment
    segments = (len(values) - length) // step + 1
    if segments <= SEGMENTS_AT_ONCE:
        return signal.welch(values, fs=rate, nperseg=length)
    total = None
    for first in range(0, segments, SEGMENTS_AT_ONCE):
        count = min(SEGMENTS_AT_ONCE, segments - first)
        stretch = values[first * step:(first + count - 1) * step + length]
        frequencies, power = signal.welch(stretch, fs=rate, nperseg=length)
        total = power * count if total is None else total + power * count
    return frequencies, total / segments


def _in(frequencies, low, high):
    return (frequencies >= low) & (frequencies <= high)


def _db(numerator, denominator):
    if denominator <= 0 or numerator <= 0:
        return None
    return float(10 * np.log10(numerator / denominator))


def hum_lines(frequencies, mains, nyquist, harmonics=HARMONICS):
    """A mask of the bins within ``HUM_WIDTH`` of ``mains`` and its harmonics below Nyquist."""
    mask = np.zeros(frequencies.shape, dtype=bool)
    for k in range(1, harmonics + 1):
        if k * mains + HUM_WIDTH < nyquist:
            mask |= _in(frequencies, k * mains - HUM_WIDTH, k * mains + HUM_WIDTH)
    return mask


def bands(input_signal, output_signal, desired_signal, rate, spectra=None):
    """Each band's error before and after, in power (mean square) and in dB; see the module docstring.

    ``spectra``: a dict that receives the target's and the output's spectra (``target``, ``output``),
    for a caller that draws them.
    """
    spectra = {} if spectra is None else spectra
    frequencies, power_before = spectrum(input_signal - desired_signal, rate)
    _, power_after = spectrum(output_signal - desired_signal, rate)
    spectra['target'] = spectrum(desired_signal, rate)
    spectra['output'] = spectrum(output_signal, rate)
    power_target, power_output = spectra['target'][1], spectra['output'][1]
    step = float(frequencies[1] - frequencies[0])
    nyquist = rate / 2
    mains = max(MAINS, key=lambda f: power_before[hum_lines(frequencies, f, nyquist)].sum())

    whole = power_before.sum() * step

    def band(mask):
        error_before, error_after = power_before[mask].sum() * step, power_after[mask].sum() * step
        target = power_target[mask].sum() * step
        there = error_before > NEGLIGIBLE * whole  # else there was nothing to cut in this band
        return {'error_before': float(error_before), 'error_after': float(error_after),
                'cut_db': _db(error_before, error_after) if there else None,
                'after_over_target_db': _db(error_after, target)}

    found = {
        'dc': {'error_before': float(np.mean(input_signal - desired_signal)),
               'error_after': float(np.mean(output_signal - desired_signal))},
        'hum': {'mains_hz': mains, **band(hum_lines(frequencies, mains, nyquist))},
        'mains_line': band(hum_lines(frequencies, mains, nyquist, harmonics=1)),
    }
    if HISS_FROM < nyquist:
        found['hiss'] = band(_in(frequencies, HISS_FROM, nyquist))
    speech = _in(frequencies, *SPEECH_BAND)
    if SPEECH_BAND[1] < nyquist:
        found['speech_band'] = {'output_over_target_db': _db(power_output[speech].sum(), power_target[speech].sum())}
    return found


def _shown(value):
    if value is None:
        return 'n/a'
    if abs(value) > SHOWN_DB:
        return f'{"more than" if value > 0 else "less than"} {"+" if value > 0 else "-"}{SHOWN_DB:g} dB'
    return f'{round(value, 1) + 0.0:+.1f} dB'  # + 0.0: no "-0.0"


def band_rows(found):
    """The report's table: one row per band, what the error was, is, and what that means."""
    rows = ['| band | error before | error after | cut | left |', '|---|---|---|---|---|']
    dc = found['dc']
    dc_before, dc_after = (value if abs(value) > 1e-12 else 0.0 for value in (dc['error_before'], dc['error_after']))
    rows.append(f"| DC (the error's mean) | {dc_before:+.4g} | {dc_after:+.4g} | | |")
    hum = found['hum']
    rows.append(f"| hum, {hum['mains_hz']:g} Hz and harmonics | {hum['error_before']:.3g} | {hum['error_after']:.3g} | "
                f"{_shown(hum['cut_db'])} | {_shown(hum['after_over_target_db'])} against the target there |")
    line = found.get('mains_line')
    if line:
        rows.append(f"| the mains line alone, {hum['mains_hz']:g} Hz | {line['error_before']:.3g} | "
                    f"{line['error_after']:.3g} | {_shown(line['cut_db'])} | {_shown(line['after_over_target_db'])} "
                    f"against the target there |")
    if 'hiss' in found:
        hiss = found['hiss']
        rows.append(f"| hiss, above {HISS_FROM:g} Hz | {hiss['error_before']:.3g} | {hiss['error_after']:.3g} | "
                    f"{_shown(hiss['cut_db'])} | {_shown(hiss['after_over_target_db'])} against the target there |")
    if 'speech_band' in found:
        rows.append(f"| speech band, {SPEECH_BAND[0]:g}-{SPEECH_BAND[1]:g} Hz (output against target) | | | | "
                    f"{_shown(found['speech_band']['output_over_target_db'])} |")
    return rows


def what_is_left(found):
    """One or two sentences for the report's head: the bands whose error the result did not remove."""
    said = []
    hum = found['hum']
    if hum['after_over_target_db'] is not None and hum['after_over_target_db'] > 0 and (hum['cut_db'] or 0) < 20:
        cut = 'not cut' if hum['cut_db'] is None or hum['cut_db'] < 0.05 else f"cut by {hum['cut_db']:.1f} dB only"
        said.append(f"the hum at {hum['mains_hz']:g} Hz and its harmonics is {cut} and stays "
                    f"{hum['after_over_target_db']:.0f} dB above the target at those frequencies")
    speech = found.get('speech_band', {}).get('output_over_target_db')
    if speech is not None and abs(speech) > 1:
        said.append(f"the speech band ({SPEECH_BAND[0]:g}-{SPEECH_BAND[1]:g} Hz) is {abs(speech):.1f} dB "
                    f"{'above' if speech > 0 else 'below'} the target's level")
    return said
