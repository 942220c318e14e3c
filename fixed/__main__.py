"""``python -m fixed --out DIR [--seed N] [--steps N] ...``: the question's setup, fixed (FIX-1 to FIX-23), today.

Writes ``result.json`` and ``policy/`` (IMPROVEMENT-1), ``history.json`` and ``weights/`` (FIX-16) and
``trace.json``, every env step it took, into DIR. Exit status: 0 done, 2 bad input (nothing
written), 1 a failure inside the run (the details in DIR/error.log), 130 interrupted by Ctrl-C.
"""
import sys

from shared.cli import (add_output_options, add_seed_option, check_output_folder, checking_input, command_parser,
                        run_reporting_failures, setup_logging)
from shared.table import help_text

from .hyperparameters import HYPERPARAMETERS
from .options import check_training_options, parse_question_run, run_hyperparameters  # FIX-4: --steps; IMPROVEMENT-4, -5
from .options import save_run, trained_on, write_result  # IMPROVEMENT-1: the kept policy and its result


def main(argv=None):
    parser = command_parser('python -m fixed', 'Train the corrected setup (FIX-1 to FIX-23) on the question\'s scenario '
                            'and write its results into DIR.', help_text(HYPERPARAMETERS, 'hyperparameters (fixed/hyperparameters.py):'))
    add_output_options(parser)
    add_seed_option(parser)
    args = parse_question_run(parser, argv)  # FIX-4: --steps, room to train; IMPROVEMENT-4: --tensorboard; -5: --her
    setup_logging()
    with checking_input(parser):  # bad input: said before any work, nothing written
        check_training_options(args)  # IMPROVEMENT-4, IMPROVEMENT-5
        check_output_folder(args.out, overwrite=args.overwrite)
    return run_reporting_failures(parser, args.out, lambda: run(args))


def run(args, hyperparameters=None):  # FIX-4: hyperparameters, None: the table with --steps
    from .train import make_env, train  # late: importing TensorFlow takes seconds; IMPROVEMENT-1: make_env

    hyperparameters = hyperparameters or run_hyperparameters(args)  # FIX-4: --steps
    agent, result = train(args.out, seed=args.seed, hp=hyperparameters, extras=args.extras)  # IMPROVEMENT-4, -5
    save_run(args.out, agent, make_env(), result, trained_on(args, 'question'))  # IMPROVEMENT-1
    return write_result(args.out, result)  # IMPROVEMENT-1: result.json; 130 after Ctrl-C


if __name__ == '__main__':
    sys.exit(main())
