"""``python -m stepsignal train --out DIR --revert 4,6,23 [--seed N] [--steps N]``: one run of the
fixed setup on the question's scenario with the fixes ``--revert`` names undone, every other in place.

It is ``python -m fixed`` plus ``--revert`` (``stepsignal.reverts``), and writes the same files;
``result.json`` lists the reverted fixes. ``ablate`` and ``evaluate`` run it once per seed.
"""
import sys

from fixed.hyperparameters import HYPERPARAMETERS
from fixed.options import add_her_options, add_training_options, check_training_options, run_hyperparameters
from shared.cli import (add_output_options, add_seed_option, check_output_folder, checking_input, command_parser,
                        run_reporting_failures, setup_logging)
from shared.table import help_text
from stepsignal.reverts import add_revert_option, reverted_training


def main(argv=None):
    parser = command_parser(
        'python -m stepsignal train',
        'Train the fixed setup on the question\'s scenario with the fixes --revert names undone (the original\'s\n'
        'behaviour for each, every other fix in place).\n\nWrites into DIR what python -m fixed writes: result.json '
        '(with the reverted fixes), trace.json,\nhistory.json, weights/ and the kept policy (policy/). Example:\n'
        '  python -m stepsignal train --revert 4,6 --seed 0 --out runs/no-4-6',
        help_text(HYPERPARAMETERS, 'hyperparameters (fixed/hyperparameters.py):'))
    add_output_options(parser)
    add_seed_option(parser)
    add_training_options(parser, seed=False)
    add_revert_option(parser)
    add_her_options(parser)
    args = parser.parse_args(argv)
    setup_logging()
    with checking_input(parser):  # bad input: said before any work, nothing written
        check_training_options(args)
        check_output_folder(args.out, overwrite=args.overwrite)
    return run_reporting_failures(parser, args.out, lambda: run(args))


def run(args):
    from fixed.__main__ import run as run_fixed

    with reverted_training(args, run_hyperparameters(args)) as hyperparameters:
        return run_fixed(args, hyperparameters)


if __name__ == '__main__':
    sys.exit(main())
