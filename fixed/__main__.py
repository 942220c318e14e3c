"""``python -m fixed --out DIR [--seed N] [--steps N] [--revert 4,6] [--tensorboard TB] [--her]``: train
the fixed setup on the question's scenario.

Writes ``result.json`` (what the kept policy does), ``trace.json``, ``history.json``,
``weights/`` and ``policy/`` into DIR. Exit status: 0 done, 2 bad input (nothing written), 1 a
failure inside the run (the details in DIR/error.log), 130 interrupted by Ctrl-C (the results so
far written). Your own signal and random scenarios are verbs of ``python -m stepsignal``.
"""
import sys

from shared.cli import (add_output_options, check_output_folder, checking_input, command_parser, refuse,
                        run_reporting_failures, setup_logging)
from shared.table import help_text

from .hyperparameters import HYPERPARAMETERS
from .options import add_her_options, add_training_options, check_training_options, hindsight_option  # IMPROVEMENT-5
from .options import run_hyperparameters, save_run, trained_on, write_result

MOVED = {'--input': 'process', '--target': 'process', '--target-level': 'process', '--sample-rate': 'process',
         '--target-sample-rate': 'process', '--cutoff-range': 'process', '--success-rms': 'process',
         '--policy': 'process', '--random-scenarios': 'scenarios'}
"""Options this command had until the kit's verbs took them over: each is answered with the new command."""


def answer_a_moved_option(parser, argv):
    """``python -m fixed --input ...`` is now ``python -m stepsignal process --input ...``: say so, exit 2."""
    for token in argv:
        verb = MOVED.get(token.split('=')[0])
        if verb is not None:
            rest = ' '.join(t for t in argv if t != '--random-scenarios')
            refuse(parser, f'{token.split("=")[0]} has moved: run python -m stepsignal {verb} {rest}')


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = command_parser('python -m fixed', 'Train the corrected setup on the question\'s scenario and write its '
                            'results into DIR.', help_text(HYPERPARAMETERS, 'hyperparameters (fixed/hyperparameters.py):'))
    add_output_options(parser)
    add_training_options(parser)
    add_her_options(parser)  # IMPROVEMENT-5
    answer_a_moved_option(parser, argv)
    args = parser.parse_args(argv)
    setup_logging()
    with checking_input(parser):  # bad input: said before any work, nothing written
        check_training_options(args)
        args.hindsight = hindsight_option(args)  # IMPROVEMENT-5
        check_output_folder(args.out, overwrite=args.overwrite)
    return run_reporting_failures(parser, args.out, lambda: run(args))


def run(args):
    from .switches import reverted
    from .train import make_env, train  # late: importing TensorFlow takes seconds

    hyperparameters = run_hyperparameters(args)
    with reverted(args.revert):
        agent, result = train(args.out, seed=args.seed, hp=hyperparameters, tensorboard=args.tensorboard,
                              hindsight=args.hindsight)
        save_run(args.out, agent, make_env(), result, trained_on(args, 'question'))
    return write_result(args.out, result)


if __name__ == '__main__':
    sys.exit(main())
