"""The fixed setup on your own signal files: ``python -m stepsignal process --input IN --target T --out DIR``.

Three stages, so that a bad input costs nothing: ``prepare`` reads and checks everything and
builds the scenario (it writes nothing and imports no TensorFlow; every problem is a
``ValueError`` naming the file or value and what is allowed); ``train_on_signal`` trains the fixed
agent on it; ``finish`` applies the trained policy to every channel of the input and writes the
processed file, the report and its plots. How channels, rates and lengths are treated:
docs/your_signal.md.
"""
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES
from fixed.extras import Extras
from fixed.options import write_result
from shared.checks import BadInput, positive_number
from shared.cli import check_output_folder
from shared.files import save_figure, write_atomic
from shared.scenario import Scenario
from stepsignal.own_signal.signal_files import encode, give_back_freed_memory, mix_down, read_signal, resample, stored_dtype, write_encoded
from shared.trace import episodes
from fixed.filters import lowest_accurate_cutoff
from stepsignal.own_signal.any_signal import (AUDIO_RATE, EXCERPT_SAMPLES, EXCERPTS, LONG_SIGNAL, AnySignal,
                                              ExcerptSignal, default_cutoff_range, excerpts_fit, make_env)
from stepsignal.own_signal.bands import band_rows, bands, spectrum, what_is_left
from stepsignal.own_signal.chain import (AUDIO_CHAIN, QUESTION_CHAIN, Chain, checked_stages, describe, mains_of,
                                         CHAIN_OBSERVED_SAMPLES, observed_samples)
from stepsignal.own_signal.clip_family import VIEWS, clip_env, clip_features, outside_training, wrapped
from stepsignal.own_signal.baselines import baselines, rms, verdict

log = logging.getLogger(__name__)

CLOSE_TO_CEILING = 0.1
"""On audio, success is an RMS error at most this share above the ceiling's (and every other
baseline beaten): the question's L2 < 1 is an RMS error of 0.0007 on 10 s at 22 kHz, which no
recording with hiss reaches."""

@dataclass
class Job:
    """Everything checked and ready to train: the signals, the env's arguments, where to write."""

    input: object
    """The input's ``SignalFile``."""
    scenario: Scenario
    """The mono training pair at the input's sample rate."""
    target_text: str
    """How the target was given, for the report."""
    env_kwargs: dict = field(default_factory=dict)
    out: Path = None
    cutoff_range: tuple = None
    """The cutoffs the agent may choose, in Hz (the env's, after its defaults)."""
    max_offset: float = None
    """The offsets it may choose lie in ``[-max_offset, max_offset]``."""
    excerpts: bool = False
    """Train on excerpts of the signal (``ExcerptSignal``): it is too long to filter at every step."""
    stages: tuple = QUESTION_CHAIN
    """The chain's stages the agent sets (``stepsignal.own_signal.chain``)."""
    mains_hz: float = None
    """The hum's frequency the notches cut, read from the input (with a ``notch`` stage)."""
    baselines: dict = None
    """What the result is compared with (``measure_baselines``), measured before training."""
    achieved: np.ndarray = None
    """The mono training signal processed with the answer found (``judge``)."""
    family_view: str = None
    """With a family's ``--policy``: the view of the signals it was trained with (``clip_family.VIEWS``)."""
    outside_training: list = field(default_factory=list)
    """With a family's ``--policy``: how the input lies outside what the policy was trained on
    (``clip_family.outside_training``), one sentence each."""
    spectra: dict = field(default_factory=dict)
    """Welch spectra already computed, by name (``target``, ``output``): the band table's, which the
    signals figure draws again (each is a pass over the whole signal)."""

    def make_training_env(self, **overrides):
        """The env the agent trains on (and a saved policy answers on), wrapped for keras-rl;
        ``overrides``: more of the env's arguments (training passes its ``time_limit``)."""
        if self.family_view is not None:  # a family's policy answers (one step) the whole signal as it saw its clips
            s = self.scenario
            return wrapped(clip_env(s.input_signal, s.sample_rate, s.desired_signal, self.cutoff_range,
                                    self.max_offset, self.stages, view=self.family_view))
        kwargs = {**self.env_kwargs, 'cutoff_range': self.cutoff_range, 'max_offset': self.max_offset,
                  'observed_samples': observed_samples(self.stages), **overrides}
        return make_env(self.scenario, env_class=ExcerptSignal if self.excerpts else AnySignal, **kwargs)

    def chain(self):
        """The chain the agent sets, with the env's ranges."""
        return Chain(self.stages, self.scenario.sample_rate, self.cutoff_range, self.max_offset, self.mains_hz)

    @property
    def output_name(self):
        return 'processed' + self.input.path.suffix.lower()

    def about(self):
        """What ``result.json`` records under ``"input"``: what was trained on and what comes out."""
        return {
            'input': str(self.input.path),
            'target': self.target_text,
            'sample_rate': self.input.sample_rate,
            'samples': len(self.input.samples),
            'channels': self.input.channels,
            'trained_on': 'the input itself' if self.input.channels == 1 else
                          f'the mean of its {self.input.channels} channels',
            'observed_values_per_signal': min(len(self.input.samples), observed_samples(self.stages)),
            'output': self.output_name,
            **{key: (list(value) if isinstance(value, tuple) else value) for key, value in self.env_kwargs.items()},
        }


def prepare(input_path, out, target_path=None, target_level=None, sample_rate=None, target_sample_rate=None,
            cutoff_range=None, success_rms=None, overwrite=False, policy=None, chain=None):
    """Read and check every input; return a ``Job``.

    ``chain``: the stages, as ``--chain`` gives them (``'lowpass,offset,highpass'``); default
    ``AUDIO_CHAIN`` at audio rates, else the question's two (a saved policy's own, with ``policy``).

    ``policy``: the folder of a saved policy that answers instead of training (``--policy``): it is
    read and checked against the input here too, and the run writes fewer files.

    Raises ``ValueError`` on any bad input, before anything is written: the output folder is
    checked last and only then created (empty) if it is missing, so a refused run leaves ``--out``
    as it found it.
    """
    if (target_path is None) == (target_level is None):
        raise BadInput('give exactly one target: --target FILE or --target-level LEVEL')
    if sample_rate is not None:
        sample_rate = positive_number(sample_rate, '--sample-rate', 'samples per second')
    if target_sample_rate is not None:
        target_sample_rate = positive_number(target_sample_rate, '--target-sample-rate', 'samples per second')
    if Path(input_path).is_dir():
        raise BadInput(f'--input {str(input_path)!r} is a folder; process takes one file (for one policy over a '
                         f'folder of clips: python -m stepsignal clips --input DIR --target DIR)')
    source = read_signal(input_path, sample_rate, what='input')
    rate = source.sample_rate
    mono = mix_down(source.samples)

    if target_path is not None:
        desired, target_text = read_target(target_path, target_sample_rate, source.path, rate, len(mono))
    else:
        level = float(target_level)
        if not np.isfinite(level):
            raise BadInput(f'--target-level must be a finite number, got {target_level!r}')
        desired = np.full(len(mono), level)
        target_text = f'a flat level of {level:g}'

    about_policy = None
    if policy is not None:  # read first: the policy's chain is the one it answers with
        from stepsignal.own_signal.saved_policy import check_serves, load_about

        about_policy = load_about(policy)
        check_serves(about_policy, policy, rate, len(mono))
        trained = tuple(about_policy['actions'].get('chain', {}).get('stages', QUESTION_CHAIN))
        try:
            checked_stages(trained)
        except BadInput:
            raise BadInput(f'--policy {str(policy)!r}: policy.json has actions.chain.stages {list(trained)}, a chain '
                           f'this kit does not set') from None
        if chain is not None and tuple(chain.split(',')) != trained:
            raise BadInput(f'--chain {chain} is not the chain --policy {str(policy)!r} was trained to set '
                             f'({",".join(trained)}): leave --chain out with --policy')
        stages = trained
    else:
        stages = stages_option(chain, rate)
    env_kwargs = {}
    if stages != QUESTION_CHAIN:
        env_kwargs['chain'] = stages
        if 'notch' in stages:
            env_kwargs['mains_hz'] = mains_of(mono, rate)
        log.info('the chain the agent sets: %s%s (--chain to change it; docs/your_signal.md)', ', '.join(stages),
                 f'; the hum\'s mains frequency, read from the input: {env_kwargs["mains_hz"]:g} Hz'
                 if 'notch' in stages else '')
    if cutoff_range is not None:
        env_kwargs['cutoff_range'] = cutoff_range_option(cutoff_range, rate)
    elif rate >= AUDIO_RATE:
        env_kwargs['cutoff_range'] = default_cutoff_range(rate)
        log.info('audio at %g Hz: cutoffs from %g to %g Hz, the audible range (--cutoff-range LOW HIGH to change '
                 'it; docs/your_signal.md)', rate, *env_kwargs['cutoff_range'])
    if success_rms is not None:
        wanted = float(success_rms)
        if not (np.isfinite(wanted) and wanted > 0):
            raise BadInput(f'--success-rms must be a positive number, got {success_rms!r}')
        env_kwargs['distance_threshold'] = wanted * np.sqrt(len(mono))  # the env counts success in L2
    lowest = env_kwargs.get('cutoff_range', default_cutoff_range(rate))[0]
    excerpts = len(mono) > LONG_SIGNAL and excerpts_fit(len(mono), rate, lowest, stages)
    try:  # the env's own checks: length, cutoff range against Nyquist, threshold
        if excerpts:  # the env it trains on; the offset range from the whole signals, as for a short one
            spread = max(mono.max(), desired.max()) - min(mono.min(), desired.min())
            if spread == 0:
                raise BadInput(f'input_signal and desired_signal are both the constant {mono[0]:g}: there is '
                                 f'nothing to filter or offset')
            env = ExcerptSignal(mono, rate, desired, max_offset=float(spread), **env_kwargs)
        else:
            env = AnySignal(mono, rate, desired, **env_kwargs)
    except ValueError as error:
        raise BadInput(f'input {str(source.path)!r}: {error}') from None
    if 'cutoff_range' not in env_kwargs and env.cutoff_range[0] > 1e-3:
        log.info('cutoffs from %.3g Hz: below that, at %g samples per second, the filter cannot pass a constant '
                 'to within 1e-6 (docs/your_signal.md)', env.cutoff_range[0], rate)

    scenario = Scenario(time=SampleTimes(len(mono), rate), input_signal=mono, desired_signal=desired, sample_rate=rate)
    if excerpts:
        log.info('%d samples: training on %d excerpts of %d samples spread through the signal; the parameters found '
                 'are applied to all of it (docs/your_signal.md)', len(mono), EXCERPTS, EXCERPT_SAMPLES)
    job = Job(input=source, scenario=scenario, target_text=target_text, env_kwargs=env_kwargs, out=Path(out),
              cutoff_range=env.cutoff_range, max_offset=float(env.physical_high[1]), excerpts=excerpts,
              stages=stages, mains_hz=env_kwargs.get('mains_hz'))
    if about_policy is not None and 'family' in about_policy:  # a policy for many clips: its view, its span
        job.family_view = about_policy['family']['view']
        if job.family_view not in VIEWS:
            raise BadInput(f'--policy {str(policy)!r}: policy.json has family.view {job.family_view!r}; it must be '
                           f'one of {", ".join(VIEWS)}')
        if target_path is not None:
            job.outside_training = outside_training(clip_features(mono, desired, rate),
                                                    about_policy['family']['features'])
        for sentence in job.outside_training:
            log.warning('--policy %s: this input is not like the clips it was trained on: %s', policy, sentence)
    if about_policy is not None:  # the policy's own ranges, for a signal of the kind it was trained on
        actions = about_policy['actions']
        job.cutoff_range, job.max_offset = tuple(actions['cutoff_hz']), actions['offset'][1]
    check_output_folder(job.out, overwrite, inside=[p for p in (input_path, target_path, policy) if p is not None])
    return job


def stages_option(chain, rate):
    """``--chain STAGES`` as checked stages, or the default at ``rate``: ``AUDIO_CHAIN`` for audio, else
    the question's two."""
    if chain is not None:
        return checked_stages(name.strip() for name in chain.split(','))
    return AUDIO_CHAIN if rate >= AUDIO_RATE else QUESTION_CHAIN


def read_target(target_path, target_sample_rate, input_path, rate, samples):
    """The target at ``target_path`` as a mono array of ``samples`` at the input's ``rate`` (resampled
    if need be), and how it was given, for the report; a ``ValueError`` if it does not match the input."""
    target = read_signal(target_path, target_sample_rate, what='target', option='--target-sample-rate',
                         default_rate=rate)
    desired = resample(mix_down(target.samples)[:, None], target.sample_rate, rate)[:, 0]
    target_text = target.describe()
    if target.sample_rate != rate:
        target_text += f', resampled to {rate:g} Hz'
    if target.sample_rate != rate and abs(len(desired) - samples) == 1:
        # a target exported at another rate rounds its length its own way: one sample is rounding, not a mismatch
        log.info('target: %d samples after resampling from %g Hz, the input %d: its last sample %s', len(desired),
                 target.sample_rate, samples, 'repeated' if len(desired) < samples else 'dropped')
        desired = np.pad(desired, (0, 1), mode='edge') if len(desired) < samples else desired[:samples]
    if len(desired) != samples:
        after = f' after resampling from {target.sample_rate:g} Hz' if target.sample_rate != rate else ''
        raise BadInput(f'input {str(input_path)!r} has {samples} samples at {rate:g} Hz but target '
                         f'{str(target.path)!r} has {len(desired)}{after}: they must cover the same '
                         f'duration (the same number of samples at the input\'s rate)')
    return desired, target_text


def cutoff_range_option(values, rate):
    """``--cutoff-range LOW_HZ HIGH_HZ`` as two floats, or a ``ValueError`` that names the option, the values
    and what is allowed at the input's rate."""
    low, high = (float(value) for value in values)
    nyquist, floor = rate / 2, lowest_accurate_cutoff(rate)
    given = f'--cutoff-range {low:g} {high:g}'
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low < high < nyquist):
        raise BadInput(f'{given} is not allowed: it needs 0 < LOW_HZ < HIGH_HZ < {nyquist:g} Hz, the Nyquist '
                         f'frequency of the input ({rate:g} samples per second)')
    if low < floor * (1 - 1e-9):
        raise BadInput(f'{given} is not allowed: at {rate:g} samples per second no 4th-order low-pass passes a '
                         f'constant to within 1e-6 below {floor:.3g} Hz, so LOW_HZ must be at least {floor:.3g} Hz '
                         f'(docs/your_signal.md)')
    return low, high


def processed_file(samples, chain, settings, like):
    """What the output file holds: every channel of ``samples`` through the chain, encoded for a
    file like ``like`` (``signal_files.encode``) one channel at a time, so a long multichannel
    signal is never held whole in float64; and how many samples were clipped."""
    give_back_freed_memory()  # what judging and the figure's lines freed
    values = np.empty(samples.shape, dtype=stored_dtype(like))
    clipped = 0
    for channel in range(samples.shape[1]):
        values[:, channel], count = encode(chain.apply(samples[:, channel], settings), like)
        clipped += count
    return values, clipped


def train_on_signal(job, seed, hp, extras=Extras()):
    """Train the fixed agent on ``job``'s signals; ``result.json`` records what was trained on
    (``finish`` then adds the verdict). ``extras``: as ``fixed.train.train`` takes them.
    """
    from fixed.train import train  # late: importing TensorFlow takes seconds
    from fixed.progress import duration

    log.info('expect about %s of training', duration(expected_seconds(job, hp.nb_steps)))
    agent, result = train(job.out, seed=seed, make_env=job.make_training_env, hp=hp, extras=extras)
    result['input'] = job.about()
    return agent, result


UPDATE_SECONDS = {MAX_OBSERVED_SAMPLES: 0.011, CHAIN_OBSERVED_SAMPLES: 0.0065}
"""What one environment step of training costs the agent on your signal, in seconds, by how many values
of each signal it reads (``chain.observed_samples``): the slowest 2-core machine measured, so that the
estimate errs long (benchmarks/your_signal/MINUTE_CHAIN.md, benchmarks/your_signal/CHAIN_SPEED_CHOICES.md). Used with the env's
own step time, measured on this machine, for the estimate."""


def expected_seconds(job, steps):
    """Training time for ``steps``: the env's step, timed now on this machine, plus the agent's update."""
    env = job.make_training_env()
    env.reset()
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    started = time.perf_counter()
    for _ in range(3):
        env.step(action)
    return steps * ((time.perf_counter() - started) / 3 + UPDATE_SECONDS[observed_samples(job.stages)])


def measure_baselines(job):
    """The baselines of ``job``'s signals within its ranges (``stepsignal.own_signal.baselines``), logged.

    Measured before training: they say up front what the two knobs can do, and their filtering
    of a long signal happens before TensorFlow takes its share of the memory.
    """
    s = job.scenario
    chain = job.chain()
    give_back_freed_memory()  # what reading the files freed, before the ceiling's search
    job.baselines = baselines(s.input_signal, s.desired_signal, s.sample_rate, job.cutoff_range, job.max_offset,
                              chain=chain)
    found = job.baselines
    log.info('baselines (RMS error to the target): the input unchanged %.4g, the mean removed %.4g, the best constant '
             'output %.4g, the %s %.4g (%s)', found['input_unchanged']['rms'],
             found['mean_removed']['rms'], found['best_constant']['rms'], found['best_filter']['name'],
             found['best_filter']['rms'], describe(found['best_filter']['settings'], chain.mains_hz))


def judge(job, result):
    """Set the result beside its baselines (``stepsignal.own_signal.baselines``); no success if a constant does as well."""
    s = job.scenario
    if job.baselines is None:
        measure_baselines(job)
    found = job.baselines
    chain = job.chain()
    settings = chain.settings(result['action'])
    if not job.stages == QUESTION_CHAIN:
        result['chain'] = {**chain.record(), 'settings': settings}
    achieved = job.achieved = chain.apply(s.input_signal, settings)  # the mono mix, as the env saw it
    if job.excerpts:  # what the agent's answer does to the whole signal, not only to the excerpts
        threshold = job.env_kwargs.get('distance_threshold', 1.0)
        result['l2_distance_on_excerpts'] = result['l2_distance']
        result['l2_distance'] = float(np.linalg.norm(achieved - s.desired_signal))
        result['success_threshold'] = threshold
        result['success'] = result['l2_distance'] < threshold
    judged = verdict(achieved, s.desired_signal, found, trains=not result.get('policy'),
                     close_to_ceiling=CLOSE_TO_CEILING if s.sample_rate >= AUDIO_RATE else None)
    result['baselines'], result['verdict'] = found, judged
    if s.sample_rate >= AUDIO_RATE and not judged['flat_target']:  # audio with a target that moves: band by band
        result['bands'] = bands(s.input_signal, achieved, s.desired_signal, s.sample_rate, spectra=job.spectra)
        for sentence in what_is_left(result['bands']):
            log.warning('what is left: %s', sentence)
    result['success_by_threshold'] = result['success']
    result['success'] = bool(result['success'] and not (judged['beaten_by_constant'] or judged['nearly_constant']))
    if 'bands' in result and 'distance_threshold' not in job.env_kwargs:
        # audio: no recording reaches the question's L2 < 1, so it is judged against what the chain can do
        result['success_rule'] = 'ceiling'
        result['success'] = bool(judged['ratio_to_ceiling'] is not None and
                                 judged['ratio_to_ceiling'] <= 1 + CLOSE_TO_CEILING and
                                 not (judged['beaten_by_mean_removed'] or judged['beaten_by_constant']
                                      or judged['nearly_constant']))
    if job.outside_training:
        result['outside_training'] = job.outside_training
    # a flat target's note is what was asked for; every other headline is a warning
    (log.warning if judged['headline'] and not judged['flat_target'] else log.info)('%s', judged['text'])


def finish(job, result):
    """Judge the answer (``judge``) and write ``result.json``, the processed file, ``report.md`` and
    the plots, for a finished (or interrupted) run or a saved policy's answer; the exit status."""
    judge(job, result)
    give_back_freed_memory()  # what judging freed, before the figure's lines
    lines = lines_to_draw(job, job.achieved)
    job.achieved = None  # a long signal's copy less while the output is made
    chain = job.chain()
    values, clipped = processed_file(job.input.samples, chain, chain.settings(result['action']), like=job.input)
    write_encoded(job.out / job.output_name, values, like=job.input)
    del values
    if clipped:
        log.warning('%d processed samples were beyond full scale and were clipped in %s', clipped, job.output_name)
    # the error of what the user gets: the file as written, clipped and rounded to its format
    written = mix_down(read_signal(job.out / job.output_name, job.input.sample_rate, what='output').samples)
    result['rms_in_file'] = rms(written - job.scenario.desired_signal)
    del written
    status = write_result(job.out, result)
    draw_figures(job, lines, EXCERPTS * EXCERPT_SAMPLES if job.excerpts else len(job.scenario.input_signal))
    # matplotlib last: what it allocates stays
    write_report(job, result, clipped)
    log.info('wrote %s and %s', job.out / job.output_name, job.out / 'report.md')
    return status



PLOTTED_POINTS = 4000
"""A line with more samples than this is drawn as its envelope: what a dense plot shows anyway."""


class SampleTimes:
    """The times of a signal's samples in seconds, as the plots take them (float32), made when
    sliced (``times[a:b]``): a long file's time axis is never held whole."""

    def __init__(self, samples, sample_rate):
        self.samples, self.sample_rate = samples, sample_rate

    def __len__(self):
        return self.samples

    def __getitem__(self, part):
        return (np.arange(*part.indices(self.samples)) / self.sample_rate).astype(np.float32)


def envelope(times, values, points=PLOTTED_POINTS):
    """``(times, values)`` to draw: every sample of a short signal; of a long one, the lowest and the
    highest value of each of ``points // 2`` stretches, in turn, so that the line covers the same
    band as the full signal would, at a fraction of the memory and time."""
    if len(values) <= points:
        return times[:len(values)], values
    bins = points // 2
    usable = len(values) // bins * bins
    blocks = np.asarray(values[:usable]).reshape(bins, -1)
    width = usable // bins
    centres = np.array([times[i * width:(i + 1) * width].mean() for i in range(bins)])
    return np.repeat(centres, 2), np.column_stack([blocks.min(axis=1), blocks.max(axis=1)]).ravel()


ZOOM_SECONDS = 0.05
"""The zoomed window of audio's signals figure: 50 ms, a few periods of a voice and of the hum."""


def running_energy(values, stretch=1 << 18):
    """``[0, x0², x0² + x1², ...]`` of ``values`` less their mean, summed in order: what
    ``np.concatenate([[0.0], np.cumsum(np.square(values - np.mean(values)))])`` gives, to the last bit,
    made a stretch at a time so that a long signal needs one long array, not four."""
    running = np.empty(len(values) + 1)
    running[0] = 0.0
    mean = np.mean(values)
    for start in range(0, len(values), stretch):
        stop = min(len(values), start + stretch)
        part = np.empty(stop - start + 1)
        part[0] = running[start]  # the sum so far, first: each stretch continues the same running sum
        np.square(np.subtract(values[start:stop], mean, out=part[1:]), out=part[1:])
        running[start + 1:stop + 1] = np.cumsum(part, out=part)[1:]
    return running


def lines_to_draw(job, achieved):
    """What the signals figure draws, small, so the long arrays need not wait for the plot: the three
    lines as envelopes; at audio rates also a zoomed window (where the target is loudest) and the
    three spectra (Welch, as the band table measures them)."""
    s = job.scenario
    drawn = {'whole': [envelope(s.time, s.input_signal), envelope(s.time, s.desired_signal), envelope(s.time, achieved)]}
    if s.sample_rate >= AUDIO_RATE:
        width = min(len(achieved), int(ZOOM_SECONDS * s.sample_rate))
        # the window's energy at every quarter window, from a running sum: a convolution with a
        # window of 2,400 samples would cost 2,400 operations per sample of a long file
        running = running_energy(s.desired_signal)
        starts = np.arange(0, len(achieved) - width + 1, max(1, width // 4))
        start = int(starts[np.argmax(running[starts + width] - running[starts])])
        window = slice(start, start + width)
        drawn['zoom'] = [(s.time[window], np.array(values[window])) for values in (s.input_signal, s.desired_signal,
                                                                                   achieved)]
        known = job.spectra
        drawn['spectra'] = [thinned(*(known[name] if name in known else spectrum(values, s.sample_rate)))
                            for name, values in (('input', s.input_signal), ('target', s.desired_signal),
                                                 ('output', achieved))]
    return drawn


def thinned(frequencies, power, points=PLOTTED_POINTS // 2):
    """A spectrum to draw on a log frequency axis from 10 Hz, in at most ``points`` points: the axis
    is cut into ``points`` equal steps on the log scale, and each step shows its first frequency and
    the highest power among its bins (so hum lines keep their peaks); a short spectrum is drawn whole."""
    keep = frequencies >= 10
    frequencies, power = frequencies[keep], power[keep]
    if len(frequencies) <= points:
        return frequencies, power
    edges = np.unique(np.searchsorted(frequencies, np.geomspace(frequencies[0], frequencies[-1], points)))
    starts = edges[edges < len(frequencies)]
    return frequencies[starts], np.maximum.reduceat(power, starts)


def draw_figures(job, drawn, signal_length):
    """``signals.png`` from ``lines_to_draw``'s ``drawn``; ``learning.png`` from the trace, in RMS error
    (the L2 distance over the square root of the ``signal_length`` the env scored)."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogFormatter, NullFormatter

    mixed = ' (mean of channels)' if job.input.channels > 1 else ''
    labels = ('input' + mixed, 'target', 'processed by the trained policy')
    styles = ({'color': '0.6'}, {'color': 'k', 'linestyle': '--'}, {'color': 'C0'})
    audio = 'spectra' in drawn
    figure, axes = plt.subplots(3 if audio else 1, 1, figsize=(9, 9.6 if audio else 3.6), squeeze=False)
    axis = axes[0, 0]
    for line, label, style in zip(drawn['whole'], labels, styles):
        axis.plot(*line, label=label, **style)
    axis.set(xlabel='time (s)', ylabel='value', title='Your signal: input, target and result')
    axis.legend(loc='best')
    axis.grid(alpha=0.3)
    if audio:
        axis = axes[1, 0]
        for (times, values), label, style in zip(drawn['zoom'], labels, styles):
            axis.plot(times, values, label=label, **style)
        axis.set(xlabel='time (s)', ylabel='value',
                 title=f'{1000 * ZOOM_SECONDS:.0f} ms where the target is loudest')
        axis.grid(alpha=0.3)
        axis = axes[2, 0]
        for (frequencies, power), label, style in zip(drawn['spectra'], labels, styles):
            axis.loglog(frequencies, power, label=label, linewidth=0.8, **style)
        shown = np.concatenate([power for frequencies, power in drawn['spectra'][:2]])
        shown = shown[shown > 0]  # input and target; a flat target has no spectrum to draw
        if len(shown):  # down to the floors, but not to a filter's 1e-30 stop band
            axis.set_ylim(max(float(shown.min()) / 100, float(shown.max()) * 1e-12), float(shown.max()) * 10)
        axis.set(xlabel='frequency (Hz)', ylabel='power spectral density', title='Spectra (Welch, 1 Hz): hum, '
                 'hiss and the voice, before and after')
        for log_axis in (axis.xaxis, axis.yaxis):  # plain "1e+03" labels: typesetting 10^3 costs a third of a second
            log_axis.set_major_formatter(LogFormatter(labelOnlyBase=True))
            log_axis.set_minor_formatter(NullFormatter())
        axis.legend(loc='lower left')
        axis.grid(alpha=0.3, which='both')
    # margins set, not measured: tight_layout measures every log-axis label, a second on a long file
    figure.subplots_adjust(left=0.09, right=0.98, top=0.96 if audio else 0.9, bottom=0.06 if audio else 0.16,
                           hspace=0.32)
    save_figure(figure, job.out / 'signals.png')
    plt.close(figure)

    if not (job.out / 'trace.json').is_file():  # a saved policy answered: nothing was trained
        return
    rows = episodes(json.loads((job.out / 'trace.json').read_text()))
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.plot([r['first_step'] for r in rows], [r['l2_distance'] / np.sqrt(signal_length) for r in rows], '.',
              alpha=0.4, label='RMS error at episode end')
    axis.set(yscale='log', xlabel='training step (episode start)',
             ylabel='RMS error to the target' + (' (excerpts)' if job.excerpts else ''),
             title='Learning curve: each episode\'s last action, with exploration noise')
    if not job.excerpts:  # the baselines are measured on the whole signal, as the env scores it here
        for key, label, style in (('input_unchanged', 'the input unchanged', ':'), ('mean_removed', 'the mean removed', '-.'),
                                  ('best_filter', 'the ceiling', '--')):
            axis.axhline(job.baselines[key]['rms'], color='k', linestyle=style, linewidth=0.8, label=label)
        axis.legend(loc='upper right', fontsize='small')
    axis.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, job.out / 'learning.png')
    plt.close(figure)


def write_report(job, result, clipped):
    found, judged = result['baselines'], result['verdict']
    before, after = found['input_unchanged']['rms'], judged['rms']
    left = what_is_left(result['bands']) if result.get('bands') else []
    chain = job.chain()
    if chain.is_question:
        knobs = 'A low-pass and an offset, the two knobs set here, cannot remove hum under a voice without the voice'
        can_do = 'a chain with a high-pass and notches at the mains frequency can (--chain; docs/your_signal.md).'
    else:
        knobs = f"The chain at its best leaves an RMS error of {found['best_filter']['rms']:.4g}"
        can_do = 'the band table below says where the error is (docs/your_signal.md).'
    success_rule = (f"within {100 * CLOSE_TO_CEILING:.0f}% of the ceiling" if result.get('success_rule') == 'ceiling'
                    else f"L2 < {result['success_threshold']:.4g}")
    if chain.is_question:
        settings_header, settings_rule = '| cutoff (Hz) | offset |', '|---|---|'
        answer = f"| {result['cutoff_hz']:.6g} | {result['offset']:.6g} |"
        baseline_rows = ['| output | cutoff (Hz) | offset | RMS error |', '|---|---|---|---|',
                         f"| the input unchanged | | | {found['input_unchanged']['rms']:.4g} |",
                         f"| the mean removed | | {found['mean_removed']['offset']:.6g} | {found['mean_removed']['rms']:.4g} |",
                         f"| the best constant ({round(found['best_constant']['level'], 10) + 0.0:.4g}) | | | "
                         f"{found['best_constant']['rms']:.4g} |",
                         f"| the best filter (scipy's bounded search, the ceiling) | {found['best_filter']['cutoff_hz']:.6g} | "
                         f"{found['best_filter']['offset']:.6g} | {found['best_filter']['rms']:.4g} |",
                         f"| **the trained policy** | {result['cutoff_hz']:.6g} | {result['offset']:.6g} | {judged['rms']:.4g} |"]
        output_is = 'filtered at that cutoff minus that offset'
    else:
        settings_header, settings_rule = '| settings |', '|---|'
        answer = f"| {describe(result['chain']['settings'], chain.mains_hz)} |"
        baseline_rows = ['| output | settings | RMS error |', '|---|---|---|',
                         f"| the input unchanged | | {found['input_unchanged']['rms']:.4g} |",
                         f"| the mean removed | offset {found['mean_removed']['offset']:.6g} | "
                         f"{found['mean_removed']['rms']:.4g} |",
                         f"| the best constant ({round(found['best_constant']['level'], 10) + 0.0:.4g}) | | "
                         f"{found['best_constant']['rms']:.4g} |",
                         f"| the chain at its best (scipy's search, the ceiling) | "
                         f"{describe(found['best_filter']['settings'], chain.mains_hz)} | {found['best_filter']['rms']:.4g} |",
                         f"| **the trained policy** | {describe(result['chain']['settings'], chain.mains_hz)} | "
                         f"{judged['rms']:.4g} |"]
        output_is = 'through the chain with those settings'
    headline = judged and judged['headline']
    outside = result.get('outside_training', [])
    lines = [
        '# The fixed setup on your signal',
        '',
        f"**{judged['text']}.**" if headline else judged['text'] + '.',
        '',
        *([f"**This input is not like the clips the policy was trained on:** {'; '.join(outside)}. Its answer is "
           f"a guess outside what it learned; train on clips like this one (python -m stepsignal clips).", '']
          if outside else []),
        f'- Input: {job.input.describe()}; trained on {job.about()["trained_on"]}.',
        f'- Target: {job.target_text}.',
        (f"- No training: the saved policy in `{result['policy']}` answered in one step." if result.get('policy') else
         f"- Training: seed {result['seed']}, {result['steps_trained']} of {result['steps']} steps"
         + (' (**interrupted**: these are the results so far)' if result['interrupted'] else '') + '.'),
        '',
        *([f"**What is left:** {'; '.join(left)}. {knobs}; {can_do}", ''] if left else []),
        '## What the trained policy does',
        '',
        f'{settings_header} RMS error before | RMS error after | in the file as written | L2 after | success |',
        f'{settings_rule}---|---|---|---|---|',
        f"{answer} {before:.4g} | {after:.4g} | "
        f"{result['rms_in_file']:.4g} | {result['l2_distance']:.4g} | {'yes' if result['success'] else 'no'} "
        f"(success: {success_rule}) |",
        '',
        'The RMS error after is the processing\'s own; the one in the file is what you get, after clipping at '
        'full scale and rounding to the file\'s format.',
        '',
        *(['## What is left, band by band', '',
           'The error (output minus target) before and after, as power in each band (Welch, 1 Hz); "left" is '
           'the error after against the target\'s own power in that band (docs/your_signal.md).', '',
           *band_rows(result['bands']), ''] if result.get('bands') else []),
        '## Beside the baselines', '',
        *baseline_rows,
        '', (f'Success on audio is a result within {100 * CLOSE_TO_CEILING:.0f}% of the ceiling that beats every other '
             'baseline'
             if result.get('success_rule') == 'ceiling' else
             'Success needs both the threshold and a result better than the best constant output')
        + ' (docs/your_signal.md).', '',
        f'`{job.output_name}` is every channel of the input {output_is}, in the '
        'input\'s format and sample rate' + (f'; {clipped} samples were clipped at full scale.' if clipped else '.'),
        '',
        '![signals](signals.png)',
        '',
        *([] if result.get('policy') else ['![learning curve](learning.png)', '']),
    ]
    text = '\n'.join(lines)
    write_atomic(job.out / 'report.md', lambda handle: handle.write(text.encode('utf-8')))
