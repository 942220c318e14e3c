"""The command lines of the two variants: ``python -m original`` and ``python -m fixed``.

  python -m original --out DIR [--seed N]                        the question's setup
  python -m fixed --out DIR [--seed N] [--steps N]               the fixed setup, question's scenario
  python -m fixed --out DIR --revert 4,6,23                      the same with FIX-4, -6, -23 undone
  python -m fixed --out DIR --random-scenarios                   a new step scenario every episode,
                                                                 then success on never-seen ones
  python -m fixed --out DIR --input IN (--target T | --target-level L)
                                                                 your own signal (docs/your_signal.md)

Exit status: 0 done, 2 bad input (nothing written), 130 interrupted by Ctrl-C (results so far
written). Each variant's ``__main__.py`` hands over to ``main`` here, so that the commands sit
above the variants and the variants' files mirror each other.
"""
import argparse
import dataclasses
import importlib
import logging

from shared.cli import CHILD_STDOUT, ORIGINAL_FILES, TRAINING_FILES, check_output_folder, output_folder_argument, report_failure, seed_argument, setup_logging, steps_argument, writable_folder
from shared.table import help_text

INTERRUPTED = 130  # the shell's status for a run stopped by Ctrl-C (128 + SIGINT)
USAGE = {
    'original': 'Run the question\'s setup, bugs included, and write its files into DIR.',
    'fixed': 'Train the corrected setup and write its results into DIR.',
}


def build_parser(variant, hyperparameters):
    parser = argparse.ArgumentParser(
        prog=f'python -m {variant}', description=USAGE[variant],
        epilog=help_text(hyperparameters, f'hyperparameters ({variant}/hyperparameters.py):'),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=output_folder_argument, required=True,
                        help='a new folder for every file the run writes')
    parser.add_argument('--seed', type=seed_argument, default=0,
                        help='seed for numpy, TensorFlow, Python and the env (0 to 2**32 - 1)')
    parser.add_argument('--overwrite', action='store_true',
                        help='--out may hold an earlier run\'s results: remove them first (only the files the kit '
                             'wrote; without this, such a folder is refused)')
    if variant == 'original':
        return parser
    parser.add_argument('--steps', type=steps_argument, default=hyperparameters.nb_steps,
                        help='environment steps in all: training and the checks of the noise-free policy '
                             f'(default {hyperparameters.nb_steps}, at most 32767)')
    parser.add_argument('--revert', type=revert_argument, default=(), metavar='4,6,23',
                        help='undo these fixes (numbers, or IMPROVEMENT-n / In) and keep every other one: the '
                             'original\'s behaviour for each (stepsignal/reverts.py, docs/ablation.md)')
    parser.add_argument('--random-scenarios', action='store_true',
                        help='train on a new step scenario at every reset (shared.scenario.StepRanges), then '
                             'measure success on 100 scenarios it never saw (give it --steps 15000: '
                             'docs/generalisation.md)')
    parser.add_argument('--tensorboard', metavar='DIR',
                        help='also write TensorBoard event files, into DIR/<name of --out> (open them with '
                             'tensorboard --logdir DIR; docs/ecosystem.md)')
    own = parser.add_argument_group('your own signal')
    own.add_argument('--input', help='the signal to process: .wav (8/16/24/32-bit PCM, 32/64-bit float, any '
                                     'channels), .npy or one-column .csv')
    target = own.add_mutually_exclusive_group()
    target.add_argument('--target', help='the signal to match, in any of the same formats')
    target.add_argument('--target-level', type=float, help='match a flat level instead, such as 0.0')
    own.add_argument('--sample-rate', type=float, help='samples per second of a .npy or .csv input')
    own.add_argument('--target-sample-rate', type=float,
                     help='samples per second of a .npy or .csv target (default: the input\'s)')
    own.add_argument('--cutoff-range', type=float, nargs=2, metavar=('LOW_HZ', 'HIGH_HZ'),
                     help='the cutoffs the agent may choose, 0 < LOW < HIGH < Nyquist. Default: from 8 kHz up '
                          '(audio), 20 Hz to 20 kHz (at most 0.99 x Nyquist), what can be heard; below 8 kHz, the '
                          'question\'s 0.001 Hz (or the lowest the filter applies accurately, 2e-5 x Nyquist) to '
                          '0.99 x Nyquist. Choose the band where what you want to keep ends and what you want to '
                          'remove begins')
    own.add_argument('--success-rms', type=float,
                     help='RMS error to the target counted as success (default: the question\'s L2 < 1.0)')
    own.add_argument('--policy', metavar='DIR',
                     help='apply a trained policy (the policy/ folder every training run writes) to --input instead '
                          'of training: one step, the same files out (stepsignal/policy.py)')
    return parser


def revert_argument(text):
    from stepsignal.reverts import parse_fix_list

    try:
        return parse_fix_list(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def check_modes(parser, args):
    """The fixed command's three modes exclude each other; say which option is out of place."""
    own_options = [name for name in ('target', 'target_level', 'sample_rate', 'target_sample_rate',
                                     'cutoff_range', 'success_rms') if getattr(args, name) is not None]
    if args.input is None and own_options:
        parser.error(f'--{own_options[0].replace("_", "-")} needs --input')
    if args.input is not None and args.target is None and args.target_level is None:
        parser.error('--input needs a target: --target FILE or --target-level LEVEL')
    if args.input is not None and args.random_scenarios:
        parser.error('--random-scenarios draws its own signals; it cannot be used with --input')
    if args.policy is not None:
        if args.input is None:
            parser.error('--policy needs --input (and a target): the signal to answer')
        if args.revert or args.tensorboard is not None:
            parser.error(f'--policy applies a trained policy without training; --{"revert" if args.revert else "tensorboard"} '
                         f'is for training')


def main(variant, argv=None):
    """Parse, check everything that can be checked before TensorFlow loads, then run ``variant``."""
    hyperparameters = importlib.import_module(f'{variant}.hyperparameters').HYPERPARAMETERS
    parser = build_parser(variant, hyperparameters)
    args = parser.parse_args(argv)
    if variant == 'fixed':
        check_modes(parser, args)
    setup_logging()
    log = logging.getLogger(variant)
    try:
        return run(variant, args, hyperparameters, parser, log)
    except KeyboardInterrupt:  # outside training (keras-rl's fit catches its own)
        log.warning('interrupted before the results were complete; every file in %s is whole (each is '
                    'written in one rename), but some may be missing', args.out)
        return INTERRUPTED
    except Exception as error:  # a failure inside the run: one line, the traceback in OUT/error.log
        return report_failure(parser.prog, args.out, error)


def run(variant, args, hyperparameters, parser, log):
    job = None
    try:
        if getattr(args, 'input', None) is None:
            writes = ORIGINAL_FILES if variant == 'original' else TRAINING_FILES
            check_output_folder(args.out, writes + (CHILD_STDOUT,), overwrite=args.overwrite)
        else:
            from stepsignal.your_signal import prepare

            # Every check before any training, and before TensorFlow's slow import.
            job = prepare(args.input, args.out, target_path=args.target, target_level=args.target_level,
                          sample_rate=args.sample_rate, target_sample_rate=args.target_sample_rate,
                          cutoff_range=args.cutoff_range, success_rms=args.success_rms, overwrite=args.overwrite,
                          trains=args.policy is None, reads=[args.policy] if args.policy else [])
            log.info('input: %s; target: %s', job.input.describe(), job.target_text)
            if args.policy is not None:
                from stepsignal.policy import check_serves, load_about

                about = load_about(args.policy)
                check_serves(about, args.policy, job.input.sample_rate, len(job.input.samples))
                job.cutoff_range, job.max_offset = tuple(about['actions']['cutoff_hz']), about['actions']['offset'][1]
            from stepsignal.your_signal import measure_baselines

            measure_baselines(job)
        if getattr(args, 'tensorboard', None) is not None:
            writable_folder(args.tensorboard, '--tensorboard')
    except ValueError as error:  # bad input: said before any work, nothing written
        parser.exit(2, f'{parser.prog}: error: {error}\n')
    if variant == 'original':
        from original.train import train  # late: importing TensorFlow takes seconds

        train(args.out, seed=args.seed)
        return 0
    from stepsignal.reverts import reverted, reverted_hyperparameters

    hp = reverted_hyperparameters(dataclasses.replace(hyperparameters, nb_steps=args.steps), args.revert)
    if args.revert:
        log.info('reverted: %s; every other fix in place', ', '.join(args.revert))
    if args.policy is not None:  # no training: the saved policy answers in one step
        from stepsignal.policy import apply_policy
        from stepsignal.your_signal import finish

        result = apply_policy(args.policy, job)
        result['input'] = job.about()
        finish(job, result)  # writes result.json with the rest
        return 0
    from stepsignal.policy import save_policy

    trained_on = {'mode': 'input' if job is not None else 'random-scenarios' if args.random_scenarios else 'question',
                  'seed': args.seed, 'steps': args.steps, 'reverted': list(args.revert),
                  **({'input': str(job.input.path), 'target': job.target_text} if job is not None else {})}
    with reverted(args.revert):
        if job is not None:
            from stepsignal.your_signal import finish, train_on_signal

            agent, result = train_on_signal(job, args.seed, hp, tensorboard=args.tensorboard)
            save_policy(f'{args.out}/policy', agent, job.make_training_env(), trained_on, samples=len(job.input.samples))
            finish(job, result)
        elif args.random_scenarios:
            from stepsignal.random_scenarios import family_env, train_random

            agent, result = train_random(args.out, args.seed, hp, tensorboard=args.tensorboard)
            save_policy(f'{args.out}/policy', agent, family_env(args.seed), trained_on)
        else:
            from fixed.train import make_env, train

            agent, result = train(args.out, seed=args.seed, hp=hp, tensorboard=args.tensorboard)
            save_policy(f'{args.out}/policy', agent, make_env(), trained_on)
    # Which fixes were undone (none: the fixed setup), beside what the run did. The table in
    # result.json is the one the fixed code read: a revert changes it where the fix is a number in it.
    from shared.files import write_json

    result['reverted'] = list(args.revert)
    write_json(f'{args.out}/result.json', result)
    if result['interrupted']:
        log.warning('interrupted: the results after %d of %d steps are in %s', result['steps_trained'],
                    result['steps'], args.out)
        return INTERRUPTED
    return 0
