"""``python -m stepsignal.experiments.held_out_clips``: one policy for many clips, on clips it never saw.

The family (``--family``): ``one-voice``, two of ``real_speech``'s sentences as recorded on 50 Hz
mains (``fox`` and ``agent``: DC +0.1, drift, hum, hiss), in espeak-ng's default voice; or
``voices``, the same two and four sentences in four other voices (``FAMILY_VOICES``: three
female, one male), recorded the same way. It is trained with ``python -m stepsignal clips`` and its
defaults (each clip dirtied anew at every episode). Then ``python -m stepsignal process --policy``
answers, without training, clips the family never held:

- the same sentences recorded on 60 Hz mains (another DC, -0.15, another hum, another hiss);
- a third sentence (``shells``) on both mains;
- two sentences in other voices (espeak-ng's ``en-us+f3`` and ``en-gb+m4``), each dirtied three
  ways: ``a`` on 60 Hz with DC -0.05; ``b`` on 50 Hz with DC +0.12 and 1.2 times as loud; ``far``
  with DC +0.5, outside what the family trained on, where the policy must say so.

Each answer is set beside that clip's own baselines and ceiling. ``--out DIR`` writes the page
into DIR/report.md and its numbers into DIR/results.json; ``benchmarks/your_signal/CLIP_FAMILY.md`` and
``benchmarks/your_signal/CLIP_FAMILY_VOICES.md`` (``--family voices``) are the kit's tracked runs.
"""
import json
import logging
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
from stepsignal.experiments.real_speech import RECORDINGS, dirty, make_clips, speak
from stepsignal.own_signal.chain import CHAIN_STEPS
from stepsignal.own_signal.clip_family import VIEWS
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)

FAMILY = ('fox', 'agent')
"""The sentences every family trains on, as recorded on 50 Hz mains."""
FAMILY_VOICES = {
    'lighthouse': ('en+f1', 'The lighthouse keeper climbed the stairs at dusk and lit the lamp before the boats came '
                            'in.'),
    'garden': ('en+f2', 'In the garden the roses bloom in June, and the bees are busy from dawn until the evening.'),
    'market': ('en+f4', 'The market opens early on Saturdays, so bring a basket and some coins for the bread.'),
    'station': ('en-us+m3', 'The last train leaves the station at eleven, and the platform is quiet after that.'),
}
"""The ``voices`` family's other sentences: espeak-ng's voice, and what it says. None of them is a
held-out voice (``HIDDEN``)."""
FAMILIES = ('one-voice', 'voices')
"""``--family``'s choices."""
HIDDEN = {
    'weather': ('en-us+f3', 'Tomorrow will be cloudy in the morning, with sunshine and light winds later in the '
                            'afternoon.'),
    'numbers': ('en-gb+m4', 'Please call me back at four five six, seven eight nine, before the office closes at '
                            'noon.'),
}
"""Sentences in voices the family never heard: espeak-ng's voice, and what it says."""
HIDDEN_DIRT = {'a': {'mains': 60, 'dc': -0.05, 'noise_seed': 5, 'gain': 1.0},
               'b': {'mains': 50, 'dc': 0.12, 'noise_seed': 6, 'gain': 1.2},
               'far': {'mains': 50, 'dc': 0.5, 'noise_seed': 7, 'gain': 1.0}}
"""How each hidden sentence is dirtied (``real_speech.dirty``, then scaled by ``gain``)."""
CLOSE_TO_CEILING = 0.10
"""The goal: an answer within 10% of the clip's own ceiling (docs/your_signal.md#many-clips)."""


def make_material(folder, family='one-voice'):
    """The family's folders and the held-out clips: ``(noisy_dir, clean_dir, [case, ...])``."""
    cases = make_clips(folder)
    noisy_dir, clean_dir = folder / 'family' / 'noisy', folder / 'family' / 'clean'
    noisy_dir.mkdir(parents=True)
    clean_dir.mkdir(parents=True)
    if family == 'voices':
        for noise_seed, (name, (voice, sentence)) in enumerate(FAMILY_VOICES.items(), start=10):
            rate, clean = speak(sentence, folder / f'{name}_spoken.wav', voice)
            wavfile.write(clean_dir / f'{name}.wav', rate, clean.astype(np.float32))
            recording = {**RECORDINGS[50], 'noise_seed': noise_seed}
            wavfile.write(noisy_dir / f'{name}.wav', rate, dirty(clean, rate, 50, **recording).astype(np.float32))
    held_out = []
    for case in cases:
        if case['sentence'] in FAMILY and case['mains'] == 50:
            (noisy_dir / f"{case['sentence']}.wav").write_bytes(Path(case['input']).read_bytes())
            (clean_dir / f"{case['sentence']}.wav").write_bytes(Path(case['target']).read_bytes())
        else:
            held_out.append({'clip': f"{case['sentence']}, {case['mains']} Hz", 'input': case['input'],
                             'target': case['target'], 'why': 'other mains' if case['sentence'] in FAMILY
                             else 'other sentence'})
    for name, (voice, sentence) in HIDDEN.items():
        rate, clean = speak(sentence, folder / f'{name}_spoken.wav', voice)
        target = folder / f'{name}_clean.wav'
        wavfile.write(target, rate, clean.astype(np.float32))
        for tag, how in HIDDEN_DIRT.items():
            noisy = how['gain'] * dirty(clean, rate, how['mains'], how['dc'], how['noise_seed'])
            path = folder / f'{name}_{tag}.wav'
            wavfile.write(path, rate, noisy.astype(np.float32))
            held_out.append({'clip': f'{name} ({voice}), {tag}: {how["mains"]} Hz, DC {how["dc"]:+g}, gain {how["gain"]:g}',
                             'input': path, 'target': target, 'why': 'outside training' if tag == 'far' else 'other voice'})
    return noisy_dir, clean_dir, held_out


def run(command):
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, '-m', 'stepsignal', *map(str, command)], capture_output=True, text=True)
    return finished, time.perf_counter() - started


def train_family(noisy_dir, clean_dir, seed, steps, view, folder):
    out = folder / f'family_seed{seed}'
    finished, wall = run(['clips', '--input', noisy_dir, '--target', clean_dir, '--seed', seed, '--steps', steps,
                          '--view', view, '--out', out])
    if finished.returncode != 0:
        raise SystemExit(f'held_out_clips: training seed {seed} failed: {finished.stderr.strip().splitlines()[-1:]}')
    result = json.loads((out / 'result.json').read_text())
    return {'seed': seed, 'policy': out / 'policy', 'train_seconds': result['train_seconds'], 'wall_seconds': wall,
            'clips': result['clips']}


def answer(case, family, folder):
    """``process --policy`` on one held-out clip: the numbers of its ``result.json``."""
    out = folder / f"answer_{family['seed']}_{Path(case['input']).stem}"
    finished, wall = run(['process', '--input', case['input'], '--target', case['target'], '--policy',
                          family['policy'], '--out', out])
    if finished.returncode != 0:
        return {'error': f'exit status {finished.returncode}: {finished.stderr.strip().splitlines()[-1:]}'}
    result = json.loads((out / 'result.json').read_text())
    found, judged = result['baselines'], result['verdict']
    return {'rms': judged['rms'], 'ceiling': found['best_filter']['rms'], 'ratio_to_ceiling': judged['ratio_to_ceiling'],
            'mean_removed': found['mean_removed']['rms'], 'input_unchanged': found['input_unchanged']['rms'],
            'mains_line_cut_db': result['bands']['mains_line']['cut_db'],
            'worse_than_input': judged['worse_than_input'], 'outside_training': result.get('outside_training', []),
            'far_from_ceiling': judged.get('far_from_ceiling', False),
            'settings': result['chain']['settings'], 'wall_seconds': wall}


def page(families, rows, seeds, steps, view, out, family='one-voice'):
    held = ('two espeak-ng sentences in its default voice' if family == 'one-voice' else
            f'{len(FAMILY) + len(FAMILY_VOICES)} espeak-ng sentences in {1 + len(FAMILY_VOICES)} voices (the default, '
            f'{", ".join(voice for voice, _ in FAMILY_VOICES.values())})')
    lines = ['# One policy for many clips, on clips it never saw', '',
             f'Measured {today()} on {machine()} with `{world()}python -m stepsignal.experiments.held_out_clips '
             f'--seeds {",".join(map(str, seeds))} --steps {steps} --view {view}'
             f'{f" --family {family}" if family != "one-voice" else ""}{f" --out {out}" if out else ""}` '
             f'(stepsignal/experiments/held_out_clips.py says what the clips are). The family is {held}, '
             'recorded on 50 Hz mains, trained with `python -m stepsignal clips` and its defaults '
             f'({steps:,} steps, each clip dirtied anew at every episode); every other row is a clip it never held, '
             'answered by `python -m stepsignal process --policy` without training. RMS errors against the clean '
             'speech; "ceiling" is the chain at its best on that clip (scipy\'s search).', '',
             '## The clips it trained on, as they are', '',
             '| seed | clip | input unchanged | mean removed | ceiling | the policy | above the ceiling | training (s) |',
             '|---|---|---|---|---|---|---|---|']
    for family in families:
        for row in family['clips']:
            lines.append(f"| {family['seed']} | {row['clip']} | {row['input_unchanged']:.4f} | {row['mean_removed']:.4f} | "
                         f"{row['ceiling']:.4f} | {row['rms']:.4f} | {100 * (row['rms'] / row['ceiling'] - 1):.0f}% | "
                         f"{family['train_seconds']:.0f} |")
    lines += ['', '## Clips it never saw', '',
              '| seed | clip | why held out | input unchanged | mean removed | ceiling | the policy | above the ceiling | '
              'against the mean removed | mains line cut | warned: outside training | warned: far above the ceiling |',
              '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for seed, case, row in rows:
        if 'error' in row:
            lines.append(f"| {seed} | {case['clip']} | {case['why']} | failed: {row['error']} |" + ' |' * 8)
            continue
        lines.append(f"| {seed} | {case['clip']} | {case['why']} | {row['input_unchanged']:.4f} | {row['mean_removed']:.4f} | "
                     f"{row['ceiling']:.4f} | {row['rms']:.4f} | {100 * (row['ratio_to_ceiling'] - 1):.0f}% | "
                     f"{row['rms'] / row['mean_removed']:.2f}x | {row['mains_line_cut_db']:.1f} dB | "
                     f"{'yes' if row['outside_training'] else 'no'} | {'yes' if row['far_from_ceiling'] else 'no'} |")
    done = [(case, row) for _, case, row in rows if 'error' not in row]
    inside = [row for case, row in done if not row['outside_training']]
    close = sum(row['ratio_to_ceiling'] <= 1 + CLOSE_TO_CEILING for row in inside)
    half = sum(row['rms'] <= 0.5 * row['mean_removed'] for _, row in done)
    hum = sum(row['mains_line_cut_db'] >= 20 for _, row in done)
    silent = sum(row['worse_than_input'] and not row['outside_training'] for _, row in done)
    far_warned = sum(bool(row['outside_training']) for case, row in done if case['why'] == 'outside training')
    far = sum(case['why'] == 'outside training' for case, _ in done)
    close_or_warned = sum(row['ratio_to_ceiling'] <= 1 + CLOSE_TO_CEILING or bool(row['outside_training'])
                          or row['far_from_ceiling'] for _, row in done)
    lines += ['', f'Answers within {100 * CLOSE_TO_CEILING:.0f}% of the clip\'s ceiling, among the clips inside what the '
                  f'family trained on: '
                  f'{success_rate(close, len(inside))}. At most half the mean-removed error: '
                  f'{success_rate(half, len(done))}. Mains line cut by at least 20 dB: {success_rate(hum, len(done))}. '
                  f'Worse than the input unchanged without a warning: {silent} of {len(done)}. Clips outside training '
                  f'warned about: {far_warned} of {far}. Within {100 * CLOSE_TO_CEILING:.0f}% of the ceiling or warned '
                  f'(outside training, or far above this clip\'s ceiling): {success_rate(close_or_warned, len(done))}.', '']
    return '\n'.join(lines)


def main(argv=None):
    parser = command_parser('python -m stepsignal.experiments.held_out_clips', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=[0, 1], help='the seeds of the family, like 0-9 or 1,4,7 (default 0,1)')
    parser.add_argument('--steps', type=int, default=CHAIN_STEPS, help=f'steps of each training (default {CHAIN_STEPS})')
    parser.add_argument('--view', choices=VIEWS, default='spectrum', help='what the agent sees (clips --view)')
    parser.add_argument('--family', choices=FAMILIES, default='one-voice',
                        help='the clips the family trains on (default one-voice; see above)')
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
        noisy_dir, clean_dir, held_out = make_material(folder, args.family)
        log.info('training %d families of %d steps, %d at a time', len(args.seeds), args.steps, args.jobs)
        with ThreadPoolExecutor(args.jobs) as pool:
            families = list(pool.map(lambda seed: train_family(noisy_dir, clean_dir, seed, args.steps, args.view, folder),
                                     args.seeds))
            work = [(family, case) for family in families for case in held_out]
            found = list(pool.map(lambda job: answer(job[1], job[0], folder), work))
    rows = [(family['seed'], case, row) for (family, case), row in zip(work, found)]
    text = page(families, rows, args.seeds, args.steps, args.view, args.out, args.family)
    sys.stdout.write(text)
    if args.out is not None:
        write_atomic(args.out / REPORT, lambda handle: handle.write(text.encode('utf-8')))
        write_json(args.out / NUMBERS,
                   {'family': args.family,
                    'families': [{k: v for k, v in family.items() if k != 'policy'} for family in families],  # a temporary folder
                    'held_out': [{'seed': seed, **{k: str(v) if isinstance(v, Path) else v for k, v in case.items()
                                                   if k not in ('input', 'target')}, **row} for seed, case, row in rows]})
    return 0


if __name__ == '__main__':
    sys.exit(main())
