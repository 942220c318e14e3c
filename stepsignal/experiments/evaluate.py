"""``python -m stepsignal evaluate --seeds 0-9``: train one fixed agent per seed and measure the rate.

Each seed runs ``python -m fixed`` in a fresh process on Ray (``stepsignal.experiments.runner``: two at a
time on this machine, or on a cluster with ``--address``), its files written into ``OUT/seed-N/``. Written into OUT:

- ``summary.md``: one row per seed (cutoff, offset, L2, success, environment steps to the first
  successful policy check, training time) and the success rate with its 95% confidence interval;
- ``summary.json``: the same numbers, and the environment variables the seeds ran with;
- ``learning_curves.png``: the noise-free policy's L2 distance against environment steps, the
  median over the seeds and the band between the best and the worst.

``--env KEY=VALUE`` sets an environment variable for every seed, to measure in another rounding
world on the same machine (``--env TF_ENABLE_ONEDNN_OPTS=0``; the settings the results were
measured with: the table in docs/results.md#rounding-worlds).
"""
import argparse
import json
import logging
import re
import statistics
import sys
from pathlib import Path

from fixed.options import add_her_options, add_plain_keras_rl2_option, check_update_options, her_arguments, hindsight_option
from shared.checks import BadInput
from shared.cli import (command_parser, check_output_folder, checking_input, output_folder_argument,
                        run_reporting_failures, seeds_argument, setup_logging, steps_argument, writable_folder)
from shared.files import save_figure, write_atomic, write_json
from stepsignal.experiments.machine import machine, today
from stepsignal.rates import success_rate
from stepsignal.experiments.runner import SCRATCH, TENSORBOARD, Run, check_address, run_all
from stepsignal.own_signal.scenarios import FAMILY_OPTIONS, add_family_training_options, family_arguments, family_settings

log = logging.getLogger(__name__)


MOST_JOBS = 256
"""The most runs at once on this machine (Ray starts a worker for each)."""


def jobs_argument(text):
    """argparse ``type=`` for ``--jobs``: runs at once, from 1 to ``MOST_JOBS``."""
    if not text.strip().isdigit() or not 1 <= int(text) <= MOST_JOBS:
        raise argparse.ArgumentTypeError(f'{text!r} is not allowed: a whole number from 1 to {MOST_JOBS} (runs at '
                                         f'once; one per core is the fastest)')
    return int(text)


def parse_env(text):
    """``"KEY=VALUE"`` -> ``("KEY", "VALUE")``, for ``--env``."""
    key, sep, value = text.partition('=')
    if not sep or not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', key):
        raise argparse.ArgumentTypeError(f'bad --env {text!r}: use NAME=VALUE, like TF_ENABLE_ONEDNN_OPTS=0')
    return key, value


def seed_runs(seeds, steps=None, random_scenarios=False, env=None, revert=(), prefix='', tensorboard=False,
              hindsight=None, plain_keras_rl2=False, family=None):
    """One ``python -m fixed`` run per seed (``stepsignal train`` with ``revert``), into ``PREFIX/seed-N`` (``stepsignal.experiments.runner``);
    ``tensorboard``: each also writes TensorBoard event files, which ``run_all`` sends on; ``her``:
    ``hindsight``: a ``fixed.hindsight.Hindsight`` each trains with (IMPROVEMENT-5; None: none);
    ``plain_keras_rl2``: each trains on keras-rl2's own update (``--plain-keras-rl2``); ``family``:
    on random scenarios, how they train (``scenarios.family_settings``: ``--episode-steps``, ``--gradient-steps``)."""
    runs = []
    for seed in seeds:
        arguments = ['--seed', str(seed)] + ([] if steps is None else ['--steps', str(steps)])
        arguments += ['--revert', ','.join(revert)] if revert else []
        arguments += her_arguments(hindsight)
        arguments += ['--plain-keras-rl2'] if plain_keras_rl2 else []
        arguments += family_arguments(family or {})
        arguments += ['--tensorboard', f'{SCRATCH}/{TENSORBOARD}'] if tensorboard else []
        # A fix undone needs the verb above both variants (stepsignal.reverts); scenarios takes --revert itself.
        command = ('stepsignal', 'scenarios') if random_scenarios else ('stepsignal', 'train') if revert else ('fixed',)
        runs.append(Run(f'{prefix}seed-{seed}', command, tuple(arguments), tuple((env or {}).items())))
    return runs


def load_result(folder, seed, error=None):
    """A run's result.json, or a failure record with the reason."""
    path = Path(folder) / 'result.json'
    if error or not path.is_file():
        return {'seed': seed, 'error': (error or 'no result.json: the run did not finish').splitlines()[0]}
    return json.loads(path.read_text())


def median_or_never(counts):
    """The median of step counts where None means "never"; None when the median seed never got there."""
    ordered = sorted(counts, key=lambda c: float('inf') if c is None else c)
    lower, upper = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    return None if upper is None else (lower + upper) / 2


def summarise(results):
    """The numbers over all seeds: success rate with its interval, median L2 and steps to success."""
    finished = [r for r in results if 'error' not in r]
    summary = {'seeds': len(results), 'failed_to_run': len(results) - len(finished)}
    if not finished:
        return summary
    rate = success_rate(sum(r['success'] for r in finished), len(results))
    firsts = [r.get('first_success_env_steps') for r in finished]
    summary.update(success=rate.as_dict(), success_text=str(rate),
                   median_l2=statistics.median(r['l2_distance'] for r in finished),
                   median_first_success_env_steps=median_or_never(firsts))
    if any('unseen' in r for r in finished):
        rates = sorted(r['unseen']['success_rate'] for r in finished)
        summary['unseen'] = {'scenarios': finished[0]['unseen']['scenarios'], 'lowest': rates[0],
                             'median': statistics.median(rates), 'highest': rates[-1]}
    return summary


def steps_text(count):
    return 'never' if count is None else f'{count:g}'


def table(results, summary):
    """A Markdown table of the results, one row per seed, and the rates under it.

    Runs on random scenarios replace the steps to the first success (a check there scores 30
    scenarios at once) with the share of the 100 never-seen scenarios solved.
    """
    unseen = 'unseen' in summary
    last_column = 'unseen scenarios solved' if unseen else 'first success (env steps)'
    lines = [f'| seed | cutoff (Hz) | offset | L2 | success | {last_column} | train time (s) |',
             '|---|---|---|---|---|---|---|']
    for r in results:
        if 'error' in r:
            lines.append(f"| {r['seed']} | | | | failed to run: {r['error']} | | |")
            continue
        if unseen:
            last = r['unseen'].get('success_text') or f"{100 * r['unseen']['success_rate']:.0f}%"
        else:
            last = steps_text(r.get('first_success_env_steps'))
        lines.append(f"| {r['seed']} | {r['cutoff_hz']:.4g} | {r['offset']:.4f} | {r['l2_distance']:.3f} | "
                     f"{'yes' if r['success'] else 'no'} | {last} | {r['train_seconds']:.0f} |")
    lines.append('')
    if 'success' not in summary:
        lines.append(f'No seed finished ({summary["failed_to_run"]} failed to run).')
        return '\n'.join(lines)
    closing = f"Success on the question's scenario (L2 < 1.0): {summary['success_text']} seeds; median L2 " \
              f"{summary['median_l2']:.3f}"
    if not unseen:
        closing += f"; median environment steps to the first success {steps_text(summary['median_first_success_env_steps'])}"
    lines.append(closing + '.')
    if summary['failed_to_run']:
        lines.append(f"{summary['failed_to_run']} seeds failed to run and count as failures.")
    if unseen:
        u = summary['unseen']
        lines.append(f"Success on {u['scenarios']} never-seen scenarios per seed: lowest {100 * u['lowest']:.0f}%, "
                     f"median {100 * u['median']:.0f}%, highest {100 * u['highest']:.0f}%.")
    return '\n'.join(lines)


def draw_learning_curves(results, path, title):
    """The noise-free policy's L2 at each check against env steps: median, middle half, best to worst.

    These are the policy's checks as training goes, not the kept policy (the best check of each seed).
    """
    import matplotlib

    matplotlib.use('Agg')  # no screen needed
    import matplotlib.pyplot as plt
    import numpy as np

    curves = [r['checks'] for r in results if r.get('checks')]
    if not curves:
        return False
    length = min(len(c) for c in curves)  # the same checks in every seed of one budget
    steps = [c['env_steps'] for c in curves[0][:length]]
    distances = np.array([[c['l2_distance'] for c in curve[:length]] for curve in curves])
    figure, axis = plt.subplots(figsize=(8, 4))
    axis.fill_between(steps, distances.min(axis=0), distances.max(axis=0), color='C0', alpha=0.15,
                      label=f'best to worst of {len(curves)} seeds')
    axis.fill_between(steps, *np.percentile(distances, [25, 75], axis=0), color='C0', alpha=0.3,
                      label='middle half of the seeds')
    axis.plot(steps, np.median(distances, axis=0), color='C0', label='median over the seeds')
    axis.axhline(1.0, color='r', linestyle='--', label='success: L2 < 1.0')
    axis.set(yscale='log', xlabel='environment steps (training and policy checks)',
             ylabel='L2 of the noise-free policy at each check', title=title)
    axis.grid(True, alpha=0.3)
    axis.legend(loc='lower left', fontsize='small')
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)
    return True


def main(argv=None):
    example = '\nExample:\n  python -m stepsignal evaluate --seeds 0-9 --out results/evaluate\n'
    parser = command_parser('python -m stepsignal evaluate', __doc__ + example)
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'), help='seeds, like 0-9 or 1,4,7')
    parser.add_argument('--steps', type=steps_argument, default=None, help='environment steps per seed (default: fixed\'s own)')
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help='a new folder for every file the evaluation writes (as every command\'s --out)')
    parser.add_argument('--jobs', type=jobs_argument, default=2,
                        help=f'seeds trained at once on this machine (default 2, one per core; at most {MOST_JOBS})')
    parser.add_argument('--address', metavar='HOST:PORT', help='run on this Ray cluster instead of this machine')
    parser.add_argument('--random-scenarios', action='store_true',
                        help='train each seed on random step scenarios and measure it on never-seen ones')
    parser.add_argument('--env', type=parse_env, action='append', default=[], metavar='NAME=VALUE',
                        help='an environment variable for every seed, such as TF_ENABLE_ONEDNN_OPTS=0 (repeatable)')
    parser.add_argument('--overwrite', action='store_true',
                        help='--out may hold an earlier evaluation: remove what it wrote first (without this, it is refused)')
    parser.add_argument('--tensorboard', metavar='DIR', type=Path,
                        help='also write each seed\'s TensorBoard event files, into DIR/seed-N (sent back as each '
                             'seed finishes; tensorboard --logdir DIR shows them side by side)')
    add_plain_keras_rl2_option(parser)
    add_family_training_options(parser, where='with --random-scenarios: ')
    add_her_options(parser)
    args = parser.parse_args(argv)
    with checking_input(parser):
        hindsight = hindsight_option(args)
        check_update_options(hindsight, args.plain_keras_rl2)
        family = family_settings(args)
        if family and not args.random_scenarios:
            given = ', '.join(family_arguments(family)[::2])
            raise BadInput(f'{given}: these set how the random scenarios train: add --random-scenarios '
                           '(the question\'s run keeps the fixed table)')
    env = dict(args.env)
    runs = seed_runs(args.seeds, args.steps, args.random_scenarios, env, tensorboard=args.tensorboard is not None,
                     hindsight=hindsight, plain_keras_rl2=args.plain_keras_rl2, family=family)
    with checking_input(parser):
        if args.address is not None:
            check_address(args.address)
        if args.tensorboard is not None:
            writable_folder(args.tensorboard, '--tensorboard')
        check_output_folder(args.out, overwrite=args.overwrite)
    setup_logging()
    return run_reporting_failures(parser, args.out, lambda: evaluate(args, runs, env, hindsight))


def evaluate(args, runs, env, hindsight):
    """Train ``runs``, then write the summary, its table and the learning curves; the exit status."""
    interrupted = False
    try:
        outcome = run_all(runs, args.out, address=args.address, parallel=args.jobs, tensorboard_dir=args.tensorboard)
    except KeyboardInterrupt:
        interrupted, outcome = True, {run.label: None for run in runs if (args.out / run.label / 'result.json').is_file()}
    results = [load_result(args.out / run.label, seed, outcome[run.label]) if run.label in outcome
               else {'seed': seed, 'error': 'not run: interrupted'} for run, seed in zip(runs, args.seeds)]
    summary = summarise(results)
    world = ', '.join(f'{k}={v}' for k, v in env.items()) or 'default environment'
    where, date = f'the Ray cluster at {args.address}' if args.address else machine(), today()
    her = f" With hindsight experience replay ({' '.join(her_arguments(hindsight))})." if hindsight else ''
    update = " On keras-rl2's own update (--plain-keras-rl2)." if args.plain_keras_rl2 else ''
    family = family_settings(args)
    update += f" Trained for the family with {' '.join(family_arguments(family))}." if family else ''
    text = f'Rounding world: {world}. Measured on {date}, on {where}.{her}{update}\n\n' + table(results, summary)
    draw_learning_curves(results, args.out / 'learning_curves.png', f'Fixed agent, {len(results)} seeds ({world})')
    write_json(args.out / 'summary.json', {'environment': env, 'machine': where, 'date': date,
                                           'her': hindsight.record() if hindsight else None,
                                           'plain_keras_rl2': args.plain_keras_rl2,
                                           **{option: family.get(option) for option in FAMILY_OPTIONS},
                                           'summary': summary,
                                           'seeds': results})
    write_atomic(args.out / 'summary.md', lambda f: f.write((text + '\n').encode()))
    print(text)
    if interrupted:
        return 130
    return 0 if not summary['failed_to_run'] else 1


if __name__ == '__main__':
    sys.exit(main())
