"""``python -m fixed.evaluate --seeds 0-9``: train one fixed agent per seed and tabulate the results.

Each seed runs ``python -m fixed`` in its own process (``stepsignal.child``), writing into
``OUT/seed-N/``. The table of seed, cutoff, offset, L2 distance, success and training time is
printed and written to ``OUT/summary.md``, with the raw numbers in ``OUT/summary.json``.
"""
import argparse
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stepsignal.child import run_module
from stepsignal.files import write_atomic, write_json

log = logging.getLogger(__name__)


def parse_seeds(text):
    """``"0-9"`` -> [0, ..., 9]; ``"1,4,7"`` -> [1, 4, 7]; mixes allowed (``"0-2,5"``)."""
    seeds = []
    for part in text.split(','):
        part = part.strip()
        try:
            if '-' in part:
                first, last = (int(v) for v in part.split('-'))
                if last < first:
                    raise ValueError
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'bad seed list {text!r}: use non-negative integers and ranges, like 0-9 or 1,4,7') from None
    if any(seed < 0 for seed in seeds) or not seeds:
        raise argparse.ArgumentTypeError(f'bad seed list {text!r}: seeds must be non-negative integers')
    return seeds


def run_seed(seed, out, steps, random_scenarios=False):
    """Train one seed in a child process; return its result.json, or a failure record."""
    folder = out / f'seed-{seed}'
    arguments = ['--seed', str(seed)] + ([] if steps is None else ['--steps', str(steps)])
    arguments += ['--random-scenarios'] if random_scenarios else []
    try:
        run_module('fixed', folder, arguments, label=f'seed {seed}')
    except RuntimeError as error:
        log.error('seed %d failed; see %s\n%s', seed, folder / 'stdout.txt', error)
        return {'seed': seed, 'error': str(error).splitlines()[0]}
    result = json.loads((folder / 'result.json').read_text())
    log.info('seed %d: L2 %.3f, success %s', seed, result['l2_distance'], result['success'])
    return result


def table(results):
    """A Markdown table of the results, one row per seed, and a closing success count.

    Runs on random scenarios get a column more: the success rate on never-seen scenarios.
    """
    unseen = any('unseen' in r for r in results)
    lines = ['| seed | cutoff (Hz) | offset | L2 | success | ' + ('unseen scenarios solved | ' if unseen else '')
             + 'train time (s) |', '|---|---|---|---|---|---|' + ('---|' if unseen else '')]
    for r in results:
        if 'error' in r:
            lines.append(f"| {r['seed']} | | | | {r['error']} | " + ('| ' if unseen else '') + '|')
            continue
        rate = f"{100 * r['unseen']['success_rate']:.0f}% | " if unseen else ''
        lines.append(f"| {r['seed']} | {r['cutoff_hz']:.4g} | {r['offset']:.4f} | {r['l2_distance']:.3f} | "
                     f"{'yes' if r['success'] else 'no'} | {rate}{r['train_seconds']:.0f} |")
    wins = sum(1 for r in results if r.get('success'))
    lines.append('')
    lines.append(f'Success on the question\'s scenario (L2 < 1.0): {wins} of {len(results)} seeds.')
    if unseen:
        rates = sorted(r['unseen']['success_rate'] for r in results if 'unseen' in r)
        count = next(r['unseen']['scenarios'] for r in results if 'unseen' in r)
        lines.append(f'Success on {count} never-seen scenarios per seed: median '
                     f'{100 * rates[len(rates) // 2]:.0f}%, range {100 * rates[0]:.0f}%-{100 * rates[-1]:.0f}%.')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m fixed.evaluate', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=parse_seeds, default=parse_seeds('0-9'), help='seeds, like 0-9 or 1,4,7')
    parser.add_argument('--steps', type=int, default=None, help='environment steps per seed (default: fixed\'s own)')
    parser.add_argument('--out', type=Path, default=Path('results/evaluate'), help='folder for all results')
    parser.add_argument('--jobs', type=int, default=2, help='seeds trained at once (default 2, one per core)')
    parser.add_argument('--random-scenarios', action='store_true',
                        help='train each seed on random step scenarios and measure it on never-seen ones')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
    args.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda seed: run_seed(seed, args.out, args.steps, args.random_scenarios),
                                    args.seeds))
    text = table(results)
    write_json(args.out / 'summary.json', results)
    write_atomic(args.out / 'summary.md', lambda f: f.write((text + '\n').encode()))
    print(text)
    return 0 if all('error' not in r for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
