"""python -m stepsignal process: the fixed setup on your own signal (docs/your_signal.md).

  python -m stepsignal process --input IN --target T --out DIR        train on IN, answer it
  python -m stepsignal process --input IN --target-level 0 --out DIR  match a flat level
  python -m stepsignal process --input IN --target T --policy DIR/policy --out NEW
                                                                      answer IN with a saved policy

Writes into DIR: processed.csv (or .wav, .npy: as the input), report.md, result.json and signals.png;
after training also learning.png, trace.json, history.json, weights/ and policy/.

Every input is read and checked before TensorFlow loads (your_signal.prepare): a bad one is
refused in one line, exit 2, nothing written. Exit status otherwise: 0 done, 1 a failure inside
the run (the details in OUT/error.log), 130 interrupted by Ctrl-C (results so far written).
"""
import logging
import sys

from fixed.hyperparameters import HYPERPARAMETERS
from fixed.options import add_training_options, check_training_options, run_hyperparameters, save_run, trained_on
from shared.cli import add_output_options, checking_input, command_parser, run_reporting_failures, setup_logging
from stepsignal.own_signal.chain import CHAIN_STEPS, QUESTION_CHAIN
from stepsignal.reverts import add_revert_option, reverted_training

log = logging.getLogger(__name__)


def build_parser():
    parser = command_parser('python -m stepsignal process', __doc__)
    add_output_options(parser)
    own = parser.add_argument_group('your signal')
    own.add_argument('--input', required=True,
                     help='the signal to process: .wav (8/16/24/32-bit PCM, 32/64-bit float, any channels), .npy or '
                          'one-column .csv')
    target = own.add_mutually_exclusive_group(required=True)
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
    own.add_argument('--chain', metavar='STAGES',
                     help='the stages the agent sets, comma-separated: lowpass,offset (the question\'s two) and any '
                          'of highpass, notch (mains hum at 50 or 60 Hz and harmonics), gain. Default: '
                          'lowpass,offset,highpass,notch,gain for audio (8 kHz and up), else lowpass,offset. With '
                          '--policy, the policy\'s own (stepsignal/own_signal/chain.py)')
    own.add_argument('--success-rms', type=float,
                     help='RMS error to the target counted as success (default: for audio, within 10%% of the '
                          'chain\'s ceiling; otherwise the question\'s L2 < 1.0)')
    own.add_argument('--policy', metavar='DIR',
                     help='apply a trained policy (the policy/ folder every training run writes) to --input instead '
                          'of training: one step, the same files out (stepsignal/own_signal/saved_policy.py)')
    training = parser.add_argument_group('training (without --policy)')
    add_training_options(training)
    add_revert_option(training)
    # More knobs, more steps: the budget's default follows the chain (chain.CHAIN_STEPS)
    parser.set_defaults(steps=None)
    next(action for action in training._group_actions if action.dest == 'steps').help = (
        f'environment steps in all: training and the checks of the noise-free policy (default '
        f'{CHAIN_STEPS} for a chain longer than lowpass,offset, such as audio\'s; else {HYPERPARAMETERS.nb_steps}; '
        f'at most 32767)')
    return parser


def main(argv=None):
    """Parse, check everything that can be checked before TensorFlow loads, then run."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.policy is not None and (args.revert or args.tensorboard is not None):
        parser.error(f'--policy applies a trained policy without training; --{"revert" if args.revert else "tensorboard"} '
                     f'is for training')
    setup_logging()
    from stepsignal.own_signal.your_signal import measure_baselines, prepare

    with checking_input(parser):  # every check before any training, and before TensorFlow's slow import
        check_training_options(args)
        job = prepare(args.input, args.out, target_path=args.target, target_level=args.target_level,
                      sample_rate=args.sample_rate, target_sample_rate=args.target_sample_rate,
                      cutoff_range=args.cutoff_range, success_rms=args.success_rms, overwrite=args.overwrite,
                      policy=args.policy, chain=args.chain)
        if args.steps is None:
            args.steps = HYPERPARAMETERS.nb_steps if job.stages == QUESTION_CHAIN else CHAIN_STEPS
        log.info('input: %s; target: %s', job.input.describe(), job.target_text)
        measure_baselines(job)
    return run_reporting_failures(parser, args.out, lambda: (answer if args.policy else train)(args, job))


def answer(args, job):
    """No training: the saved policy answers in one step."""
    from stepsignal.own_signal.saved_policy import apply_policy
    from stepsignal.own_signal.your_signal import finish

    result = apply_policy(args.policy, job.make_training_env)
    result['input'] = job.about()
    result['reverted'] = []
    return finish(job, result)


def train(args, job):
    from stepsignal.own_signal.your_signal import finish, train_on_signal

    about = trained_on(args, 'input', input=str(job.input.path), target=job.target_text)
    with reverted_training(args, run_hyperparameters(args)) as hyperparameters:
        agent, result = train_on_signal(job, args.seed, hyperparameters, extras=args.extras)
        save_run(args.out, agent, job.make_training_env(), result, about, samples=len(job.input.samples))
        # The policy is saved: the agent's replay memory (two float32 states per step, 92 MiB for
        # 10,000 steps on a long signal) is not needed to write the output, and would sit at its peak.
        agent.memory = None
        del agent
        return finish(job, result)


if __name__ == '__main__':
    sys.exit(main())
