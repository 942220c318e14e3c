"""``python -m stepsignal ablate``: which fixes matter, measured over seeds.

Leave-one-out (the default): the fixed setup, and for every fix with a switch
(``stepsignal.reverts``) the fixed setup with that one fix reverted, each over the seeds.
Written into OUT: ``ablation.md`` (the table, sorted from the fix whose loss hurts most),
``ablation.json`` (every number, every seed), ``ablation.png`` (success rate per reverted fix
with its 95% interval) and ``ablation_curves.png`` (the learning curves of the three fixes that
matter most beside the fixed setup's).

``--ladder``: start from the original's setup (every switch reverted) and add the fixes back one
at a time in ``LADDER_ORDER``, each rung over the seeds, up to the fixed setup. Written:
``ladder.md``, ``ladder.json``, ``ladder.png``.

Every run has the fixed setup's budget (``--steps``, default 5,000 environment steps), not the
question's 10: with 10 steps nothing learns, whatever is fixed. The runs go through Ray
(``stepsignal.experiments.runner``): two at a time here, or on a cluster with ``--address HOST:PORT``.
Each run's own files are in ``OUT/runs/<setup>/seed-N/``.
"""
import argparse
import logging
import statistics
import sys
from typing import NamedTuple

from fixed.hyperparameters import HYPERPARAMETERS
from shared.cli import (answer_renamed, command_parser, check_output_folder, checking_input, output_folder_argument, run_reporting_failures,
                        seeds_argument, setup_logging, steps_argument)
from shared.files import save_figure, write_atomic, write_json
from stepsignal.experiments.machine import machine, today
from stepsignal.rates import success_rate
from stepsignal.experiments.evaluate import (MOST_JOBS, jobs_argument, load_result, median_or_never, parse_env, seed_runs, steps_text)
from stepsignal.reverts import NOT_SWITCHABLE, REVERTS, SWITCHES, parse_fix_list
from stepsignal.experiments.runner import check_address, run_all

log = logging.getLogger(__name__)

LADDER_ORDER = (
    # 1. Make training happen at all: with the question's warmups not one gradient step runs.
    'FIX-4',
    # 2. Make the env's answer reachable and repeatable: the same action, the same signal (FIX-2),
    #    episodes that end (FIX-3), the whole range reachable (FIX-1), a filter that is right at
    #    the low cutoffs where the optimum is (FIX-8), bounds that do not land on Nyquist (FIX-7).
    'FIX-2', 'FIX-3', 'FIX-1', 'FIX-8', 'FIX-7',
    # 3. Let the agent see and act: a bounded actor (FIX-6), observations of order 1 (FIX-17),
    #    noise that explores (FIX-11), a critic target without a future the task does not have
    #    (FIX-22) and a reward whose size does not depend on the signal's length (FIX-21).
    'FIX-6', 'FIX-17', 'FIX-11', 'FIX-22', 'FIX-21',
    # 4. Let the critic resolve the action (FIX-23) and learn from what was really applied and
    #    remembered (FIX-18, FIX-5, FIX-12).
    'FIX-23', 'FIX-18', 'FIX-5', 'FIX-12',
    # 5. The improvements beyond the bugs, in the order they were found.
    'IMPROVEMENT-1', 'IMPROVEMENT-2', 'IMPROVEMENT-3',
)
"""The order the ladder adds the fixes back: the order of docs/index.md's story (why it is stuck)."""


class Setup(NamedTuple):
    label: str
    """Its name in tables and its folder under ``OUT/runs/``."""
    reverted: tuple
    """The switches reverted in it (empty: the fixed setup)."""
    title: str
    """What the setup is, in a few words."""


def leave_one_out(switches):
    return [Setup('fixed', (), 'the fixed setup')] + [
        Setup(key, (key,), REVERTS[key].title) for key in switches]


def ladder(switches):
    order = [key for key in LADDER_ORDER if key in switches]
    rungs = [Setup('original', tuple(order), 'every switch reverted: the original\'s setup, at the fixed budget')]
    for index, key in enumerate(order):
        rungs.append(Setup(f'+{key}', tuple(order[index + 1:]), f'adds {key} (what it ends: {REVERTS[key].title})'))
    return rungs


def summarise_setup(setup, results):
    finished = [r for r in results if 'error' not in r]
    rate = success_rate(sum(bool(r.get('success')) for r in finished), len(results))
    return {
        'label': setup.label,
        'reverted': list(setup.reverted),
        'title': setup.title,
        'success': rate.as_dict(),
        'success_text': str(rate),
        'median_l2': statistics.median(r['l2_distance'] for r in finished) if finished else None,
        'median_first_success_env_steps': median_or_never([r.get('first_success_env_steps') for r in finished]
                                                          + [None] * (len(results) - len(finished))),
        'failed_to_run': len(results) - len(finished),
        'seeds': [{key: r.get(key) for key in ('seed', 'success', 'l2_distance', 'cutoff_hz', 'offset',
                                               'first_success_env_steps', 'error')} for r in results],
        'curve': median_curve(finished),
    }


def median_curve(results):
    """The median over seeds of the noise-free policy's L2 at each check: ``[(env_steps, l2), ...]``."""
    curves = [r['checks'] for r in results if r.get('checks')]
    if not curves:
        return []
    length = min(len(c) for c in curves)
    return [(curves[0][i]['env_steps'], statistics.median(c[i]['l2_distance'] for c in curves)) for i in range(length)]


def l2_text(value):
    return '-' if value is None else f'{value:.3g}'


def rows(summaries):
    lines = ['| setup | what it does | success (95% CI) | median final L2 | median env steps to first success | '
             'failed to run |', '|---|---|---|---|---|---|']
    for s in summaries:
        lines.append(f"| {s['label']} | {s['title']} | {s['success_text']} | {l2_text(s['median_l2'])} | "
                     f"{steps_text(s['median_first_success_env_steps'])} | {s['failed_to_run']} |")
    return lines


def hurt_order(summaries):
    """From the setup that learns worst: lowest success rate, then highest median final L2."""
    return sorted(summaries, key=lambda s: (s['success']['rate'], -(s['median_l2'] or 0.0)))


def about_the_run(args, kind):
    return {
        'command': 'python -m stepsignal ablate ' + ' '.join(args.argv),
        'kind': kind,
        'date': today(),
        'machine': machine(),
        'seeds': args.seeds,
        'steps': args.steps or HYPERPARAMETERS.nb_steps,
        'environment': dict(args.env),
    }


def header(about, title):
    world = ', '.join(f'{k}={v}' for k, v in about['environment'].items()) or 'the default rounding world'
    return [f'# {title}', '',
            f"Made by `{about['command']}` on {about['date']} ({about['machine']}; {world}). Seeds "
            f"{format_seeds(about['seeds'])}; every run has {about['steps']:,} environment steps "
            + ("(the fixed setup's budget, " if about['steps'] == HYPERPARAMETERS.nb_steps
               else f"(the fixed setup's budget is {HYPERPARAMETERS.nb_steps:,}; ")
            + "not the question's 10: with 10 steps nothing learns, whatever is fixed). Success is the "
            "question's: the kept noise-free policy's L2 distance to the goal below 1.0."
            + (' **Interrupted**: runs that had not finished count as failed to run.' if about.get('interrupted')
               else ''), '']


def format_seeds(seeds):
    return f'{seeds[0]}-{seeds[-1]}' if seeds == list(range(seeds[0], seeds[-1] + 1)) else ', '.join(map(str, seeds))


def write_leave_one_out(out, about, summaries):
    fixed = summaries[0]
    ordered = hurt_order(summaries[1:])
    lines = header(about, 'Which fixes matter: the fixed setup with one fix reverted')
    lines += ['Each row is the fixed setup with the one fix in its first column undone (the original\'s '
              'behaviour for it, `python -m stepsignal train --revert N`), every other fix in place; sorted from the '
              'fix whose loss hurts most.', '']
    lines += rows([fixed] + ordered)
    lines += ['', '![success rate per reverted fix](ablation.png)', '',
              '![learning curves of the fixes that matter most](ablation_curves.png)', '',
              'Fixes without a switch, and why:', '']
    lines += [f'- {key}: {reason}.' for key, reason in NOT_SWITCHABLE.items()]
    write_atomic(out / 'ablation.md', lambda handle: handle.write(('\n'.join(lines) + '\n').encode()))
    write_json(out / 'ablation.json', {**about, 'setups': summaries,
                                       'not_switchable': NOT_SWITCHABLE})
    draw_rates(out / 'ablation.png', [fixed] + ordered, 'Success rate with one fix reverted',
               'reverted fix (the fixed setup at the top, then the costliest loss)')
    draw_curves(out / 'ablation_curves.png', [fixed] + ordered[:3])


def write_ladder(out, about, summaries):
    lines = header(about, 'The fix ladder: from the original\'s setup to the fixed one, one fix at a time')
    lines += ['The first rung is the fixed code with every switch reverted: the original\'s setup at the fixed '
              'budget (the fixes without a switch change nothing a run measures; see ablation.md). Each next rung '
              'adds one fix back, in the order of `stepsignal.experiments.ablation.LADDER_ORDER`: first what makes training '
              'happen at all, then what makes the env\'s answer reachable and repeatable, then what lets the agent '
              'see and act, then what lets the critic resolve the action, then the improvements. The last rung is '
              'the fixed setup.', '']
    lines += rows(summaries)
    lines += ['', 'Rungs without IMPROVEMENT-1 check the policy once, at the end of the run: their steps to the '
              'first success are the whole budget when that one check succeeds.', '',
              '![success rate per rung](ladder.png)']
    write_atomic(out / 'ladder.md', lambda handle: handle.write(('\n'.join(lines) + '\n').encode()))
    write_json(out / 'ladder.json', {**about, 'rungs': summaries, 'order': list(LADDER_ORDER)})
    draw_rates(out / 'ladder.png', summaries[::-1], 'The fix ladder: success rate per rung',
               'rung (the original\'s setup at the bottom; each rung above adds one fix)')


def draw_rates(path, summaries, title, ylabel):
    """``rates_figure``, written to ``path``."""
    import matplotlib.pyplot as plt

    figure = rates_figure(summaries, title, ylabel)
    save_figure(figure, path)
    plt.close(figure)


def rates_figure(summaries, title, ylabel):
    """One bar per summary, its success rate with its 95% CI, the first summary at the top."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 0.9 + 0.32 * len(summaries)))
    for row, s in enumerate(summaries):
        rate = s['success']
        colour = 'C2' if s['label'] == 'fixed' else 'C0'
        axis.barh(row, 100 * rate['rate'], color=colour, alpha=0.75)
        axis.errorbar(100 * rate['rate'], row, xerr=[[100 * (rate['rate'] - rate['ci95_low'])],
                                                     [100 * (rate['ci95_high'] - rate['rate'])]],
                      color='k', capsize=3, linewidth=1)
    axis.set_yticks(range(len(summaries)), [s['label'] for s in summaries])
    axis.set(xlim=(0, 100), xlabel=f"seeds that succeed, % (of {summaries[0]['success']['trials']}; bars: 95% CI)",
             ylabel=ylabel, title=title)
    axis.grid(axis='x', alpha=0.3)
    axis.invert_yaxis()  # row 0, the first summary, at the top: the order the table reads in
    figure.tight_layout()
    return figure


def draw_curves(path, summaries):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4))
    for index, s in enumerate(summaries):
        if not s['curve']:
            continue
        steps, distances = zip(*s['curve'])
        label = 'the fixed setup' if s['label'] == 'fixed' else f"{s['label']} reverted"
        style = dict(marker='o', linestyle='none') if len(steps) == 1 else {}
        axis.plot(steps, distances, color=f'C{index}', label=label, **style)
    axis.axhline(1.0, color='red', linestyle='--', label='success: L2 < 1.0')
    axis.set(yscale='log', xlabel='environment steps (training and policy checks)',
             ylabel='median L2 at each policy check',
             title='Each check\'s L2, median over the seeds (the table keeps each run\'s best check)')
    axis.legend(fontsize='small', loc='center right')
    axis.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    example = '\nExample:\n  python -m stepsignal ablate --seeds 0-9 --revert 4,6,23 --out results/ablation\n'
    parser = command_parser('python -m stepsignal ablate', __doc__ + example)
    answer_renamed(parser, argv, {'--fixes': '--revert'})
    parser.add_argument('--out', type=output_folder_argument, required=True, help='folder for the report and every run')
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'), help='seeds, like 0-9 (default)')
    parser.add_argument('--steps', type=steps_argument, default=None,
                        help='environment steps per run (default: the fixed setup\'s, 5000)')
    parser.add_argument('--ladder', action='store_true', help='the fix ladder instead of leave-one-out')
    parser.add_argument('--revert', type=fix_list_argument, default=SWITCHES, metavar='4,6,23',
                        help='the switches to try, each reverted alone (with --ladder: the rungs) (default: all '
                             'of them); the same list as python -m stepsignal train --revert takes')
    parser.add_argument('--resume', action='store_true',
                        help='keep the runs already in OUT that match this grid (seed, steps, reverted fixes) '
                             'and run only the others: to go on after Ctrl-C')
    parser.add_argument('--overwrite', action='store_true',
                        help='--out may hold an earlier ablation: remove what it wrote first (without this or '
                             '--resume, it is refused)')
    parser.add_argument('--address', metavar='HOST:PORT', help='run on this Ray cluster instead of this machine')
    parser.add_argument('--jobs', type=jobs_argument, default=2,
                        help=f'runs at once on this machine (default 2, one per core; at most {MOST_JOBS})')
    parser.add_argument('--env', type=parse_env, action='append', default=[], metavar='NAME=VALUE',
                        help='an environment variable for every run, such as TF_ENABLE_ONEDNN_OPTS=0')
    args = parser.parse_args(argv)
    args.argv = argv
    if args.resume and args.overwrite:
        parser.error('--resume keeps the runs in --out and --overwrite removes them: give one of the two')
    with checking_input(parser):
        if args.address is not None:
            check_address(args.address)
        check_output_folder(args.out, overwrite=args.overwrite, resume=args.resume)
    setup_logging()
    return run_reporting_failures(parser, args.out, lambda: ablate(args))


def ablate(args):
    """Train every run of the grid (those not kept by ``--resume``), then write the report; the exit status."""
    setups = ladder(args.revert) if args.ladder else leave_one_out(args.revert)
    runs = [run for setup in setups
            for run in seed_runs(args.seeds, args.steps, env=dict(args.env), revert=setup.reverted,
                                 prefix=f'runs/{setup.label}/')]
    if args.resume:
        done = [run for run in runs if finished_as_planned(args.out / run.label, run, args.steps)]
        log.info('resuming: %d of %d runs are already in %s', len(done), len(runs), args.out)
        runs = [run for run in runs if run not in done]
    log.info('%d setups x %d seeds', len(setups), len(args.seeds))
    interrupted = False
    try:
        outcome = run_all(runs, args.out, address=args.address, parallel=args.jobs)
    except KeyboardInterrupt:
        interrupted, outcome = True, {}
    summaries = []
    for setup in setups:
        results = [load_result(args.out / 'runs' / setup.label / f'seed-{seed}', seed,
                               outcome.get(f'runs/{setup.label}/seed-{seed}'))
                   for seed in args.seeds]
        summaries.append(summarise_setup(setup, results))
    about = about_the_run(args, 'ladder' if args.ladder else 'leave-one-out')
    if interrupted:
        about['interrupted'] = True
    (write_ladder if args.ladder else write_leave_one_out)(args.out, about, summaries)
    log.info('wrote %s', args.out / ('ladder.md' if args.ladder else 'ablation.md'))
    return 130 if interrupted else 0


def finished_as_planned(folder, run, steps):
    """True if ``folder`` holds a finished run with the seed, budget and reverted fixes ``run`` asks for."""
    import json

    try:
        result = json.loads((folder / 'result.json').read_text())
    except (OSError, ValueError):
        return False
    arguments = list(run.arguments)
    seed = int(arguments[arguments.index('--seed') + 1])
    reverted = arguments[arguments.index('--revert') + 1].split(',') if '--revert' in arguments else []
    return (result.get('seed') == seed and result.get('steps') == (steps or HYPERPARAMETERS.nb_steps)
            and sorted(result.get('reverted', [None])) == sorted(reverted) and not result.get('interrupted'))


def fix_list_argument(text):
    try:
        keys = parse_fix_list(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if not keys:
        raise argparse.ArgumentTypeError('give at least one fix, like 4,6,23')
    return keys
