"""``python -m stepsignal.experiments.real_speech``: the default chain on real speech with hum.

What a recording carries, put on real speech: three English sentences spoken by espeak-ng (a
Debian package: ``apt-get install espeak-ng``) at its 22.05 kHz, each dirtied twice, as a
recording made on 50 Hz mains and one made on 60 Hz:

- a DC offset (+0.1 on 50 Hz, -0.15 on 60 Hz) and a slow drift (0.02 at 0.2 Hz);
- mains hum of 0.05 at the mains frequency, with its 2nd, 3rd and 5th harmonics at 1/k of it;
- hiss, white noise of RMS 0.02 (seeded: the same clips on every run).

Each dirty clip is processed with ``python -m stepsignal process`` and its defaults (the chain
``AUDIO_CHAIN``, ``CHAIN_STEPS`` steps) against its clean sentence, for each seed, two runs at a time, each
in a fresh process. The table gives the result beside what the question's two knobs could reach
at best, the chain's ceiling and the mean removed, and what happened to the hum and the voice
(``stepsignal/own_signal/bands.py``), with the machine and the date. ``--out DIR`` writes it
into DIR/report.md, its numbers into DIR/results.json; ``benchmarks/your_signal/REAL_SPEECH.md`` is the kit's tracked run.
"""
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from shared.cli import (NUMBERS, REPORT, add_report_options, answer_a_page_for_out, answer_space_separated_seeds,
                        check_output_folder, checking_input, command_parser, seeds_argument, setup_logging)
from shared.files import write_atomic, write_json
from stepsignal.experiments.machine import machine, today, world
from stepsignal.own_signal.chain import CHAIN_STEPS, QUESTION_CHAIN, Chain, ceiling
from stepsignal.own_signal.clip_family import HUM_HARMONICS, mains_hum
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)

SENTENCES = {
    'fox': 'The quick brown fox jumps over the lazy dog. Every good boy deserves fruit, and the rain in Spain '
           'stays mainly in the plain.',
    'agent': 'Reinforcement learning agents learn from rewards. A filter removes noise from a recording of a voice, '
             'if it knows where the noise lives.',
    'shells': 'She sells sea shells by the sea shore. Peter Piper picked a peck of pickled peppers, then went home '
              'for a cup of tea.',
}
"""The clean speech: what espeak-ng says, in its default English voice."""
RECORDINGS = {50: {'dc': 0.1, 'noise_seed': 0}, 60: {'dc': -0.15, 'noise_seed': 1}}
"""Per mains frequency: the DC offset and the hiss's seed."""
HUM, HISS, DRIFT = 0.05, 0.02, 0.02
"""The hum's amplitude at the mains frequency (1/k of it at each of ``HUM_HARMONICS``), the hiss's RMS, the
drift's amplitude."""
CLOSE_TO_CEILING = 0.10
"""The goal: each result within 10% of its chain's ceiling (docs/your_signal.md)."""


def dirty(clean, rate, mains, dc, noise_seed):
    """``clean`` as a recording on ``mains`` Hz would carry it: DC, drift, hum and harmonics, hiss."""
    t = np.arange(len(clean)) / rate
    hum = mains_hum(t, mains, HUM, phases=HUM_HARMONICS)  # harmonic k at phase k
    hiss = HISS * np.random.default_rng(noise_seed).standard_normal(len(clean))
    return clean + dc + DRIFT * np.sin(2 * np.pi * 0.2 * t) + hum + hiss


def speak(sentence, path, voice=None):
    """``sentence`` spoken by espeak-ng into ``path`` (its default voice, or ``voice``):
    ``(rate, clean samples in [-1, 1])``."""
    subprocess.run(['espeak-ng', *(['-v', voice] if voice else []), '-w', str(path), sentence], check=True)
    rate, samples = wavfile.read(path)
    return rate, samples.astype(np.float64) / 32768  # espeak-ng writes 16-bit PCM


def make_clips(folder):
    """Speak every sentence and write its clean and dirty WAVs (32-bit float) into ``folder``: the
    cases, each with what the question's two knobs reach on it at best."""
    if shutil.which('espeak-ng') is None:
        raise SystemExit('real_speech: espeak-ng is not installed (apt-get install espeak-ng): it speaks the clips')
    cases = []
    for name, sentence in SENTENCES.items():
        rate, clean = speak(sentence, folder / f'{name}_spoken.wav')
        wavfile.write(folder / f'{name}_clean.wav', rate, clean.astype(np.float32))
        for mains, recording in RECORDINGS.items():
            noisy = dirty(clean, rate, mains, **recording)
            wavfile.write(folder / f'{name}_{mains}hz.wav', rate, noisy.astype(np.float32))
            cases.append({'sentence': name, 'mains': mains, 'rate': rate, 'seconds': len(clean) / rate,
                          'input': folder / f'{name}_{mains}hz.wav', 'target': folder / f'{name}_clean.wav',
                          'question_ceiling': question_ceiling(noisy, clean, rate)})
    return cases


def question_ceiling(noisy, clean, rate):
    """What the question's two knobs reach at best (the chain lowpass,offset's ceiling), on the
    float32 samples the WAVs hold."""
    noisy, clean = (np.asarray(values, dtype=np.float32).astype(np.float64) for values in (noisy, clean))
    spread = max(noisy.max(), clean.max()) - min(noisy.min(), clean.min())
    return ceiling(Chain(QUESTION_CHAIN, rate, (20.0, 0.99 * rate / 2), spread), noisy, clean)['rms']


def run_case(case, seed, steps, folder):
    """One ``process`` run in a fresh process: the numbers of its ``result.json``."""
    out = folder / f"{case['sentence']}_{case['mains']}hz_seed{seed}"
    command = [sys.executable, '-m', 'stepsignal', 'process', '--input', str(case['input']), '--target',
               str(case['target']), '--seed', str(seed), '--steps', str(steps), '--out', str(out)]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        return {'error': f'exit status {finished.returncode}: {finished.stderr.strip().splitlines()[-1:]}'}
    result = json.loads((out / 'result.json').read_text())
    bands, found = result['bands'], result['baselines']
    return {'rms': result['verdict']['rms'], 'rms_in_file': result['rms_in_file'],
            'ceiling': found['best_filter']['rms'], 'ratio_to_ceiling': result['verdict']['ratio_to_ceiling'],
            'mean_removed': found['mean_removed']['rms'], 'input_unchanged': found['input_unchanged']['rms'],
            'mains_line_cut_db': bands['mains_line']['cut_db'], 'hum_cut_db': bands['hum']['cut_db'],
            'speech_band_db': bands['speech_band']['output_over_target_db'], 'success': result['success'],
            'settings': result['chain']['settings'], 'train_seconds': result['train_seconds'], 'wall_seconds': wall}


def table(rows, seeds, steps, out):
    """The Markdown page: how it was measured, one row per case and seed, then the rates."""
    lines = ['# The default chain on real speech with hum', '',
             f'Measured {today()} on {machine()} with `{world()}python -m stepsignal.experiments.real_speech '
             f'--seeds {",".join(map(str, seeds))} --steps {steps}{f" --out {out}" if out else ""}` '
             '(stepsignal/experiments/real_speech.py says how the clips are made: espeak-ng sentences with DC, '
             'drift, mains hum and harmonics, hiss). Each run is `python -m stepsignal process` with its defaults '
             f'(the chain lowpass, offset, highpass, notch, gain; {steps:,} steps); RMS errors against the clean '
             'sentence. "question\'s knobs at best" is the ceiling of the question\'s low-pass and offset alone; '
             '"ceiling" the chain\'s (scipy\'s search over the same settings). The hum columns are the cut of the '
             'error at the mains frequency alone and at it with its harmonics; "voice" is the output\'s level '
             'in 200-3,400 Hz against the clean speech\'s.', '',
             '| clip | mains | seed | input unchanged | mean removed | question\'s knobs at best | ceiling | '
             'the agent | above the ceiling | mains line cut | hum cut | voice | training (s) |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for case, seed, row in rows:
        label = f"{case['sentence']} ({case['seconds']:.1f} s)"
        if 'error' in row:
            lines.append(f"| {label} | {case['mains']} Hz | {seed} | failed: {row['error']} |" + ' |' * 9)
            continue
        lines.append(f"| {label} | {case['mains']} Hz | {seed} | {row['input_unchanged']:.4f} | {row['mean_removed']:.4f} | "
                     f"{case['question_ceiling']:.4f} | {row['ceiling']:.4f} | {row['rms']:.4f} | "
                     f"{100 * (row['ratio_to_ceiling'] - 1):.0f}% | {row['mains_line_cut_db']:.1f} dB | "
                     f"{row['hum_cut_db']:.1f} dB | {row['speech_band_db']:+.2f} dB | {row['train_seconds']:.0f} |")
    done = [row for _, _, row in rows if 'error' not in row]
    close = sum(row['ratio_to_ceiling'] <= 1 + CLOSE_TO_CEILING for row in done)
    at_goal = sum(row['rms'] <= 0.02 and row['mains_line_cut_db'] >= 20 and abs(row['speech_band_db']) <= 1
                  for row in done)
    lines += ['', f'Runs within 10% of the ceiling: {success_rate(close, len(done))}. With an RMS error of at most 0.02, '
                  f'the mains line cut by at least 20 dB and the voice within 1 dB: {success_rate(at_goal, len(done))}.',
              ''] if done else ['']
    return '\n'.join(lines)


def main(argv=None):
    parser = command_parser('python -m stepsignal.experiments.real_speech', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=[0, 1], help='the seeds of each clip, like 0-9 or 1,4,7 (default 0,1)')
    parser.add_argument('--steps', type=int, default=CHAIN_STEPS,
                        help=f'steps of each run (default {CHAIN_STEPS}, process\'s own for a chain)')
    parser.add_argument('--jobs', type=int, default=2, help='runs at a time (default 2)')
    add_report_options(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    answer_space_separated_seeds(parser, argv)
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    if args.out is not None:
        with checking_input(parser):
            check_output_folder(args.out, overwrite=args.overwrite)
    setup_logging()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        cases = make_clips(folder)
        work = [(case, seed) for case in cases for seed in args.seeds]
        log.info('%d runs of %d steps, %d at a time', len(work), args.steps, args.jobs)
        with ThreadPoolExecutor(args.jobs) as pool:
            found = list(pool.map(lambda job: run_case(*job, args.steps, folder), work))
    rows = [(case, seed, row) for (case, seed), row in zip(work, found)]
    text = table(rows, args.seeds, args.steps, args.out)
    sys.stdout.write(text)
    if args.out is not None:
        write_atomic(args.out / REPORT, lambda handle: handle.write(text.encode('utf-8')))
        write_json(args.out / NUMBERS,
                   [{'sentence': case['sentence'], 'mains': case['mains'], 'seconds': case['seconds'], 'seed': seed,
                     'question_ceiling': case['question_ceiling'], **row} for case, seed, row in rows])
    return 0


if __name__ == '__main__':
    sys.exit(main())
