"""``python -m original --out DIR``: run the question's setup and write its results into DIR."""
import argparse
import logging
import os


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m original', description=__doc__)
    parser.add_argument('--out', required=True, help='folder for every file the run writes')
    parser.add_argument('--seed', type=int, default=0, help='seed for numpy, TensorFlow and Python')
    args = parser.parse_args(argv)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f'--out {args.out!r} is a file; give a folder (it is created if missing)')
    if args.seed < 0:
        parser.error(f'--seed must be a non-negative integer, got {args.seed}')
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    from original.train import train  # late: importing TensorFlow takes seconds
    train(args.out, seed=args.seed)


if __name__ == '__main__':
    main()
