"""Stable-Baselines3's TD3 and SAC tuned as rl-baselines3-zoo tunes them, for the peers' comparison.

The zoo's way: an Optuna study per algorithm over the zoo's own search space for it (its
hyperparams_opt.py: gamma, learning rate, batch, buffer, tau, train frequency with as many
gradient steps, the network, and TD3's noise or SAC's start and log-std), a TPE sampler whose first
trials are random, each trial one training run on the env as it is (no observation scaling), scored
by its policy. Here each trial is the peers' protocol (stepsignal.experiments.peers): 5,000
environment steps on random step scenarios, checks included, the best noise-free policy kept; its
value is the share of VALIDATION_SCENARIOS scenarios it solves (seeds from VALIDATION_SEED:
neither the never-seen scenarios that score the peers nor the checks'), the median L2 breaking ties.
Trial n trains with seed FIRST_TRIAL_SEED + n, so no seed that scores is tuned on. A trial still
running after --trial-minutes is stopped and counted as pruned (the zoo prunes too, on its
intermediate evaluations): the space holds settings that train at one step a second here.

    python -m stepsignal.experiments.tune_peers --trials 16 --out DIR

Two trials at a time, each in a process of its own; DIR/results.json keeps every trial as it ends
(the same command resumes and adds trials up to --trials; --start-from an earlier study's
numbers goes on from them), DIR/report.md the best settings and each trial. python -m stepsignal.experiments.peers --tuned DIR/results.json scores the best.
"""
import json
import logging
import sys
import threading
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

from fixed.hyperparameters import HYPERPARAMETERS
from shared.checks import BadInput, positive_number
from shared.cli import (NUMBERS, REPORT, answer_a_page_for_out, check_output_folder, checking_input, command_parser,
                        output_folder_argument, setup_logging, shown, steps_argument)
from shared.files import write_json
from stepsignal.experiments.evaluate import jobs_argument
from stepsignal.experiments.kept_runs import earlier_file, earlier_numbers, finish, require_bench
from stepsignal.experiments.machine import machine, today
from stepsignal.experiments.peers import ALGORITHMS, VALIDATION_SCENARIOS, VALIDATION_SEED, run_in_child

log = logging.getLogger(__name__)

FIRST_TRIAL_SEED = 100
"""Trial n trains with seed 100 + n; the peers are scored on seeds 0-9."""
RANDOM_TRIALS = 10
"""Trials the sampler draws at random before it models the results (the zoo's default)."""
TRIAL_MINUTES = 10.0
"""Wall-clock minutes a trial may run before it is stopped and counted as pruned."""
GAMMAS = [0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999]
ZOO_SPACES = {
    'TD3': {'gamma': ('categorical', GAMMAS), 'learning_rate': ('log', 1e-5, 1.0),
            'batch_size': ('categorical', [16, 32, 64, 100, 128, 256, 512, 1024, 2048]),
            'buffer_size': ('categorical', [10_000, 100_000, 1_000_000]),
            'tau': ('categorical', [0.001, 0.005, 0.01, 0.02, 0.05, 0.08]),
            'train_freq': ('categorical', [1, 4, 8, 16, 32, 64, 128, 256, 512]),
            'noise_type': ('categorical', ['ornstein-uhlenbeck', 'normal', None]), 'noise_std': ('uniform', 0.0, 1.0),
            'net_arch': ('categorical', ['small', 'medium', 'big'])},
    'SAC': {'gamma': ('categorical', GAMMAS), 'learning_rate': ('log', 1e-5, 1.0),
            'batch_size': ('categorical', [16, 32, 64, 128, 256, 512, 1024, 2048]),
            'buffer_size': ('categorical', [10_000, 100_000, 1_000_000]),
            'learning_starts': ('categorical', [0, 1000, 10000, 20000]),
            'train_freq': ('categorical', [1, 4, 8, 16, 32, 64, 128, 256, 512]),
            'tau': ('categorical', [0.001, 0.005, 0.01, 0.02, 0.05, 0.08]), 'log_std_init': ('uniform', -4.0, 1.0),
            'net_arch': ('categorical', ['small', 'medium', 'big'])},
}
"""rl-baselines3-zoo's search spaces for TD3 and SAC, as its ``hyperparams_opt.py`` samples them
(gradient steps = train frequency; ``peers.zoo_model`` turns a sample into SB3's arguments)."""


def distributions(algorithm):
    """``ZOO_SPACES[algorithm]`` as Optuna's distributions."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    found = {}
    for name, (kind, *values) in ZOO_SPACES[algorithm].items():
        found[name] = (CategoricalDistribution(values[0]) if kind == 'categorical' else
                       FloatDistribution(*values, log=kind == 'log'))
    return found


def trial_value(row):
    """A trial's score: the share of validation scenarios solved, less a thousandth of the median L2
    (at most 100), so that between equal shares the closer answers win; None for a failed run."""
    if 'error' in row:
        return None
    validation = row['validation']
    return validation['success_rate'] - 1e-3 * min(validation['median_l2'], 100.0)


def trial_state(trial):
    """A kept trial's Optuna state: pruned when stopped at the time budget, failed without a value."""
    from optuna.trial import TrialState

    if trial['row'].get('timed_out'):
        return TrialState.PRUNED
    return TrialState.FAIL if trial['value'] is None else TrialState.COMPLETE


def study_of(algorithm, trials):
    """An Optuna study for ``algorithm`` that knows ``trials`` (the kept ones, in order).

    The sampler's seed is the number of kept trials: a new study is repeatable, and a resumed one
    draws on from there instead of drawing its first trials' settings again."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(n_startup_trials=RANDOM_TRIALS, seed=len(trials))
    study = optuna.create_study(direction='maximize', sampler=sampler)
    space = distributions(algorithm)
    for trial in trials:
        study.add_trial(optuna.trial.create_trial(params=trial['params'], distributions=space, value=trial['value'],
                                                  state=trial_state(trial)))
    return study


def best_trial(trials):
    """The trial with the highest value (the first of equals), or None."""
    done = [trial for trial in trials if trial['value'] is not None]
    return max(done, key=lambda trial: trial['value']) if done else None


def training_minutes(row):
    """How long a finished trial trained, in minutes (from its steps and speed)."""
    return row['training_steps'] / row['steps_per_second'] / 60


def page(results, command):
    """The Markdown report: the best settings per algorithm, then every trial."""
    lines = ['# Stable-Baselines3 tuned as rl-baselines3-zoo tunes, for the peers', '',
             f'Measured {results["date"]} on {results["machine"]} with `{command}`. Each trial: the zoo\'s '
             f'search space, {results["steps"]:,} environment steps on random step scenarios (checks included, the '
             f'best policy kept), scored on {VALIDATION_SCENARIOS} validation scenarios (seeds {VALIDATION_SEED:,} '
             f'on), trial n trained with seed {FIRST_TRIAL_SEED} + n; TPE, its first {RANDOM_TRIALS} trials random '
             f'(stepsignal/experiments/tune_peers.py). A trial still running after {results["trial_minutes"]:g} '
             'minutes is stopped and counted as pruned.', '']
    for algorithm in ALGORITHMS:
        trials = results['trials'].get(algorithm, [])
        if not trials:
            continue
        best = best_trial(trials)
        stopped = [trial for trial in trials if trial['row'].get('timed_out')]
        failed = sum(trial['value'] is None for trial in trials) - len(stopped)
        lines += [f'## {algorithm}: {len(trials)} trials' + (f', {len(stopped)} stopped at the time budget' if stopped else '')
                  + (f', {failed} failed to run' if failed else ''), '']
        repeats = [(trial['number'], earlier['number']) for index, trial in enumerate(trials)
                   for earlier in trials[:index] if earlier['params'] == trial['params']]
        if repeats:
            lines += ['The same settings on another seed: ' + ', '.join(
                f'trial {number} repeats trial {earlier}' for number, earlier in repeats) + '.', '']
        unlearned = [trial for trial in trials if 'error' not in trial['row']
                     and trial['params'].get('learning_starts', 0) >= trial['row']['training_steps']]
        if unlearned:
            lines += [f"Never trained (learning_starts at or beyond the run's {unlearned[0]['row']['training_steps']:,} "
                      'training steps, so the policy scored is the untrained one): '
                      + ('trial ' if len(unlearned) == 1 else 'trials ')
                      + ', '.join(str(trial['number']) for trial in unlearned) + '.', '']
        longer = [trial for trial in trials if trial['value'] is not None
                  and training_minutes(trial['row']) > results['trial_minutes']]
        if longer:  # kept from a study that ran before the budget was set, or a slower machine's
            lines += ['Ran to the end for longer than the budget: ' + ', '.join(
                f"trial {trial['number']} ({training_minutes(trial['row']):.0f} minutes of training)" for trial in longer)
                + '.', '']
        if best is not None:
            lines += [f"Best: trial {best['number']}, validation scenarios solved "
                      f"{best['row']['validation']['success_text']}, median L2 {best['row']['validation']['median_l2']:.3g}: "
                      f"`{json.dumps(best['params'])}`", '']
        lines += ['| trial | seed | validation solved | median L2 | steps/s | settings |', '|---|---|---|---|---|---|']
        for trial in trials:
            row = trial['row']
            if row.get('timed_out'):
                lines.append(f"| {trial['number']} | {row['seed']} | stopped at {results['trial_minutes']:g} minutes | | | "
                             f"`{json.dumps(trial['params'])}` |")
                continue
            if 'error' in row:
                lines.append(f"| {trial['number']} | {row['seed']} | failed: {row['error'][:80]} | | | "
                             f"`{json.dumps(trial['params'])}` |")
                continue
            validation = row['validation']
            lines.append(f"| {trial['number']} | {row['seed']} | {validation['success_rate']:.0%} | "
                         f"{validation['median_l2']:.3g} | {row['steps_per_second']:.0f} | `{json.dumps(trial['params'])}` |")
        lines.append('')
    return '\n'.join(lines)


def tune(algorithm, results, wanted, jobs, steps, save):
    """Run ``algorithm``'s trials up to ``wanted`` in all, ``jobs`` at a time, keeping each in
    ``results`` (then ``save()``) as it ends."""
    trials = results['trials'].setdefault(algorithm, [])
    study = study_of(algorithm, trials)
    lock = threading.Lock()

    def run(trial):
        row = run_in_child(f'{algorithm}-zoo', 'scenarios', FIRST_TRIAL_SEED + trial.number, steps,
                           trial.params, validation=True, timeout=60 * results['trial_minutes'])
        kept = {'number': trial.number, 'params': trial.params, 'value': trial_value(row), 'row': row}
        log.info('%s trial %d: %s', algorithm, trial.number,
                 row.get('error') or f"validation solved {row['validation']['success_rate']:.0%}")
        with lock:
            study.tell(trial, kept['value'], state=trial_state(kept))
            trials.append(kept)
            trials.sort(key=lambda kept: kept['number'])
            save()

    space = distributions(algorithm)
    with ThreadPoolExecutor(jobs) as pool:
        while len(trials) < wanted:
            with lock:  # ask as many as run at once: the sampler sees every result told so far
                batch = [study.ask(space) for _ in range(min(jobs, wanted - len(trials)))]
            list(pool.map(run, batch))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = command_parser('python -m stepsignal.experiments.tune_peers', __doc__)
    parser.add_argument('--trials', type=int, default=16, help='trials per algorithm in all (default 16)')
    parser.add_argument('--steps', type=steps_argument, default=HYPERPARAMETERS.nb_steps,
                        help=f'environment steps of every trial, checks included (default {HYPERPARAMETERS.nb_steps})')
    parser.add_argument('--trial-minutes', default=TRIAL_MINUTES, metavar='MINUTES',
                        help=f'wall-clock minutes a trial may run before it is stopped and counted as pruned '
                             f'(default {TRIAL_MINUTES:g})')
    parser.add_argument('--jobs', type=jobs_argument, default=2, help='trials at a time (default 2)')
    parser.add_argument('--algorithms', default=','.join(ALGORITHMS), help='TD3,SAC (default) or one of them')
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'the folder the study owns: DIR/{NUMBERS} as the trials end (the same command '
                             f'resumes from it), DIR/{REPORT} at the end')
    parser.add_argument('--start-from', type=Path, metavar='FILE',
                        help=f'an earlier study\'s {NUMBERS} (such as the kept benchmarks/peers/tuned/{NUMBERS}): its '
                             'trials count as run, and the new ones are added to them in DIR')
    parser.add_argument('--page-only', action='store_true', help=f'run nothing: write DIR/{REPORT} from the trials so far')
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    with checking_input(parser):
        algorithms = [name.strip() for name in args.algorithms.split(',') if name.strip()]
        if not algorithms or any(name not in ALGORITHMS for name in algorithms):
            raise BadInput(f'--algorithms {args.algorithms!r}: give TD3, SAC or TD3,SAC')
        if args.trials < 1:
            raise BadInput(f'--trials {args.trials}: give at least 1')
        if not args.page_only:
            require_bench('optuna', 'stable_baselines3')
        results = earlier_numbers(args.out, args.start_from,
                                  {'machine': machine(), 'date': today(), 'steps': args.steps, 'trials': {}},
                                  holds=lambda found: isinstance(found['trials'], dict) and isinstance(found['steps'], int))
        minutes = positive_number(args.trial_minutes, '--trial-minutes', 'minutes')
        results.setdefault('trial_minutes', minutes)  # a study kept before the budget existed takes this one
        for option, key, given in (('--steps', 'steps', args.steps), ('--trial-minutes', 'trial_minutes', minutes)):
            if results[key] != given:  # a study's trials are comparable only under one rule
                raise BadInput(f'{shown(earlier_file(args.out, args.start_from))} holds trials run with {option} '
                               f'{results[key]:g}: give {option} {results[key]:g} or start a new study')
        check_output_folder(args.out, resume=True)
    setup_logging()
    if not args.page_only:
        for algorithm in algorithms:
            tune(algorithm, results, args.trials, args.jobs, args.steps, lambda: write_json(args.out / NUMBERS, results))
    return finish(args.out, results, 'stepsignal.experiments.tune_peers', argv, lambda command: page(results, command))


if __name__ == '__main__':
    sys.exit(main())
