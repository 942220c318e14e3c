"""``python -m stepsignal.experiments.hindsight``: what hindsight experience replay (IMPROVEMENT-5) buys.

Trains the fixed agent with and without ``--her`` on the same seeds: on the random step scenarios
at each of ``--budgets`` (success on 100 never-seen scenarios per seed), and on the question's own
scenario at ``--question-steps`` over ``--question-seeds`` (HER must not cost it success). Each
set is one ``python -m stepsignal evaluate`` run into ``OUT/<her|plain>-<scenarios|question>-<steps>``;
a set whose ``summary.json`` is already there is read, not trained again, so an interrupted
measurement goes on where it stopped. Written into OUT: ``report.md`` (the tables), ``results.json``
(every number), ``her.png`` (unseen success against the budget, and the learning curves).

``--env NAME=VALUE`` measures in another rounding world (``TF_ENABLE_ONEDNN_OPTS=0``).
"""
import json
import logging
import statistics
import sys
from pathlib import Path

from shared.cli import (NUMBERS, REPORT, answer_a_page_for_out, check_output_folder, checking_input, command_parser,
                        output_folder_argument, seeds_argument, setup_logging)
from shared.files import list_before_writing, save_figure, write_atomic, write_json
from stepsignal.experiments.evaluate import main as evaluate, parse_env
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)

BAR = 0.95
"""The share of never-seen scenarios each seed should solve (docs/her.md's bar, at 5,000 steps with HER)."""


def set_folder(out, her, kind, steps):
    return Path(out) / f"{'her' if her else 'plain'}-{kind}-{steps}"


def measured_set(out, her, kind, steps, seeds, env, jobs):
    """One set's summary (``evaluate``'s ``summary.json``) with its seeds' results in ``seeds``'
    order, trained now unless the summary is already there."""
    folder = set_folder(out, her, kind, steps)
    if not (folder / 'summary.json').is_file():
        arguments = ['--seeds', ','.join(map(str, seeds)), '--steps', str(steps), '--out', str(folder),
                     '--jobs', str(jobs), '--overwrite'] + (['--random-scenarios'] if kind == 'scenarios' else [])
        arguments += ['--her'] if her else []
        for name, value in env.items():
            arguments += ['--env', f'{name}={value}']
        log.info('training: %s', ' '.join(arguments))
        list_before_writing(folder, folder=True)  # a run folder of its own, inside the measurement's
        evaluate(arguments)
    summary = json.loads((folder / 'summary.json').read_text())
    found = {r['seed']: r for r in summary['seeds']}
    missing = [seed for seed in seeds if seed not in found or 'error' in found[seed]]
    if missing:
        raise RuntimeError(f'{folder}: seeds {missing} did not finish; run again to retry them')
    return {**summary, 'seeds': [found[seed] for seed in seeds]}


def unseen_row(results):
    rates = [r['unseen']['success_rate'] for r in results]
    at_bar = sum(rate >= BAR for rate in rates)
    return {'rates': rates, 'lowest': min(rates), 'median': statistics.median(rates), 'highest': max(rates),
            'seeds_at_bar': at_bar, 'seeds_at_bar_text': str(success_rate(at_bar, len(rates))),
            'pooled_text': str(success_rate(round(sum(rates) * 100), 100 * len(rates))),
            'train_seconds_median': statistics.median(r['train_seconds'] for r in results)}


def percent(value):
    return f'{100 * value:.0f}%'


def tables(measured, seeds, question):
    """The page's tables: the never-seen scenarios per budget and per seed, and the question's scenario."""
    lines = []
    if measured['scenarios']:
        lines += ['## Never-seen scenarios', '',
                  'Per seed, the share of the 100 never-seen scenarios (seeds 1,000,000 to 1,000,099) that its kept '
                  'policy solves (L2 < 1.0); "seeds at 95%": how many seeds solve at least 95 of them, with the 95% '
                  'interval of that count; "pooled": all scenarios of all seeds together.', '',
                  '| steps | HER | lowest | median | highest | seeds at 95% | pooled | training (median s) |',
                  '|---|---|---|---|---|---|---|---|']
        for steps, pair in measured['scenarios'].items():
            for her in (False, True):
                row = pair['her' if her else 'plain']
                lines.append(f"| {int(steps):,} | {'yes' if her else 'no'} | {percent(row['lowest'])} | "
                             f"{percent(row['median'])} | {percent(row['highest'])} | {row['seeds_at_bar_text']} | "
                             f"{row['pooled_text']} | {row['train_seconds_median']:.0f} |")
        lines += ['', 'Each seed (share of never-seen scenarios solved, without HER / with HER):', '',
                  '| seed | ' + ' | '.join(f'{int(steps):,} steps' for steps in measured['scenarios']) + ' |',
                  '|---|' + '---|' * len(measured['scenarios'])]
        for i, seed in enumerate(seeds):
            cells = [f"{percent(pair['plain']['rates'][i])} / {percent(pair['her']['rates'][i])}"
                     for pair in measured['scenarios'].values()]
            lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
        lines.append('')
    if question:
        lines += ["## The question's own scenario", '',
                  '| steps | HER | seeds solved (L2 < 1.0) | median L2 |', '|---|---|---|---|']
        for her in (False, True):
            q = question['her' if her else 'plain']
            lines.append(f"| {question['steps']:,} | {'yes' if her else 'no'} | {q['success_text']} | "
                         f"{q['median_l2']:.3f} |")
    return lines


def draw(measured, largest, path, world):
    """Unseen success against the budget (each seed a dot, the median a line), and the learning
    curves (median check L2 against env steps) of the largest budget, whose seeds' results
    ``largest`` holds by ``'her'`` and ``'plain'``."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    budgets = [int(steps) for steps in measured['scenarios']]
    places = np.arange(len(budgets))  # the budgets side by side, evenly
    for her, colour, shift in ((False, 'C0', -0.08), (True, 'C1', 0.08)):
        key, label = ('her', 'with HER (k 4, future)') if her else ('plain', 'without HER')
        rates = np.array([measured['scenarios'][str(b)][key]['rates'] for b in budgets]) * 100
        for i in places:
            left.scatter(np.full(rates.shape[1], i + shift), rates[i], color=colour, alpha=0.5, s=14)
        left.plot(places + shift, np.median(rates, axis=1), color=colour, marker='o',
                  label=f'{label}: each seed, and their median')
        curves = [r['checks'] for r in largest[key] if r.get('checks')]
        length = min(len(c) for c in curves)
        steps = [c['env_steps'] for c in curves[0][:length]]
        distances = np.array([[c['l2_distance'] for c in curve[:length]] for curve in curves])
        right.fill_between(steps, distances.min(axis=0), distances.max(axis=0), color=colour, alpha=0.15)
        right.plot(steps, np.median(distances, axis=0), color=colour, label=f'{label}: median, and best to worst')
    left.axhline(100 * BAR, color='r', linestyle='--', label='95%')
    left.set(xticks=places, xticklabels=[f'{b:,}' for b in budgets], xlim=(-0.5, len(budgets) - 0.5),
             xlabel='environment steps (a run per seed at each budget)',
             ylabel='never-seen scenarios solved (%)', title=f'Each seed, 100 never-seen scenarios ({world})')
    lowest = min(min(pair[key]['rates']) for pair in measured['scenarios'].values() for key in ('her', 'plain'))
    left.set_ylim(100 * lowest - 14, 101)  # room under the dots for the legend
    left.legend(fontsize='small', loc='lower right')
    right.axhline(1.0, color='r', linestyle='--', label='success: L2 < 1.0')
    right.set(yscale='log', xlabel='environment steps', ylabel='median L2 over the 30 check scenarios',
              title=f'Learning curves at {budgets[-1]:,} steps')
    right.legend(fontsize='small')
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def main(argv=None):
    parser = command_parser('python -m stepsignal.experiments.hindsight', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'))
    parser.add_argument('--budgets', type=int, nargs='*', default=[2000, 5000, 15000],
                        help='steps of the random-scenario sets (none: only the question\'s scenario)')
    parser.add_argument('--question-seeds', type=seeds_argument, default=seeds_argument('0-19'))
    parser.add_argument('--question-steps', type=int, default=5000, help='0: leave the question\'s scenario out')
    parser.add_argument('--env', type=parse_env, action='append', default=[], metavar='NAME=VALUE')
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'the folder the measurement owns: each set\'s runs (a set measured is not measured '
                             f'again: the same command resumes), then DIR/{REPORT}, DIR/{NUMBERS} and her.png')
    argv = list(sys.argv[1:] if argv is None else argv)
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    if not args.budgets and not args.question_steps:
        parser.error('nothing to measure: give --budgets, or --question-steps above 0')
    with checking_input(parser):  # a set measured is kept and not measured again: --out is always resumed
        check_output_folder(args.out, resume=True)
    setup_logging()
    env = dict(args.env)
    measured = {'seeds': args.seeds, 'environment': env, 'scenarios': {}}
    sets = {}  # (her, steps) -> the set's summary
    for steps in args.budgets:
        for her in (False, True):
            sets[her, steps] = measured_set(args.out, her, 'scenarios', steps, args.seeds, env, args.jobs)
        measured['scenarios'][str(steps)] = {('her' if her else 'plain'): unseen_row(sets[her, steps]['seeds'])
                                             for her in (False, True)}
    question = None
    if args.question_steps:
        question = {'steps': args.question_steps, 'seeds': args.question_seeds}
        for her in (False, True):
            sets[her, 'question'] = measured_set(args.out, her, 'question', args.question_steps, args.question_seeds,
                                                 env, args.jobs)
            results = sets[her, 'question']['seeds']
            rate = success_rate(sum(r['success'] for r in results), len(results))
            question['her' if her else 'plain'] = {'success': rate.as_dict(), 'success_text': str(rate),
                                                   'median_l2': statistics.median(r['l2_distance'] for r in results)}
        measured['question'] = question
    first = next(iter(sets.values()))  # the date and machine of the first set measured
    world = ', '.join(f'{k}={v}' for k, v in env.items()) or 'default rounding world'
    command = 'python -m stepsignal.experiments.hindsight ' + ' '.join(argv)
    where = 'the random scenarios' if args.budgets else "the question's scenario"
    text = '\n'.join([f'# Hindsight experience replay on {where} ({world})', '',
                      f"Measured with `{command}` on {first['date']}, on {first['machine']}. HER: "
                      f"`--her`, strategy future, k 4 (80% of each batch relabelled).", ''] +
                     tables(measured, args.seeds, question) +
                     (['', '![unseen success and learning curves](her.png)'] if args.budgets else []) + [''])
    if args.budgets:
        largest = args.budgets[-1]
        draw(measured, {('her' if her else 'plain'): sets[her, largest]['seeds'] for her in (False, True)},
             args.out / 'her.png', world)
    write_json(args.out / NUMBERS, measured)
    write_atomic(args.out / REPORT, lambda f: f.write(text.encode()))
    log.info('wrote %s', args.out / REPORT)
    return 0


if __name__ == '__main__':
    sys.exit(main())
