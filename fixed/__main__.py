"""Train the corrected setup and write its results into DIR.

  python -m fixed --out DIR [--seed N] [--steps N]               the question's scenario
  python -m fixed --out DIR --random-scenarios                   a new step scenario every episode,
                                                                 then success on never-seen ones
  python -m fixed --out DIR --input IN (--target T | --target-level L)
                                                                 your own signal (docs/your_signal.md)

Exit status: 0 done, 2 bad input (nothing written), 130 interrupted by Ctrl-C (results so far
written).
"""
import argparse
import logging
import os
import sys
from pathlib import Path

from fixed import NB_STEPS
from stepsignal.limits import MAX_KERAS_RL_STEPS

INTERRUPTED = 130  # the shell's status for a run stopped by Ctrl-C (128 + SIGINT)


def parse_args(parser, argv):
    parser.add_argument('--out', required=True, help='folder for every file the run writes')
    parser.add_argument('--seed', type=int, default=0, help='seed for numpy, TensorFlow, Python and the env')
    parser.add_argument('--steps', type=int, default=NB_STEPS, help=f'environment steps in all: training and the checks of the noise-free policy '
                             f'(default {NB_STEPS})')
    parser.add_argument('--random-scenarios', action='store_true',
                        help='train on a new step scenario at every reset (stepsignal.scenario.StepRanges), then '
                             'measure success on 100 scenarios it never saw (give it --steps 15000: '
                             'docs/generalisation.md)')
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
                     help='the cutoffs the agent may choose, 0 < LOW < HIGH < Nyquist (default 0.001 Hz '
                          'to 0.99 x Nyquist)')
    own.add_argument('--success-rms', type=float,
                     help='RMS error to the target counted as success (default: the question\'s L2 < 1.0)')
    own.add_argument('--overwrite', action='store_true', help='replace the results already in --out')
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f'--out {args.out!r} is a file; give a folder (it is created if missing)')
    if args.seed < 0:
        parser.error(f'--seed must be a non-negative integer, got {args.seed}')
    if not 1 <= args.steps <= MAX_KERAS_RL_STEPS:
        parser.error(f'--steps must be between 1 and {MAX_KERAS_RL_STEPS} (keras-rl2 counts steps in np.int16), '
                     f'got {args.steps}')
    own_options = [name for name in ('target', 'target_level', 'sample_rate', 'target_sample_rate',
                                     'cutoff_range', 'success_rms') if getattr(args, name) is not None]
    if args.input is None and own_options:
        parser.error(f'--{own_options[0].replace("_", "-")} needs --input')
    if args.input is not None and args.target is None and args.target_level is None:
        parser.error('--input needs a target: --target FILE or --target-level LEVEL')
    if args.input is not None and args.random_scenarios:
        parser.error('--random-scenarios draws its own signals; it cannot be used with --input')
    return args


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m fixed', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    args = parse_args(parser, argv)
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    log = logging.getLogger('fixed')
    job = None
    try:
        from fixed.your_signal import check_output_folder, prepare

        if args.input is None:
            try:
                check_output_folder(Path(args.out), overwrite=True)  # the question's runs replace their files
            except ValueError as error:
                parser.exit(2, f'python -m fixed: error: {error}\n')
        else:
            # Every check before any training, and before TensorFlow's slow import.
            try:
                job = prepare(args.input, args.out, target_path=args.target, target_level=args.target_level,
                              sample_rate=args.sample_rate, target_sample_rate=args.target_sample_rate,
                              cutoff_range=args.cutoff_range, success_rms=args.success_rms,
                              overwrite=args.overwrite)
            except ValueError as error:  # bad input: said before any work, nothing written
                parser.exit(2, f'python -m fixed: error: {error}\n')
            log.info('input: %s; target: %s', job.input.describe(), job.target_text)
        from fixed.train import train  # late: importing TensorFlow takes seconds

        if job is None:
            _, result = train(args.out, seed=args.seed, nb_steps=args.steps, random_scenarios=args.random_scenarios)
        else:
            _, result = train(args.out, seed=args.seed, nb_steps=args.steps, scenario=job.scenario,
                              env_kwargs=job.env_kwargs, about=job.about())
            from fixed.your_signal import finish

            finish(job, result)
    except KeyboardInterrupt:  # outside training (keras-rl's fit catches its own)
        log.warning('interrupted before the results were complete; every file in %s is whole (each is '
                    'written in one rename), but some may be missing', args.out)
        return INTERRUPTED
    if result['interrupted']:
        log.warning('interrupted: the results after %d of %d steps are in %s', result['steps_trained'],
                    result['steps'], args.out)
        return INTERRUPTED
    return 0


if __name__ == '__main__':
    sys.exit(main())
