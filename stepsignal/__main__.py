"""``python -m stepsignal``: the kit's command line.

- ``compare --out DIR [--seed N] [--steps N]``: run the original and the fixed setup side by side
  and write a report (``DIR/report.md`` with figures). This is the README's main job.
"""
import argparse
import logging
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m stepsignal', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    compare = commands.add_parser('compare', help='original vs fixed, with a report')
    compare.add_argument('--out', required=True, help='folder for the report and both runs')
    compare.add_argument('--seed', type=int, default=0, help='seed for both variants (default 0)')
    compare.add_argument('--steps', type=int, default=None,
                         help="the fixed agent's training steps (default: its own, 5000)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')

    from stepsignal.compare import compare as run_compare
    try:
        run_compare(args.out, seed=args.seed, steps=args.steps)
    except (ValueError, RuntimeError) as error:
        parser.exit(2, f'python -m stepsignal compare: error: {error}\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
