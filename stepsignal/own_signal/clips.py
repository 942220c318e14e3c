"""python -m stepsignal clips: one policy for a folder of clips (docs/your_signal.md#many-clips).

  python -m stepsignal clips --input NOISY/ --target CLEAN/ --out DIR     train on every pair
  python -m stepsignal process --input NEW --target NEW_CLEAN --policy DIR/policy --out NEW_OUT
                                                                         answer a new clip with it

Each file in --input pairs with the file of the same name (any extension) in --target. At every
episode the agent gets one clip, dirtied anew with a DC offset, mains hum, hiss and a gain
(stepsignal/own_signal/clip_family.py; --no-augment: the clips as they are), so the policy learns
to read its input instead of remembering one answer. The run writes the policy, result.json and
report.md: each clip with the policy beside its baselines and its own ceiling.

Every input is read and checked before TensorFlow loads: a bad one is refused in one line, exit 2,
nothing written. Exit status otherwise: 0 done, 1 a failure inside the run (OUT/error.log), 130
interrupted by Ctrl-C.
"""
import logging
import sys
import time
from pathlib import Path

import numpy as np

from fixed.options import add_training_options, check_training_options, run_hyperparameters, save_run, trained_on
from fixed.filters import min_signal_length
from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES
from fixed.options import write_result
from shared.checks import BadInput
from shared.cli import (add_output_options, check_output_folder, checking_input, command_parser,
                        run_reporting_failures, setup_logging)
from shared.files import write_atomic
from stepsignal.own_signal.chain import AUDIO_CHAIN, CHAIN_OBSERVED_SAMPLES, CHAIN_STEPS, describe
from stepsignal.own_signal.clip_family import (FEATURE_TEXT, VIEWS, Augmentation, ClipFamily, clip_env, pieces,
                                               wrapped)
from stepsignal.own_signal.signal_files import EXTENSIONS, mix_down, read_signal
from stepsignal.own_signal.any_signal import default_cutoff_range
from stepsignal.reverts import add_revert_option, reverted_training
from stepsignal.own_signal.your_signal import (CLOSE_TO_CEILING, UPDATE_SECONDS, cutoff_range_option, read_target,
                                              stages_option)

log = logging.getLogger(__name__)

CHECK_VARIANTS = 8
"""How many dirtied clips, drawn once, each check of the noise-free policy scores (IMPROVEMENT-1)."""
CHECK_SEED = 2_000_000
"""The seed of those draws: not one a training run uses (seeds below 2**32 draw from their own generator)."""
CHECK_EVERY = 500
"""Training steps between two checks."""
REPORT = 'report.md'
SHORTEST = max(MAX_OBSERVED_SAMPLES, min_signal_length())
"""A clip must be longer than this: the filters' own minimum, and more samples than the agent's view of a file."""


def build_parser():
    parser = command_parser('python -m stepsignal clips', __doc__)
    add_output_options(parser)
    own = parser.add_argument_group('your clips')
    own.add_argument('--input', required=True, metavar='DIR',
                     help=f'a folder of clips to process ({", ".join(EXTENSIONS)}), all at one sample rate')
    own.add_argument('--target', required=True, metavar='DIR',
                     help='a folder with the clean version of each clip, under the same name')
    own.add_argument('--sample-rate', type=float, help='samples per second of .npy or .csv clips')
    own.add_argument('--cutoff-range', type=float, nargs=2, metavar=('LOW_HZ', 'HIGH_HZ'),
                     help='the low-pass\'s range, as for process (default: 20 Hz to 20 kHz for audio)')
    own.add_argument('--chain', metavar='STAGES', help='the stages the agent sets, as for process (default: '
                                                       f'{",".join(AUDIO_CHAIN)} for audio)')
    own.add_argument('--no-augment', action='store_true',
                     help='train on the clips as they are, without adding DC, hum, hiss and gain')
    own.add_argument('--view', choices=VIEWS, default='spectrum',
                     help='what the agent sees of each signal: its spectrum in bands (default), or block averages as '
                          'process shows one file (kept to compare: block averages of a clip keep neither the '
                          'voice\'s level nor the hum, docs/your_signal.md#many-clips)')
    training = parser.add_argument_group('training')
    add_training_options(training)
    add_revert_option(training)
    parser.set_defaults(steps=CHAIN_STEPS)
    return parser


def read_clips(input_dir, target_dir, sample_rate=None):
    """``(names, rate, [(input, target), ...])``: every supported file of ``input_dir`` mixed to mono,
    with the file of the same stem in ``target_dir``. A ``ValueError`` names what does not fit."""
    folders = {}
    for option, folder in (('--input', input_dir), ('--target', target_dir)):
        folder = Path(folder)
        if not folder.is_dir():
            raise BadInput(f'{option} {str(folder)!r} is not a folder; clips takes a folder of clips (for one '
                             f'file: python -m stepsignal process)')
        files = sorted(path for path in folder.iterdir() if path.suffix.lower() in EXTENSIONS)
        if not files:
            raise BadInput(f'{option} {str(folder)!r} holds no {", ".join(EXTENSIONS)} file')
        folders[option] = files
    targets = {}
    for path in folders['--target']:
        if path.stem in targets:
            raise BadInput(f'--target holds two files named {path.stem!r} ({targets[path.stem].name}, {path.name}): '
                             f'keep one')
        targets[path.stem] = path
    names, pairs, rate = [], [], None
    for path in folders['--input']:
        if path.stem not in targets:
            raise BadInput(f'clip {str(path)!r} has no target: --target {str(target_dir)!r} holds no file named '
                             f'{path.stem!r} (with any of {", ".join(EXTENSIONS)})')
        source = read_signal(path, sample_rate, what='input')
        if rate is None:
            rate, first = source.sample_rate, path
        elif source.sample_rate != rate:
            raise BadInput(f'clip {str(path)!r} is at {source.sample_rate:g} Hz and {str(first)!r} at {rate:g} Hz: '
                             f'a family is at one rate (resample with sox IN -r {rate:g} OUT)')
        mono = mix_down(source.samples)
        if len(mono) <= SHORTEST:
            raise BadInput(f'clip {str(path)!r} has {len(mono)} samples; each clip needs more than {SHORTEST}')
        desired, _ = read_target(targets[path.stem], sample_rate, path, rate, len(mono))
        for i, (x, y) in enumerate(zip(pieces(mono), pieces(desired))):
            names.append(path.stem if i == 0 and len(x) == len(mono) else f'{path.stem} (part {i + 1})')
            pairs.append((x.astype(np.float32), y.astype(np.float32)))
    return names, rate, pairs


def prepare(args):
    """Read and check everything; return the family's arguments. Writes nothing but the empty ``--out``."""
    names, rate, pairs = read_clips(args.input, args.target, args.sample_rate)
    cutoff_range = default_cutoff_range(rate) if args.cutoff_range is None else cutoff_range_option(args.cutoff_range, rate)
    stages = stages_option(args.chain, rate)
    augmentation = Augmentation.none() if args.no_augment else Augmentation()
    view = args.view
    family = ClipFamily(pairs, rate, cutoff_range, chain=stages, augmentation=augmentation, view=view)  # its checks, now
    log.info('%d clips at %g Hz (%s); the chain: %s; %s', len(pairs), rate, ', '.join(names), ', '.join(stages),
             'no augmentation' if args.no_augment else f'each dirtied anew at every episode ({augmentation.record()})')
    out = check_output_folder(args.out, args.overwrite, inside=[args.input, args.target])
    return {'names': names, 'rate': rate, 'pairs': pairs, 'cutoff_range': cutoff_range, 'stages': stages,
            'augmentation': augmentation, 'max_offset': family.max_offset, 'view': view, 'out': out, 'family': family}


def check_envs(family, time_limit):
    """``CHECK_VARIANTS`` dirtied clips drawn once from ``CHECK_SEED``, each in its own env."""
    from stepsignal.own_signal.clip_family import augment

    rng = np.random.default_rng(CHECK_SEED)
    envs = []
    for i in range(CHECK_VARIANTS):
        clip, target = family.clips[i % len(family.clips)]
        dirty = augment(clip, family.sample_rate, family.augmentation.draw(rng))
        envs.append(wrapped(clip_env(dirty, family.sample_rate, target, family.cutoff_range, family.max_offset,
                                     family.chain.stages, time_limit, view=family.view)))
    return envs


def each_clip(agent, job):
    """The kept policy on every clip as it is, beside the clip's baselines and ceiling."""
    from fixed.keep_best import policy_outcome
    from stepsignal.own_signal.baselines import baselines

    rows = []
    for name, (x, y) in zip(job['names'], job['pairs']):
        env = wrapped(clip_env(x, job['rate'], y, job['cutoff_range'], job['max_offset'], job['stages'], view=job['view']))
        outcome = policy_outcome(agent, env)
        chain = env.unwrapped.chain
        found = baselines(x.astype(np.float64), y.astype(np.float64), job['rate'], job['cutoff_range'],
                          job['max_offset'], chain=chain)
        rows.append({'clip': name, 'samples': len(x), 'mains_hz': chain.mains_hz,
                     'settings': chain.settings(outcome['action']),
                     'rms': outcome['l2_distance'] / np.sqrt(len(x)),
                     'input_unchanged': found['input_unchanged']['rms'], 'mean_removed': found['mean_removed']['rms'],
                     'ceiling': found['best_filter']['rms'], 'ceiling_settings': found['best_filter']['settings']})
        log.info('%s: RMS error %.4g with the policy, %.4g at the ceiling, %.4g unchanged', name, rows[-1]['rms'],
                 rows[-1]['ceiling'], rows[-1]['input_unchanged'])
    return rows


def expected_seconds(job, hp):
    """Training time: an episode of the family's env (a draw, then its steps), timed now on this
    machine, plus the agent's update at each step (``your_signal.UPDATE_SECONDS``)."""
    env = job['family']  # prepare's: training draws from a family of its own
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    started = time.perf_counter()
    env.reset(seed=0)
    drawn = time.perf_counter()
    for _ in range(3):
        env.step(action)
    step = (time.perf_counter() - drawn) / 3
    # the spectrum view's 90 bands per signal cost an update no more than the chain's 200 block averages
    read = MAX_OBSERVED_SAMPLES if job['view'] == 'blocks' else CHAIN_OBSERVED_SAMPLES
    return hp.nb_steps * ((drawn - started) / hp.max_episode_steps + step + UPDATE_SECONDS[read])


def train(args, job):
    from fixed.progress import duration
    from fixed.train import train as train_fixed
    from fixed.keep_best import PolicyCheck

    made = []

    def make_family_env(time_limit):
        family = ClipFamily(job['pairs'], job['rate'], job['cutoff_range'], chain=job['stages'],
                            augmentation=job['augmentation'], time_limit=time_limit, view=job['view'])
        made.append(family)
        return wrapped(family, seed=args.seed)

    with reverted_training(args, run_hyperparameters(args)) as hyperparameters:
        log.info('expect about %s of training', duration(expected_seconds(job, hyperparameters)))
        envs = check_envs(job['family'], hyperparameters.max_episode_steps)
        check = PolicyCheck(envs, every=CHECK_EVERY)
        agent, result = train_fixed(job['out'], seed=args.seed, make_env=make_family_env, hp=hyperparameters,
                                    check=check, extras=args.extras)
        seen = made[0].features_seen  # the training env: every input it drew
        family = {'clips': job['names'], 'view': job['view'], 'augmentation': job['augmentation'].record(),
                  'features': {name: [float(low), float(high)] for name, (low, high) in seen.items()}}
        about = trained_on(args, 'clips', input=str(args.input), target=str(args.target))
        save_run(job['out'], agent, make_family_env(hyperparameters.max_episode_steps), result, about, family=family)
        result['clips'] = each_clip(agent, job)
    result['family'] = family
    status = write_result(job['out'], result)
    write_report(job, result)
    return status


def write_report(job, result):
    """``report.md``: every clip with the policy beside its baselines and its own ceiling."""
    rows = result['clips']
    mains = {row['clip']: row['mains_hz'] for row in rows}
    ranges = result['family']['features']
    far = [row for row in rows if row['rms'] > (1 + CLOSE_TO_CEILING) * row['ceiling']]
    beaten = [row['clip'] for row in rows if row['rms'] >= row['mean_removed']]
    headline = (f"On the clips as they are, the policy is within {100 * CLOSE_TO_CEILING:.0f}% of each clip's ceiling on "
                f"{len(rows) - len(far)} of {len(rows)}")
    if beaten:
        headline += (f"; **no better than removing the mean on {', '.join(beaten)}**: train longer (--steps) or with "
                     f"another --seed.")
    elif far:
        # A policy far from its own clips' ceilings is as far on new ones; seeds differ most (benchmarks/your_signal/CLIP_FAMILY*.md)
        worst = max(row['rms'] / row['ceiling'] - 1 for row in far)
        headline += (f"; up to {100 * worst:.0f}% above it on {', '.join(row['clip'] for row in far)}. Expect as much "
                     f"on new clips like {'it' if len(far) == 1 else 'them'}; a training with another --seed may do "
                     f"better (trainings differ most by seed: docs/your_signal.md#many-clips).")
    else:
        headline += '.'
    lines = [
        '# One policy for a folder of clips', '', headline, '',
        f"{len(rows)} clips at {job['rate']:g} Hz, trained {result['steps_trained']} steps (seed {result['seed']}), "
        f"the chain {', '.join(job['stages'])}, the agent seeing each signal's {job['view']}. "
        + ('Each clip was dirtied anew at every episode: ' + ', '.join(f'{k} {v[0]:g} to {v[1]:g}' for k, v in
                                                                          result['family']['augmentation'].items())
           + ' (hum at 50 or 60 Hz).' if job['augmentation'] != Augmentation.none() else 'No augmentation.'), '',
        '## Each clip as it is, answered by the policy', '',
        'RMS error to the clean clip. The ceiling is the chain at its best on that clip (scipy\'s search).', '',
        '| clip | input unchanged | mean removed | the policy | the ceiling | policy against ceiling | settings |',
        '|---|---|---|---|---|---|---|',
        *(f"| {row['clip']} | {row['input_unchanged']:.4g} | {row['mean_removed']:.4g} | {row['rms']:.4g} | "
          f"{row['ceiling']:.4g} | {100 * (row['rms'] / row['ceiling'] - 1):+.0f}% | "
          f"{describe(row['settings'], mains[row['clip']])} |" for row in rows), '',
        '## What it was trained on', '',
        'The span of each feature over every input drawn in training (stepsignal/own_signal/clip_family.py). '
        'Applied to a clip outside these spans, the policy says so.', '',
        '| feature | lowest | highest |', '|---|---|---|',
        *(f'| {FEATURE_TEXT.get(name, name)} | {low:.4g} | {high:.4g} |' for name, (low, high) in ranges.items()), '',
        '## Use it on a new clip', '',
        f"    python -m stepsignal process --input NEW.wav --target NEW_CLEAN.wav --policy {job['out'] / 'policy'} "
        '--out NEW_OUT', '',
        'The answer costs no training and no TensorFlow; its report sets it beside that clip\'s own ceiling.', '']
    text = '\n'.join(lines)
    write_atomic(job['out'] / REPORT, lambda handle: handle.write(text.encode('utf-8')))


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    with checking_input(parser):
        check_training_options(args)
        job = prepare(args)
    return run_reporting_failures(parser, args.out, lambda: train(args, job))


if __name__ == '__main__':
    sys.exit(main())
