"""One policy for many clips: train on a family of recordings, each dirtied anew at every episode.

A policy trained on one clip sees one input and learns one answer: applied to another clip, with
another DC offset or another hum, it answers as if it were the first. To learn to *read* its input,
it has to see inputs that differ. ``ClipFamily`` is the fixed env (``AnySignal``, the chain for audio) on a new input at
every reset: one of the clips, with a DC offset, mains hum (50 or 60 Hz with harmonics), hiss and
a gain drawn from ``Augmentation``, while the target stays the clip's clean one. The hum drawn
replaces the clip's own (``without_hum``): a recording carries the hum of one mains, and a clip
recorded on 50 Hz with 60 Hz hum added on top would teach a policy to fight both at once. The agent sees
each signal's spectrum in bands (``SpectrumView``): block averages of a long clip, as one file is
shown, keep neither the voice's level nor the hum, which such a policy has to read.

What a clip carries is summed up by ``clip_features`` (its DC, gain, hum and the rest of what is
not the target); the family records the range of each over every input it trained on, and a saved
policy warns when a new clip lies outside it (``outside_training``).
"""
from dataclasses import asdict, dataclass

import gymnasium
import numpy as np
from gymnasium import spaces
from scipy import signal

from fixed.filters import sosfiltfilt
from shared.checks import BadInput
from fixed.observations import float32_box
from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES, DownsampleObservation
from stepsignal.own_signal.any_signal import LONG_SIGNAL, AnySignal, processed_reach
from stepsignal.own_signal.bands import MAINS
from stepsignal.own_signal.chain import AUDIO_CHAIN, Chain, mains_of, notch_sos

HUM_HARMONICS = (1, 2, 3, 5)
"""The harmonics of mains hum drawn: the mains frequency and its 2nd, 3rd and 5th, at 1/k of its amplitude."""
HISS_PEAK = 6.0
"""Hiss is Gaussian: its samples are taken to stay within this many RMS (for the spaces' bounds)."""
OUTSIDE_MARGIN = 0.1
"""A feature more than this share of its trained span beyond the span counts as outside it."""


def mains_hum(t, mains, amplitude, phases):
    """Hum at ``mains`` Hz at the times ``t``: ``amplitude / k`` at each harmonic k of ``HUM_HARMONICS``,
    each at its own phase (``phases``, one per harmonic)."""
    return sum(amplitude / k * np.sin(2 * np.pi * k * mains * t + phase) for k, phase in zip(HUM_HARMONICS, phases))


@dataclass(frozen=True)
class Augmentation:
    """What ``ClipFamily`` adds to a clip at each reset, each drawn uniformly from its range.

    The defaults span what real recordings carry, with room on each side (docs/your_signal.md#many-clips).
    ``none()`` adds nothing: the clips as they are.
    """

    dc: tuple = (-0.2, 0.2)
    """A DC offset added to the input."""
    hum: tuple = (0.0, 0.08)
    """The hum's amplitude at the mains frequency (at harmonic k, 1/k of it), at 50 or 60 Hz (even odds)."""
    hiss: tuple = (0.0, 0.03)
    """The RMS of white noise added."""
    gain: tuple = (0.7, 1.4)
    """The whole input scaled by this (the target is not): within the gain stage's reach (0.5 to 2)."""

    @classmethod
    def none(cls):
        return cls(dc=(0.0, 0.0), hum=(0.0, 0.0), hiss=(0.0, 0.0), gain=(1.0, 1.0))

    def draw(self, rng):
        """One draw: the numbers ``augment`` adds to a clip."""
        return {'dc': float(rng.uniform(*self.dc)), 'hum': float(rng.uniform(*self.hum)),
                'mains': int(MAINS[rng.integers(len(MAINS))]),
                'phases': [float(p) for p in rng.uniform(0, 2 * np.pi, len(HUM_HARMONICS))],
                'hiss': float(rng.uniform(*self.hiss)), 'gain': float(rng.uniform(*self.gain)),
                'noise_seed': int(rng.integers(2 ** 31))}

    def reach(self, clip_peak):
        """The largest magnitude an augmented clip of peak ``clip_peak`` can take."""
        largest_hum = self.hum[1] * sum(1 / k for k in HUM_HARMONICS)
        return self.gain[1] * (clip_peak + max(map(abs, self.dc)) + largest_hum + HISS_PEAK * self.hiss[1])

    def record(self):
        return {name: list(value) for name, value in asdict(self).items()}


def augment(clip, sample_rate, drawn):
    """``clip`` with what ``drawn`` (``Augmentation.draw``) adds: DC, hum, hiss, then the gain; float32."""
    t = np.arange(len(clip)) / sample_rate
    dirty = np.asarray(clip, dtype=np.float64) + drawn['dc']
    if drawn['hum']:
        dirty += mains_hum(t, drawn['mains'], drawn['hum'], drawn['phases'])
    if drawn['hiss']:
        dirty += drawn['hiss'] * np.random.default_rng(drawn['noise_seed']).standard_normal(len(clip))
    return (drawn['gain'] * dirty).astype(np.float32)


def without_hum(clip, target, sample_rate):
    """``clip`` without its mains hum: the difference from its ``target`` (all that is not the
    target: DC, drift, hum, hiss, the room) through the chain's notches at the mains frequency it
    carries, added back to the target. The target itself is never filtered, so a voice's harmonics
    beside the hum's lines stay; float32."""
    rest = np.asarray(clip, dtype=np.float64) - target
    rest = sosfiltfilt(notch_sos(mains_of(rest, sample_rate), sample_rate), rest)
    return (rest + target).astype(np.float32)


def clip_features(input_signal, desired_signal, sample_rate):
    """What an input carries beside its target, in four numbers.

    - ``dc``: the input's mean less the target's;
    - ``gain``: the least-squares scale of the target within the input (noise averages out of it);
    - ``hum``: the amplitude of what is left at the mains frequency, 50 or 60 Hz, whichever is larger;
    - ``noise``: the RMS of everything else, the input less the scaled target and the DC (hum, hiss, drift).
    """
    x = np.asarray(input_signal, dtype=np.float64)
    y = np.asarray(desired_signal, dtype=np.float64)
    xc, yc = x - x.mean(), y - y.mean()
    power = float(yc @ yc)
    gain = float(xc @ yc) / power if power > 0 else float('nan')
    rest = xc - (gain if power > 0 else 0.0) * yc
    t = np.arange(len(x)) / sample_rate
    hum = max(2 * abs(np.sum(rest * np.exp(-2j * np.pi * mains * t))) / len(x) for mains in MAINS)
    return {'dc': float(x.mean() - y.mean()), 'gain': gain, 'hum': float(hum), 'noise': float(np.sqrt(np.mean(rest ** 2)))}


FEATURE_TEXT = {'dc': 'DC offset', 'gain': 'gain', 'hum': 'mains hum', 'noise': 'noise (RMS)'}


def outside_training(features, trained):
    """One sentence per feature of ``features`` (``clip_features``) outside the ``trained`` span
    (``{name: [lowest, highest]}``, as a family policy records it) by more than ``OUTSIDE_MARGIN``."""
    sentences = []
    for name, (low, high) in trained.items():
        value = features.get(name)
        if value is None or not np.isfinite(value):
            continue
        margin = OUTSIDE_MARGIN * (high - low)
        if value < low - margin or value > high + margin:
            sentences.append(f'its {FEATURE_TEXT.get(name, name)} ({value:.4g}) is outside the {low:.4g} to '
                             f'{high:.4g} the policy was trained on')
    return sentences


def pieces(samples, longest=LONG_SIGNAL):
    """``samples`` cut into consecutive pieces of at most ``longest`` samples (a short last piece,
    under half of that, is dropped unless it is the only one): each piece is filtered whole at every
    step, which a long recording would make slow."""
    count = max(1, int(np.ceil(len(samples) / longest)))
    cut = [samples[i * longest:(i + 1) * longest] for i in range(count)]
    return [piece for i, piece in enumerate(cut) if i == 0 or len(piece) >= longest // 2]


LINEAR_BANDS = 50
"""The spectrum view's bands below 495 Hz: DC (0-5 Hz), then 10 Hz wide and centred on each
multiple of 10 Hz, so that every line of 50 Hz hum and of 60 Hz hum sits in the middle of a band
of its own, away from the edges where a line leaks into its neighbour."""
LOG_BANDS = 40
"""Above 495 Hz, this many bands evenly spaced in log frequency up to Nyquist: the voice and the hiss."""


def band_edges(sample_rate):
    linear = np.concatenate([[0.0], np.arange(5.0, 10.0 * LINEAR_BANDS, 10.0)])
    return np.concatenate([linear, np.geomspace(linear[-1], sample_rate / 2, LOG_BANDS + 1)[1:]])


def band_levels(samples, sample_rate, edges):
    """``log10`` of the mean power spectral density in each band between ``edges`` (Welch, about
    1 Hz resolution, the mean kept: DC shows in the lowest band)."""
    segment = min(len(samples), 2 ** int(np.round(np.log2(sample_rate))))
    frequencies, power = signal.welch(samples, sample_rate, nperseg=segment, detrend=False)
    index = np.searchsorted(edges, frequencies, side='right') - 1
    inside = (index >= 0) & (index < len(edges) - 1)
    sums = np.bincount(index[inside], weights=power[inside], minlength=len(edges) - 1)
    counts = np.maximum(np.bincount(index[inside], minlength=len(edges) - 1), 1)
    return np.log10(sums / counts + 1e-12).astype(np.float32)


class SpectrumView(gymnasium.ObservationWrapper):
    """Show the agent the spectrum of each signal instead of its samples: ``band_levels`` of the
    processed signal and of the target. Block averages (``DownsampleObservation``) of a long clip
    keep only what moves slower than a block, so a voice's level, the hum and the hiss, which a
    policy for many clips has to read, would be gone."""

    KEYS = ('observation', 'desired_goal')

    def __init__(self, env):
        super().__init__(env)
        self.edges = band_edges(env.unwrapped.sample_rate)
        box = spaces.Box(-12.0, 12.0, (len(self.edges) - 1,), dtype=np.float32)
        self.observation_space = spaces.Dict({key: box for key in self.KEYS})

    def observation(self, observation):
        rate = self.env.unwrapped.sample_rate
        return {key: np.clip(band_levels(observation[key], rate, self.edges), -12.0, 12.0) for key in self.KEYS}


VIEWS = ('spectrum', 'blocks')
"""What a family's agent may see of each signal: ``SpectrumView`` (the default) or block averages."""


def clip_env(input_signal, sample_rate, desired_signal, cutoff_range, max_offset, chain=AUDIO_CHAIN, time_limit=None,
             observed_samples=MAX_OBSERVED_SAMPLES, view='spectrum'):
    """The env one clip is processed in: ``AnySignal`` with the family's ranges, seen through
    ``observed_samples`` block averages or ``SpectrumView`` (Gymnasium's API; ``wrapped`` adds keras-rl's)."""
    env = AnySignal(input_signal, sample_rate, desired_signal, cutoff_range=cutoff_range, max_offset=max_offset,
                    chain=chain, **({} if time_limit is None else {'time_limit': time_limit}))
    if view == 'spectrum':
        return SpectrumView(env)
    return DownsampleObservation(env, keys=['observation', 'desired_goal'], size=observed_samples)


def wrapped(env, seed=None):
    """keras-rl's view of a clip's or a family's env: the two keys flattened, the old step API."""
    from fixed.env import FlattenDictWrapper
    from shared.old_step_api import OldStepAPI

    return OldStepAPI(FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal']), seed=seed)


class ClipFamily(gymnasium.Env):
    """The fixed env on a family of clips: a clip and its dirt drawn anew at every reset.

    ## Description
    At each reset one of ``clips`` is drawn (even odds), dirtied by one draw of ``augmentation``,
    and processed in ``clip_env``: the same env, chain, reward and view as a single clip's. The
    target is the clip's own, untouched. When ``augmentation`` draws hum, each clip's own is taken
    out first (``without_hum``), so that an input carries the hum of one mains.

    ## Action Space
    ``Box(-1, 1, (stages,))``: one value per stage of ``chain``, as ``AnySignal``'s. The offset's
    range is the family's: the same action means the same offset on every clip.

    ## Observation Space
    A Dict of ``observation`` (the processed input) and ``desired_goal`` (the target). With
    ``view='spectrum'`` (the default) each is ``band_levels``: the log power in ``LINEAR_BANDS`` bands
    up to 495 Hz and ``LOG_BANDS`` above, in [-12, 12], the same for every clip length. With
    ``view='blocks'``, ``observed_samples`` block averages, as one file is seen (``make_env``), within
    bounds that hold every clip the family can draw. Not a goal env: the reward is computed by the
    clip's env, on every sample.

    ## Rewards, Episode End
    As ``AnySignal``'s: minus the RMS error after each step; truncated after ``time_limit`` steps.

    ## Arguments
    - ``clips``: a list of ``(input, target)`` pairs of 1-D arrays, each pair of one length, each
      longer than ``observed_samples``, all at ``sample_rate``.
    - ``cutoff_range``: the low-pass's range, in Hz. ``chain``: the stages (default ``AUDIO_CHAIN``).
    - ``augmentation``: an ``Augmentation`` (``Augmentation.none()``: the clips as they are).
    - ``time_limit``, ``observed_samples``: as for ``AnySignal`` and ``make_env``.
    - ``view``: ``'spectrum'`` or ``'blocks'`` (``VIEWS``), what the agent sees.

    After every reset ``features_seen`` holds, for each of ``clip_features``, the lowest and the
    highest value among the inputs drawn so far.

    ::

        from stepsignal.own_signal.clip_family import ClipFamily
        env = ClipFamily([(noisy, clean), (noisy_2, clean_2)], 22050, (20.0, 10_000.0))
        observation, info = env.reset(seed=3)  # info['drawn']: the clip and the dirt drawn; same seed, same draws

    ## Version History
    - v0: the family's first version, on ``AnySignal`` with ``AUDIO_CHAIN``.
    - v1: the hum drawn replaces the clip's own instead of adding to it.
    """

    metadata = {'render_modes': []}

    def __init__(self, clips, sample_rate, cutoff_range, chain=AUDIO_CHAIN, augmentation=None, time_limit=None,
                 observed_samples=MAX_OBSERVED_SAMPLES, view='spectrum'):
        self.clips = [(np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)) for x, y in clips]
        if not self.clips:
            raise BadInput('a family needs at least one clip')
        shortest = min(len(x) for x, _ in self.clips)
        if shortest <= observed_samples:
            raise BadInput(f'a clip of {shortest} samples is too short: each needs more than {observed_samples}')
        self.augmentation = augmentation or Augmentation()
        if self.augmentation.hum[1] > 0:  # the hum drawn at each reset replaces the clip's own
            self.clips = [(without_hum(x, y, sample_rate), y) for x, y in self.clips]
        self.sample_rate = float(sample_rate)
        self.cutoff_range = tuple(cutoff_range)
        self.time_limit = time_limit
        self.observed_samples = observed_samples
        input_reach = self.augmentation.reach(max(float(np.abs(x).max()) for x, _ in self.clips))
        target_reach = max(float(np.abs(y).max()) for _, y in self.clips)
        # After a high-pass the output's mean is 0, and the offset has only the target's mean to match:
        # a narrower range is a finer one. Without it, the offset must reach any input's DC.
        self.max_offset = target_reach if 'highpass' in chain else input_reach + target_reach
        self.view = view
        # The chain's ranges; each clip's notches are at the mains frequency read from it.
        self.chain = Chain(chain, self.sample_rate, self.cutoff_range, self.max_offset,
                           mains_hz=MAINS[0] if 'notch' in chain else None)
        self.physical_low, self.physical_high = self.chain.low, self.chain.high
        self.distance_threshold = 1.0  # AnySignal's; audio is judged against its ceiling (your_signal.judge)
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(len(self.chain.stages),), dtype=np.float32)
        observed = (observed_samples,)
        if view == 'spectrum':
            observed = (len(band_edges(self.sample_rate)) - 1,)
            self.observation_space = spaces.Dict({key: spaces.Box(-12.0, 12.0, observed, dtype=np.float32)
                                                  for key in SpectrumView.KEYS})
        else:
            self.observation_space = spaces.Dict({
                'observation': float32_box(-processed_reach(-input_reach, input_reach, self.max_offset),
                                           processed_reach(-input_reach, input_reach, self.max_offset), observed),
                'desired_goal': float32_box(-target_reach, target_reach, observed)})
        self.features_seen = {}
        self.drawn = None
        self.current = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)  # seeds self.np_random when a seed is given
        index = int(self.np_random.integers(len(self.clips)))
        clip, target = self.clips[index]
        self.drawn = {'clip': index, **self.augmentation.draw(self.np_random)}
        dirty = augment(clip, self.sample_rate, self.drawn)
        for name, value in clip_features(dirty, target, self.sample_rate).items():
            low, high = self.features_seen.get(name, (value, value))
            self.features_seen[name] = (min(low, value), max(high, value))
        self.current = clip_env(dirty, self.sample_rate, target, self.cutoff_range, self.max_offset, self.chain.stages,
                                self.time_limit, self.observed_samples, self.view)
        observation, info = self.current.reset()
        return self._observed(observation), {**info, 'drawn': self.drawn}

    def step(self, action):
        observation, reward, terminated, truncated, info = self.current.step(action)
        return self._observed(observation), reward, terminated, truncated, info

    @staticmethod
    def _observed(observation):
        return {key: observation[key] for key in ('observation', 'desired_goal')}
