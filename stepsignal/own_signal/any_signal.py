"""The fixed env on any signal: arguments checked, and the knobs your own signal needs.

``fixed.env.StepSignal`` is the question's env corrected, with the question's arguments and
nothing else (its twin is ``original/env.py``). ``AnySignal`` is that env for every other use:
it refuses bad arguments with a message that says what is allowed, and takes the cutoff range,
the success threshold, the time limit and the offset range as arguments. ``make_env`` wraps it
for keras-rl as ``fixed.train.make_env`` does, with the compact observation for long signals.
"""
import numpy as np

from fixed.env import FlattenDictWrapper, StepSignal
from fixed import filters
from gymnasium import spaces
from shared.checks import BadInput, positive_number, whole_number
from shared.old_step_api import OldStepAPI
from fixed.observations import float32_box
from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES, DownsampleObservation
from stepsignal.own_signal.chain import (QUESTION_CHAIN, Chain, GAIN_RANGE, ZeroPhaseResponse, mains_of,
                                         settle_seconds)

FLOAT32_LIMIT = 1e37
"""The largest magnitude a sample may have: float32 (the env's precision, FIX-10) stops at 3.4e38,
and the offset range spans twice the signals' spread."""


class AnySignal(StepSignal):
    """``fixed.env.StepSignal`` with its arguments checked and four more of them.

    Everything ``StepSignal``'s docstring says holds; in addition:

    ## Arguments
    - ``input_signal``, ``desired_signal``: 1-D arrays of the same length (at least
      ``fixed.filters.min_signal_length()`` samples), all finite.
    - ``sample_rate``: samples per second, > 0.
    - ``cutoff_range``: ``(lowest, highest)`` cutoff in Hz, ``0 < lowest < highest < Nyquist``, and
      the lowest at least ``fixed.filters.lowest_accurate_cutoff(sample_rate)``. Default the fixed
      env's own: 0.001 Hz (or that floor, at audio rates) to 0.99 x Nyquist.
    - ``distance_threshold``: L2 distance counted as success, default 1.0 (the question's 10e-1).
    - ``time_limit``: the steps of an episode before it is truncated, default the fixed env's (10).
    - ``max_offset``: the offset range is ``[-max_offset, max_offset]``; default the spread of
      both signals together.
    - ``chain``: the stages the agent sets (``stepsignal.own_signal.chain``), default the question's
      ``('lowpass', 'offset')``. The action has one value per stage, in this order; ``info`` has
      each stage's setting (``highpass``, ``notch``, ``gain``) beside ``cutoff_hz`` and ``offset``.
    - ``mains_hz``: 50 or 60, the hum the ``notch`` stage cuts; default read from the input.

    Gymnasium's and Stable-Baselines3's ``check_env`` pass on it without a warning.
    """

    metadata = {'render_modes': []}

    def __init__(self, input_signal, sample_rate, desired_signal, cutoff_range=None,
                 distance_threshold=1.0, time_limit=None, max_offset=None, chain=QUESTION_CHAIN, mains_hz=None):
        input_signal = _checked_signal('input_signal', input_signal)
        desired_signal = _checked_signal('desired_signal', desired_signal)
        if desired_signal.shape != input_signal.shape:
            raise BadInput(f'desired_signal has {desired_signal.size} samples but input_signal has '
                             f'{input_signal.size}: they must be the same length')
        sample_rate = positive_number(sample_rate, 'sample_rate', 'samples per second')
        if cutoff_range is not None:
            cutoff_range = _checked_cutoff_range(cutoff_range, sample_rate)
        distance_threshold = positive_number(distance_threshold, 'distance_threshold')
        if time_limit is not None:
            time_limit = whole_number(time_limit, 'time_limit', 1, why='the steps of an episode')
        super().__init__(input_signal, sample_rate, desired_signal, **({} if time_limit is None else
                                                                        {'time_limit': time_limit}))
        low, high = cutoff_range or (self.physical_low[0], self.physical_high[0])  # the fixed env's own
        floor = filters.lowest_accurate_cutoff(sample_rate)
        if low < floor * (1 - 1e-9):  # a floor given as printed (0.48 for 0.48000000000000004) is the floor
            raise BadInput(f'cutoff_range starts at {low:g} Hz, below {floor:.3g} Hz: at {sample_rate:g} samples per '
                             f'second no 4th-order low-pass passes a constant to within 1e-6 below that '
                             f'(docs/your_signal.md); give a lowest cutoff of at least {floor:.3g} Hz')
        if not low < high:
            raise BadInput(f'sample_rate {sample_rate} Hz is too low for the lowest cutoff {low} Hz; pass '
                             f'cutoff_range=(low, high) with 0 < low < high < {sample_rate / 2}')
        self.cutoff_range = (float(low), float(high))
        self.distance_threshold = distance_threshold
        if max_offset is not None:
            max_offset = positive_number(max_offset, 'max_offset')
        else:  # the signals' spread, as the fixed env computes it
            max_offset = self.physical_high[1]
            if max_offset == 0:
                raise BadInput(f'input_signal and desired_signal are both the constant {float(input_signal[0]):g}: '
                                 f'there is nothing to filter or offset')
        if 'notch' in chain and mains_hz is None:
            mains_hz = mains_of(input_signal, sample_rate)
        self.chain = Chain(chain, sample_rate, self.cutoff_range, max_offset, mains_hz)
        self.physical_low, self.physical_high = self.chain.low, self.chain.high
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(len(self.chain.stages),), dtype=np.float32)
        self.settings = None
        self.observation_space = self._observation_space()  # its bounds follow the offset range

    def physical_action(self, action):
        """The chain's settings for ``action`` (kept for ``_set_action`` and ``info``); returns the
        question's two, which ``StepSignal.step`` reports. For the question's chain, the same numbers
        as ``StepSignal.physical_action``."""
        self.settings = self.chain.settings(action)
        return self.settings['lowpass'], self.settings['offset']

    def _set_action(self, actions):
        self.signal = self.chain.apply(self.initial_signal, self.settings).astype(np.float32)

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        info.update({name: float(value) for name, value in self.settings.items() if name not in QUESTION_CHAIN})
        return observation, reward, terminated, truncated, info

    def _observation_space(self):
        found = super()._observation_space()
        if getattr(self, 'chain', None) is None or self.chain.is_question:  # StepSignal.__init__ asks before the chain
            return found
        reach = processed_reach(*self._signal_ranges()['observation'], self.physical_high[1])
        spaces_now = dict(found.spaces)
        spaces_now['achieved_goal'] = float32_box(-reach, reach, self.initial_signal.shape)
        return spaces.Dict(spaces_now)


def processed_reach(low, high, max_offset):
    """A bound on what a chain longer than the question's makes of an input within ``[low, high]``.

    A high-pass and notches move the signal's middle to 0 and can ring: each stage within the
    bound of ``fixed.filters.output_range``'s, around 0, times the highest gain, minus any offset.
    """
    reach = (abs(low) + abs(high)) * filters.LARGEST_GAIN ** 2 * 3 * (1 + filters.LARGEST_GAIN) ** 4 * GAIN_RANGE[1]
    return reach + max_offset


EXCERPTS = 8
"""How many excerpts of a long signal ``ExcerptSignal`` trains on."""
EXCERPT_SAMPLES = 12_000
"""The samples of each excerpt that are scored (0.25 s at 48 kHz)."""
AUDIO_RATE = 8000
"""From this many samples per second up, a signal is taken for audio (telephone speech is 8 kHz)."""
AUDIBLE = (20.0, 20000.0)
"""The default cutoff range at audio rates, in Hz: the range of human hearing, capped at 0.99 x
Nyquist. A low-pass below 20 Hz leaves nothing audible, only a slowly moving level, so on audio the
question's range (from 0.001 Hz) invites the agent into an output that is nearly constant; at
lower rates (sensors, the question's 30 Hz) the question's range stays."""


def default_cutoff_range(sample_rate):
    """The cutoffs the agent may choose when ``--cutoff-range`` is not given: ``AUDIBLE`` (capped at
    0.99 x Nyquist) at audio rates; below them the fixed env's own, from the question's 0.001 Hz (or
    the lowest the filter applies accurately, ``fixed.filters.lowest_accurate_cutoff``) to 0.99 x
    Nyquist."""
    if sample_rate >= AUDIO_RATE:
        return AUDIBLE[0], min(AUDIBLE[1], 0.99 * sample_rate / 2)
    return max(1e-3, filters.lowest_accurate_cutoff(sample_rate)), 0.99 * sample_rate / 2


LONG_SIGNAL = 2 * EXCERPTS * EXCERPT_SAMPLES
"""Longer signals than this (192,000 samples: 4 s at 48 kHz) are trained on excerpts."""
MARGIN_PERIODS = 5
"""Periods of the lowest cutoff filtered on each side of an excerpt and not scored, so that the
filter's start-up at a window's edge stays out of the reward. Measured on a random walk plus a
tone at 48 kHz, 20 Hz: the scored part then differs from the whole signal filtered by 1.4e-6 of
the signal's spread (3 periods: 1.7e-4; 1 period: 3%)."""


def excerpt_margin(sample_rate, lowest_cutoff, chain=QUESTION_CHAIN):
    """Samples filtered on each side of an excerpt: ``MARGIN_PERIODS`` periods of the lowest cutoff,
    or longer if a stage of ``chain`` rings longer (``chain.settle_seconds``)."""
    margin = int(np.ceil(MARGIN_PERIODS * sample_rate / lowest_cutoff))
    return max(margin, int(np.ceil(settle_seconds(chain) * sample_rate)))


def excerpts_fit(samples, sample_rate, lowest_cutoff, chain=QUESTION_CHAIN):
    """Whether ``EXCERPTS`` windows, margins included, hold fewer samples than a signal of ``samples``:
    only then is a step on the excerpts cheaper than a step on the whole signal."""
    return EXCERPTS * (EXCERPT_SAMPLES + 2 * excerpt_margin(sample_rate, lowest_cutoff, chain)) < samples


class ExcerptSignal(AnySignal):
    """``AnySignal`` on excerpts of a long signal: what the agent trains on when a file is long.

    Filtering a minute of 48 kHz audio at every step would make a run of thousands of steps far too
    long (docs/your_signal.md#long-files-excerpts). One setting of the chain serves the whole file, and what suits the
    file suits its parts, so this env holds ``EXCERPTS`` excerpts of ``EXCERPT_SAMPLES`` samples,
    spread evenly through the signal. Each step filters every excerpt together with a margin of
    the signal on each side (``excerpt_margin``), and scores the excerpt alone: the
    reward is what the filter does inside the recording, not at the edges of a cut. The input,
    the goal and the processed signal the agent sees are the excerpts one after another.

    The question's two knobs are applied as ``StepSignal`` applies them (``sosfiltfilt``). A longer
    chain is applied in the frequency domain, where its zero-phase filters are one product
    (``chain.ZeroPhaseResponse``): each window's spectrum is computed once, so a step costs one
    inverse FFT per excerpt instead of every filter's two passes. The notches ring for seconds,
    longer than any margin worth filtering at every step, so the whole signal is notched once
    here and each window blends its plain and notched spectra by the notches' depth (the notch
    stage is that blend).

    ## Arguments
    As ``AnySignal``, with the whole signals; ``distance_threshold`` is the L2 distance over the
    whole signal counted as success (default 1.0), converted here to the excerpts' length.
    """

    holds_excerpts = True
    """What ``fixed.policy.save_policy`` records: the policy was trained on excerpts of its signal."""

    def __init__(self, input_signal, sample_rate, desired_signal, distance_threshold=1.0, cutoff_range=None,
                 chain=QUESTION_CHAIN, mains_hz=None, **kwargs):
        x = np.asarray(input_signal, dtype=np.float64)
        y = np.asarray(desired_signal, dtype=np.float64)
        lowest = cutoff_range[0] if cutoff_range else default_cutoff_range(sample_rate)[0]
        if 'notch' in chain and mains_hz is None:
            mains_hz = mains_of(x, sample_rate)  # from the whole signal, not its excerpts
        self.margin = excerpt_margin(sample_rate, lowest, chain)
        self.window = window = EXCERPT_SAMPLES + 2 * self.margin
        if x.size < EXCERPTS * window:
            raise BadInput(f'input_signal has {x.size} samples; {EXCERPTS} excerpts with margins for a lowest '
                             f'cutoff of {lowest:g} Hz need at least {EXCERPTS * window}')
        centres = ((np.arange(EXCERPTS) + 0.5) * x.size / EXCERPTS).astype(int)
        starts = np.clip(centres - window // 2, 0, x.size - window)  # windows stay inside the signal
        self.windows = np.stack([x[s:s + window] for s in starts], axis=1).astype(np.float32)  # (window, excerpts)
        self.excerpt_starts = starts + self.margin
        cores = slice(self.margin, self.margin + EXCERPT_SAMPLES)
        scored = EXCERPTS * EXCERPT_SAMPLES
        super().__init__(self.windows[cores].T.ravel(), sample_rate,
                         np.stack([y[s:s + window] for s in starts], axis=1)[cores].T.ravel(),
                         distance_threshold=distance_threshold * np.sqrt(scored / x.size), cutoff_range=cutoff_range,
                         chain=chain, mains_hz=mains_hz, **kwargs)
        self.spectra = self.notch_change = None
        # A longer chain's spectra are computed at the first step, not here: an env built only to
        # check the arguments (your_signal.prepare) never pays for them.
        self._whole_input, self._starts = (None, None) if self.chain.is_question else (input_signal, starts)

    def _compute_spectra(self):
        """Each window's spectrum and, with notches, what notching the whole signal changes in it.

        Kept in single precision, as the windows are (float32): a step's products and its inverse
        FFT then move half the bytes (0.56 ms instead of 0.93 for eight windows of 36,000 samples), and
        the reward is what float32 samples can tell apart anyway.
        """
        window, starts = self.window, self._starts
        self.response = ZeroPhaseResponse(self.chain, np.fft.rfftfreq(window, 1 / self.sample_rate))
        spectra = np.fft.rfft(self.windows.T.astype(np.float64), axis=-1)  # (excerpts, frequencies)
        if 'notch' in self.chain.stages:
            notched = filters.sosfiltfilt(self.chain.notch_sos, np.asarray(self._whole_input, dtype=np.float32))
            windows = np.stack([notched[s:s + window] for s in starts])
            self.notch_change = (np.fft.rfft(windows, axis=-1) - spectra).astype(np.complex64)
        self.spectra = spectra.astype(np.complex64)
        self._blend = np.empty_like(self.spectra)  # each step's spectra, made in place
        self._whole_input = None

    def _set_action(self, actions):
        if self.chain.is_question:  # the question's two knobs, each excerpt on its own
            processed = self.chain.apply(self.windows, self.settings)
            self.signal = processed[self.margin:self.margin + EXCERPT_SAMPLES].T.ravel().astype(np.float32)
            return
        if self.spectra is None:
            self._compute_spectra()
        spectra = self._blend
        if self.notch_change is None:
            spectra[...] = self.spectra
        else:  # the notches at depth d: the plain spectra plus d times what notching changes
            np.multiply(self.notch_change, np.float32(self.settings['notch']), out=spectra)
            spectra += self.spectra
        spectra *= self.response(self.chain.without_notch(self.settings)).astype(np.float32)
        processed = np.fft.irfft(spectra, n=self.window)  # float32, as the spectra
        scored = processed[:, self.margin:self.margin + EXCERPT_SAMPLES]
        if 'gain' in self.settings:
            scored *= np.float32(self.settings['gain'])
        self.signal = (scored - np.float32(self.settings['offset'])).ravel()


def make_env(scenario, seed=None, observed_samples=MAX_OBSERVED_SAMPLES, env_class=AnySignal, **env_kwargs):
    """``env_class`` on ``scenario`` (or, for a family, with ``env_kwargs`` alone), wrapped for keras-rl.

    The same wrappers as ``fixed.train.make_env``, plus the compact observation: signals longer
    than ``observed_samples`` are shown to the agent as that many block averages (None: never).
    ``seed`` seeds the env at its first reset.
    """
    if scenario is None:
        env = env_class(**env_kwargs)
    else:
        env = env_class(scenario.input_signal, scenario.sample_rate, scenario.desired_signal, **env_kwargs)
    if observed_samples is not None:
        env = DownsampleObservation(env, keys=['observation', 'desired_goal'], size=observed_samples)
    env = FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal'])
    return OldStepAPI(env, seed=seed)


def _checked_signal(name, values):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise BadInput(f'{name} must be a 1-D array of numbers: {error}') from None
    if array.ndim != 1:
        raise BadInput(f'{name} must be 1-D (one channel), got shape {array.shape}')
    if array.size < filters.min_signal_length():
        raise BadInput(f'{name} has {array.size} samples; the filter needs at least {filters.min_signal_length()}')
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise BadInput(f'{name} has {bad.size} NaN or infinite samples (first at index {bad[0]}: '
                         f'{array[bad[0]]}); all samples must be finite')
    largest = float(np.abs(array).max())
    if largest > FLOAT32_LIMIT:
        raise BadInput(f'{name} reaches {largest:g}; the env works in float32, so every sample must lie within '
                         f'+-{FLOAT32_LIMIT:g} (scale the signal down)')
    return array.astype(np.float32)


def _checked_cutoff_range(cutoff_range, sample_rate):
    nyquist = sample_rate / 2
    try:
        low, high = (float(v) for v in cutoff_range)
    except (TypeError, ValueError):
        raise BadInput(f'cutoff_range must be (lowest_hz, highest_hz), got {cutoff_range!r}') from None
    if not (0 < low < high < nyquist):
        raise BadInput(f'cutoff_range {cutoff_range!r} is not allowed at {sample_rate} Hz: it needs '
                         f'0 < lowest < highest < Nyquist = {nyquist} Hz')
    return low, high
