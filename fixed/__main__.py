"""``python -m fixed --seed N --out DIR [--steps N]``: train the corrected setup, write results."""
import argparse
import logging
import os

from fixed.train import NB_STEPS


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m fixed', description=__doc__)
    parser.add_argument('--out', required=True, help='folder for every file the run writes')
    parser.add_argument('--seed', type=int, default=0, help='seed for numpy, TensorFlow, Python and the env')
    parser.add_argument('--steps', type=int, default=NB_STEPS, help=f'environment steps to train (default {NB_STEPS})')
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f'--out {args.out!r} is a file; give a folder (it is created if missing)')
    if args.seed < 0:
        parser.error(f'--seed must be a non-negative integer, got {args.seed}')
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    from fixed.train import train  # late: importing TensorFlow takes seconds
    try:
        train(args.out, seed=args.seed, nb_steps=args.steps)
    except ValueError as error:
        parser.exit(2, f'python -m fixed: error: {error}\n')


if __name__ == '__main__':
    main()
