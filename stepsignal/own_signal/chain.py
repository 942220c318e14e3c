"""A processing chain of named stages (``lowpass``, ``offset``, ``highpass``, ``notch``, ``gain``),
all set by the agent in one action, one value in [-1, 1] per stage.

On your own signal the question's two knobs reach almost nothing against mains hum, so the agent
sets a chain; docs/your_signal.md has each stage, its setting and its range. Whatever order the
stages are named in, they are applied high-pass, notches, low-pass, gain, then the offset
subtracted; with ``lowpass,offset`` alone the chain is the question's, computed as
``fixed.env.StepSignal`` computes it. ``ceiling(chain, input, target)`` is the best the chain can
do (scipy's optimum of the same objective over the same ranges).
"""
import numpy as np
from scipy import optimize, signal

from fixed import filters
from fixed.actions import settings_for
from fixed.env import butter_lowpass_filter
from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES
from shared.checks import BadInput
from stepsignal.own_signal.bands import HARMONICS, MAINS, spectrum

QUESTION_CHAIN = ('lowpass', 'offset')
"""The question's two knobs."""
AUDIO_CHAIN = ('lowpass', 'offset', 'highpass', 'notch', 'gain')
"""The default chain at audio rates: enough to clean speech with DC, hum, drift and hiss."""
STAGES = ('lowpass', 'offset', 'highpass', 'notch', 'gain')
"""Every stage there is."""
CHAIN_STEPS = 10_000
"""The default budget of ``process`` for a chain longer than the question's (``--steps`` overrides
it): more knobs, more steps; on real speech with hum, measured against half of it
(benchmarks/your_signal/REAL_SPEECH_5000.md beside REAL_SPEECH.md)."""
CHAIN_OBSERVED_SAMPLES = 200
"""How many block averages of each long signal (the processed one and the target) the agent reads
with a chain longer than the question's; the question's two knobs read ``MAX_OBSERVED_SAMPLES``
(600). An update's cost is mostly the first layers' weights, one row per value read (Adam,
gradient clipping and the target networks' soft update each pass over all of them): reading 200,
a minute of 48 kHz stereo trains in 50 s instead of 86 to 90 (benchmarks/your_signal/MINUTE_CHAIN.md), and on
real speech it ended as close to the chain's ceiling as 600 did, or closer (benchmarks/your_signal/REAL_SPEECH.md,
CHAIN_SPEED_CHOICES.md)."""


def observed_samples(stages):
    """How many block averages of each long signal the agent reads with the chain ``stages``."""
    return MAX_OBSERVED_SAMPLES if tuple(stages) == QUESTION_CHAIN else CHAIN_OBSERVED_SAMPLES


HIGHPASS_RANGE = (20.0, 500.0)
"""Hz: from the bottom of hearing (DC and drift out, every voice kept) to above a voice's
fundamental (rumble and hum's lower harmonics out, at the voice's expense)."""
GAIN_RANGE = (0.5, 2.0)
"""The gain's range: 6 dB either way."""
NOTCH_Q = 30.0
"""The notches' quality factor: each is mains / Q wide (1.7 Hz at 50 Hz), narrow enough to leave
the voice's harmonics that sit beside the hum's."""


def mains_of(samples, sample_rate):
    """50 or 60: the mains frequency whose lines (the frequency and its harmonics) carry more power
    above their neighbourhood in ``samples`` (Welch's spectrum at 1 Hz; each line's peak less the
    median of 3 to 15 Hz around it). Power, not a ratio: a voice's quiet gaps would make a ratio
    of nothing to nothing count as much as the hum."""
    frequencies, power = spectrum(samples, sample_rate)
    if frequencies[1] - frequencies[0] > 1:  # under a second: zero-padded to 1 Hz bins (smeared lines, still weighed)
        frequencies, power = signal.welch(np.asarray(samples, dtype=np.float64), fs=sample_rate, nperseg=len(samples),
                                          nfft=int(np.ceil(sample_rate)))
    nyquist = sample_rate / 2

    def excess(mains):
        total = 0.0
        for line in (k * mains for k in range(1, HARMONICS + 1) if k * mains + 15 < nyquist):
            distance = np.abs(frequencies - line)
            total += max(power[distance <= 1].max() - np.median(power[(distance >= 3) & (distance <= 15)]), 0.0)
        return total

    return max(MAINS, key=excess)


class Chain:
    """The stages ``stages`` (their action order) at ``sample_rate``: the ranges of their knobs,
    what an action sets, and what the settings do to a signal.

    ``cutoff_range`` and ``max_offset`` are the question's two knobs' ranges, as the env has them;
    ``mains_hz`` is the hum's frequency for the notches (``mains_of`` reads it from the input).
    """

    def __init__(self, stages, sample_rate, cutoff_range, max_offset, mains_hz=None):
        self.stages = checked_stages(stages)
        self.sample_rate = float(sample_rate)
        self.nyquist = self.sample_rate / 2
        ranges = {'lowpass': (*cutoff_range, 'log'), 'offset': (-max_offset, max_offset, 'linear'),
                  'highpass': (*highpass_range(self.sample_rate), 'log'), 'notch': (0.0, 1.0, 'linear'),
                  'gain': (*GAIN_RANGE, 'log')}
        self.low = np.array([float(ranges[name][0]) for name in self.stages])
        self.high = np.array([float(ranges[name][1]) for name in self.stages])
        self.scales = tuple(ranges[name][2] for name in self.stages)
        self.mains_hz = None
        if 'notch' in self.stages:
            if mains_hz not in MAINS:
                raise ValueError(f'the notch stage needs a mains frequency of 50 or 60 Hz, got {mains_hz!r}')
            self.mains_hz = float(mains_hz)
            self.notch_sos = notch_sos(self.mains_hz, self.sample_rate)

    @property
    def is_question(self):
        return self.stages == QUESTION_CHAIN

    def settings(self, action):
        """``{stage: value}``: what ``action`` (one value in [-1, 1] per stage, clipped) sets.

        Each knob maps as the question's env maps its two (FIX-1): -1 to the lowest value, +1 to
        the highest, on a log scale (``low * (high / low) ** fraction``) or linearly.
        """
        return dict(zip(self.stages, settings_for(action, self.low, self.high, self.scales)))

    def apply(self, samples, settings):
        """``samples`` (1-D, or 2-D with one signal per column; float32 or float64) through the
        chain, in float64; ``samples`` are left as they are.

        A long signal's memory: the high-pass reads float32 samples without a float64 copy of
        them, each filter works in place in one array beside its input (``fixed.filters.sosfiltfilt``),
        each stage keeps only what the next needs and the notches' blend is made in place, so at
        most two float64 copies of a channel are alive at once.
        """
        processed = samples
        if 'highpass' in settings:
            sos = signal.butter(4, settings['highpass'] / self.nyquist, 'highpass', output='sos')
            processed = filters.sosfiltfilt(sos, processed, in_float64=True)
        processed = np.asarray(processed, dtype=np.float64)
        if settings.get('notch', 0.0) > 0:  # depth 0 is the signal unchanged
            notched = filters.sosfiltfilt(self.notch_sos, processed)
            notched *= settings['notch']
            if np.shares_memory(processed, samples):  # the caller's: never written to
                processed = processed * (1.0 - settings['notch'])
            else:
                processed *= 1.0 - settings['notch']
            processed += notched  # (1 - d) x + d notch(x), the same products and sum, in place
            del notched
        processed = butter_lowpass_filter(processed, settings['lowpass'], self.nyquist)
        if 'gain' in settings:
            processed *= settings['gain']
        return processed - settings['offset']

    def without_notch(self, settings):
        """``settings`` without the notches' depth, for a caller that blends in a signal notched
        beforehand: the filters are linear and zero-phase, so inside a signal their order does not
        matter."""
        return {name: value for name, value in settings.items() if name != 'notch'}

    def record(self):
        """What ``policy.json`` and ``result.json`` keep: the stages, their ranges and the mains."""
        return {'stages': list(self.stages), 'mains_hz': self.mains_hz,
                'ranges': {name: [float(self.low[i]), float(self.high[i]), self.scales[i]]
                           for i, name in enumerate(self.stages)}}


def describe(settings, mains_hz=None):
    """The settings in words, in the order the chain applies them."""
    said = []
    if 'highpass' in settings:
        said.append(f"high-pass {settings['highpass']:.4g} Hz")
    if 'notch' in settings:
        said.append(f"notches at {mains_hz:g} Hz and harmonics, depth {settings['notch']:.2f}")
    said.append(f"low-pass {settings['lowpass']:.6g} Hz")
    if 'gain' in settings:
        said.append(f"gain {settings['gain']:.3f}")
    said.append(f"offset {settings['offset']:.6g}")
    return ', '.join(said)


def notch_sos(mains_hz, sample_rate):
    """The notches' second-order sections: one at ``mains_hz`` and at each harmonic up to the
    ``HARMONICS``-th that lies below 0.95 x Nyquist, each of quality ``NOTCH_Q``."""
    lines = [k * mains_hz for k in range(1, HARMONICS + 1) if k * mains_hz < 0.95 * sample_rate / 2]
    return np.concatenate([signal.tf2sos(*signal.iirnotch(line, NOTCH_Q, fs=sample_rate)) for line in lines])


class ZeroPhaseResponse:
    """What the chain's low- and high-pass do to each of ``frequencies`` (Hz), for any settings.

    A zero-phase filter (``sosfiltfilt``) multiplies each frequency by its squared magnitude
    response, and a chain of them by the product of theirs; a Butterworth's is closed-form (its
    bilinear transform's warping, ``tan``, included). The notches, the gain and the offset are the
    caller's: the notches at depth ``d`` blend the signal with the signal notched, ``(1 - d) x +
    d notch(x)``, which the ceiling's search and the excerpts of a long signal
    (``any_signal.ExcerptSignal``) each compute their own way (``Chain.without_notch``).
    """

    def __init__(self, chain, frequencies):
        self.sample_rate = chain.sample_rate
        self.warped = np.tan(np.pi * np.minimum(frequencies, chain.nyquist * (1 - 1e-9)) / chain.sample_rate)
        with np.errstate(divide='ignore'):
            self.inverse = np.where(self.warped > 0, 1 / np.where(self.warped > 0, self.warped, 1), np.inf)

    def __call__(self, settings):
        if 'notch' in settings:
            raise ValueError('ZeroPhaseResponse leaves the notches to its caller: pass Chain.without_notch(settings)')
        response = 1 / (1 + (self.warped / np.tan(np.pi * settings['lowpass'] / self.sample_rate)) ** 8)
        if 'highpass' in settings:
            response = response / (1 + (np.tan(np.pi * settings['highpass'] / self.sample_rate) * self.inverse) ** 8)
        return response


def settle_seconds(stages):
    """How long the slowest filter of ``stages`` that an excerpt applies rings after an edge, at its
    slowest setting (for the excerpts' margins): 5 periods of the lowest high-pass. The notches ring
    far longer (Q 30 at 50 Hz: a time constant of 0.19 s), so excerpts take them from the whole
    signal notched once (``any_signal.ExcerptSignal``) and need no margin for them."""
    return 5 / HIGHPASS_RANGE[0] if 'highpass' in stages else 0.0


def checked_stages(stages):
    """``stages`` as a tuple, or a ``ValueError`` naming what is wrong and what is allowed."""
    stages = tuple(stages)
    unknown = [name for name in stages if name not in STAGES]
    if unknown or len(set(stages)) != len(stages) or stages[:2] != QUESTION_CHAIN:
        raise BadInput(f'--chain {",".join(stages)} is not allowed: it starts with the question\'s lowpass,offset '
                         f'and may add, once each, any of highpass, notch, gain (default at audio rates: '
                         f'{",".join(AUDIO_CHAIN)})')
    return stages


def highpass_range(sample_rate):
    """``HIGHPASS_RANGE``, its top capped below a quarter of the Nyquist frequency."""
    return HIGHPASS_RANGE[0], min(HIGHPASS_RANGE[1], sample_rate / 8)


CEILING_GRID = (8, 6, 3)
"""Points of the ceiling's first grid: low-pass cutoffs, high-pass cutoffs, notch depths."""
CEILING_BAND = 1e-3
"""The ceiling's search sums the spectra's bins in bands this wide on a log scale (0.1%: a
minute at 48 kHz has 1.44 million bins and about 14,000 such bands) and evaluates the filters once
per band: across 0.1% a Butterworth's response moves by 0.8% at most, at its steepest. The
notches' response, which changes faster, is summed bin by bin."""


def ceiling(chain, input_signal, desired_signal):
    """The chain's best settings for ``input_signal`` against ``desired_signal``: ``{'settings', 'rms'}``.

    The same objective as the agent's (the RMS error of the chain's output), over the same ranges.
    Gain and offset enter linearly, so for given filters their best values are a least-squares fit
    (clipped to their ranges). The filters' cutoffs and the notch depth are searched on the
    signals' spectra (Parseval), where the zero-phase chain multiplies each frequency by its
    stages' squared magnitude responses (``ZeroPhaseResponse``, and the notches' computed once): a
    grid, then scipy's bounded
    L-BFGS-B from its best point. The squared error at a gain ``g`` is a few sums over the bins,
    which do not change during the search and are summed once, in ``CEILING_BAND`` bands; so each
    point of the search costs one response per band, not one per bin. The settings found are then
    measured in the time domain, exactly as the env applies them: that is the ``rms`` returned.
    """
    x = np.asarray(input_signal, dtype=np.float64)
    y = np.asarray(desired_signal, dtype=np.float64)
    n = len(x)
    spectrum_in, spectrum_target = np.fft.rfft(x), np.fft.rfft(y)
    dc_in, dc_target = spectrum_in[0].real, spectrum_target[0].real
    # Per bin above DC, with q = 1 - d (1 - p) the notches at depth d (p their squared response)
    # and F the filters' response: |g F q X - Y|^2 summed is g^2 sum(F^2 q^2 |X|^2) - 2 g sum(F q
    # Re(conj(X) Y)) + sum(|Y|^2); q^2 and q expand into the sums below, each summed over a band.
    # Each bin above DC stands for two (its negative twin), but the Nyquist bin of an even length.
    # In place where it can be: a minute at 48 kHz has 1.44 million bins, 22 MiB per complex copy.
    twice = np.full(len(spectrum_in) - 1, 2.0)
    if n % 2 == 0:
        twice[-1] = 1.0
    target_power = np.abs(spectrum_target[1:])
    target_power **= 2
    target_energy = float(np.dot(twice, target_power))
    del target_power
    power = np.abs(spectrum_in[1:])
    power **= 2
    power *= twice
    cross = np.conjugate(spectrum_in, out=spectrum_in)[1:]
    cross *= spectrum_target[1:]
    del spectrum_target
    cross = twice * np.real(cross)
    del spectrum_in, twice
    frequencies = np.fft.rfftfreq(n, 1 / chain.sample_rate)[1:]
    notch = np.ones(len(frequencies))
    if 'notch' in chain.stages:  # in pieces: a minute at 48 kHz would need 3 complex copies at once
        for piece in range(0, len(frequencies), 2 ** 16):
            part = slice(piece, piece + 2 ** 16)
            notch[part] = np.abs(signal.sosfreqz(chain.notch_sos, worN=frequencies[part], fs=chain.sample_rate)[1]) ** 2
    # Each bin's band: the frequencies rise, so the bands' numbers do; counted in place of np.unique's sort
    edges = np.log(frequencies)
    edges /= CEILING_BAND
    np.floor(edges, out=edges)
    band = np.zeros(len(edges), dtype=np.intp)
    np.cumsum(edges[1:] != edges[:-1], out=band[1:])
    del edges

    sums = {}  # one weighted copy at a time
    sums['power'] = np.bincount(band, weights=power)
    sums['notched_power'] = np.bincount(band, weights=notch * power)
    sums['twice_notched_power'] = np.bincount(band, weights=notch ** 2 * power)
    sums['cross'] = np.bincount(band, weights=cross)
    sums['notched_cross'] = np.bincount(band, weights=notch * cross)
    sums['frequency'] = np.bincount(band, weights=frequencies)
    centres = np.concatenate([[0.0], sums.pop('frequency') / np.bincount(band)])  # DC, then each band's mean
    del frequencies, notch, power, cross, band
    response = ZeroPhaseResponse(chain, centres)
    free = [name for name in ('lowpass', 'highpass', 'notch') if name in chain.stages]
    index = {name: chain.stages.index(name) for name in chain.stages}

    def settings_of(point):
        found = {}
        for value, name in zip(point, free):
            found[name] = float(np.exp(value)) if chain.scales[index[name]] == 'log' else float(value)
        return found

    def fit(found):
        """The squared error's terms for these filters, and the best gain and offset for them."""
        filters_only = response(chain.without_notch(found))
        at_dc, shape = filters_only[0], filters_only[1:]
        depth = found.get('notch', 0.0)
        output_power = shape ** 2 @ ((1 - depth) ** 2 * sums['power'] + 2 * depth * (1 - depth) * sums['notched_power']
                                     + depth ** 2 * sums['twice_notched_power'])
        output_cross = shape @ ((1 - depth) * sums['cross'] + depth * sums['notched_cross'])
        gain = 1.0
        if 'gain' in chain.stages:
            gain = float(np.clip(output_cross / max(output_power, 1e-300), chain.low[index['gain']],
                                 chain.high[index['gain']]))
        dc = gain * at_dc * dc_in - dc_target  # the notches pass DC unchanged
        offset = float(np.clip(dc / n, chain.low[index['offset']], chain.high[index['offset']]))
        return gain, offset, gain ** 2 * output_power - 2 * gain * output_cross + target_energy + (dc - offset * n) ** 2

    def error(point):
        return float(np.sqrt(max(fit(settings_of(point))[2], 0.0)) / n)

    bounds = []
    for name in free:
        low, high = chain.low[index[name]], chain.high[index[name]]
        bounds.append((np.log(low), np.log(high)) if chain.scales[index[name]] == 'log' else (low, high))
    axes = [np.linspace(low, high, points) for (low, high), points in
            zip(bounds, [CEILING_GRID[('lowpass', 'highpass', 'notch').index(name)] for name in free])]
    grid = np.stack(np.meshgrid(*axes, indexing='ij'), axis=-1).reshape(-1, len(free))
    start = min(grid, key=error)
    refined = optimize.minimize(error, start, method='L-BFGS-B', bounds=bounds)
    best = refined.x if refined.fun < error(start) else start
    found = settings_of(best)
    gain, _, _ = fit(found)
    if 'gain' in chain.stages:
        found['gain'] = gain
    found['offset'] = 0.0
    output = chain.apply(x, found)
    output -= y
    found['offset'] = float(np.clip(np.mean(output), chain.low[index['offset']], chain.high[index['offset']]))
    output -= found['offset']  # the time domain's own best offset, given the rest
    return {'settings': {name: found[name] for name in chain.stages}, 'rms': float(np.sqrt(np.dot(output, output) / n))}
