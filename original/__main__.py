"""``python -m original --out DIR [--seed N]``: the question's setup, bugs included, on today's stack.

Writes what the question's script writes (its history pickle and ``h5f_files/``) and
``trace.json``, every env step it took, into DIR. Exit status: 0 done, 2 bad input (nothing
written), 1 a failure inside the run (the details in DIR/error.log), 130 interrupted by Ctrl-C.
"""
import sys

from shared.cli import (add_output_options, add_seed_option, check_output_folder, checking_input, command_parser,
                        run_reporting_failures, setup_logging)
from shared.table import help_text

from .hyperparameters import HYPERPARAMETERS


def main(argv=None):
    parser = command_parser('python -m original', 'Run the question\'s setup, bugs included, and write its files '
                            'into DIR.', help_text(HYPERPARAMETERS, 'hyperparameters (original/hyperparameters.py):'))
    add_output_options(parser)
    add_seed_option(parser)
    args = parser.parse_args(argv)
    setup_logging()
    with checking_input(parser):  # bad input: said before any work, nothing written
        check_output_folder(args.out, overwrite=args.overwrite)
    return run_reporting_failures(parser, args.out, lambda: run(args))


def run(args):
    from .train import train  # late: importing TensorFlow takes seconds

    train(args.out, seed=args.seed)
    return 0


if __name__ == '__main__':
    sys.exit(main())
