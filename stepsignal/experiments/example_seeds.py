"""How often ``examples/question_fixed.py`` learns: the plain keras-rl2 script, run as a user runs it,
on many seeds (benchmarks/your_script/EXAMPLE_SEEDS*.md).

    python -m stepsignal.experiments.example_seeds --seeds 0-9 [--env TF_ENABLE_ONEDNN_OPTS=0] --out DIR

Each seed is ``python examples/question_fixed.py --seed N`` in a process of its own, two at a time;
its last line (``cutoff ... offset ... L2 ...``) is its result, success is the question's L2 < 1.0.
Writes the page and its numbers beside it (``.json``), both new files.
"""
import logging
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from shared.cli import (KIT_ROOT, NUMBERS, REPORT, add_report_options, answer_a_page_for_out, check_output_folder,
                        checking_input, command_parser, seeds_argument, setup_logging)
from shared.files import write_atomic, write_json
from stepsignal.experiments.evaluate import parse_env
from stepsignal.experiments.machine import machine, today
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)

EXAMPLE = KIT_ROOT / 'examples' / 'question_fixed.py'
SUCCESS_L2 = 1.0


def run_seed(seed, env, steps, command=(sys.executable, str(EXAMPLE))):
    """One seed of the example: ``{'seed', 'cutoff_hz', 'offset', 'l2_distance', 'success', 'seconds'}`` or its error.

    ``command`` runs the example (another command may run it changed) and takes its arguments."""
    command = list(command) + ['--seed', str(seed)] + (['--steps', str(steps)] if steps else [])
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    seconds = time.perf_counter() - started
    words = (finished.stdout.strip().splitlines() or [''])[-1].split()
    if finished.returncode != 0 or len(words) != 6 or words[0::2] != ['cutoff', 'offset', 'L2']:
        tail = ' | '.join(finished.stderr.strip().splitlines()[-3:])
        return {'seed': seed, 'error': f'exit status {finished.returncode}: {tail}', 'seconds': seconds}
    cutoff, offset, l2 = map(float, words[1::2])
    log.info('seed %d: cutoff %.4g Hz, offset %.4f, L2 %.4g (%.0f s)', seed, cutoff, offset, l2, seconds)
    return {'seed': seed, 'cutoff_hz': cutoff, 'offset': offset, 'l2_distance': l2, 'success': l2 < SUCCESS_L2,
            'seconds': round(seconds, 1)}


def page(rows, env, steps, command):
    done = [row for row in rows if 'error' not in row]
    learnt = sum(row['success'] for row in done)
    world = ', '.join(f'{k}={v}' for k, v in env.items()) or 'the default rounding world'
    lines = [f'# examples/question_fixed.py on {len(rows)} seeds ({world})', '',
             f'Measured {today()} on {machine()} with `{command}`: each seed is `python '
             f'examples/question_fixed.py --seed N{f" --steps {steps}" if steps else ""}` in a process of its '
             f'own, two at a time. L2 is the noise-free policy\'s, kept at its best check; success is L2 < 1.0.', '',
             '| seed | cutoff (Hz) | offset | L2 | success | seconds |', '|---|---|---|---|---|---|']
    for row in rows:
        if 'error' in row:
            lines.append(f"| {row['seed']} | | | | did not run: {row['error'][:80]} | {row['seconds']:.0f} |")
        else:
            lines.append(f"| {row['seed']} | {row['cutoff_hz']:.4g} | {row['offset']:.4f} | {row['l2_distance']:.4g} "
                         f"| {'yes' if row['success'] else 'no'} | {row['seconds']:.0f} |")
    seconds = sorted(row['seconds'] for row in done)
    lines += ['', f'Learnt (L2 < 1.0): {success_rate(learnt, len(rows))} seeds.'
              + (f' Seconds per seed, two at a time: {seconds[0]:.0f} to {seconds[-1]:.0f}.' if seconds else ''), '']
    return '\n'.join(lines)


def main(argv=None):
    parser = command_parser('python -m stepsignal.experiments.example_seeds', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'), help='like 0-9 (default) or 1,4,7')
    parser.add_argument('--steps', type=int, default=None, help="the example's --steps (default: its own)")
    parser.add_argument('--env', type=parse_env, action='append', default=[], metavar='NAME=VALUE',
                        help='an environment variable for every seed, such as TF_ENABLE_ONEDNN_OPTS=0')
    parser.add_argument('--jobs', type=int, default=2, help='seeds at a time (default 2)')
    add_report_options(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    if args.out is not None:
        with checking_input(parser):
            check_output_folder(args.out, overwrite=args.overwrite)
    setup_logging()
    env = dict(args.env)
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda seed: run_seed(seed, env, args.steps), args.seeds))
    command = 'python -m stepsignal.experiments.example_seeds ' + ' '.join(argv)
    text = page(rows, env, args.steps, command)
    sys.stdout.write(text)
    if args.out is not None:
        write_atomic(args.out / REPORT, lambda handle: handle.write(text.encode('utf-8')))
        write_json(args.out / NUMBERS, {'environment': env, 'steps': args.steps, 'machine': machine(),
                                                   'date': today(), 'seeds': rows})
    return 0


if __name__ == '__main__':
    sys.exit(main())
