"""Hindsight replay where it should help: the sparse-reward goal env, with and without HER.

docs/her.md measured HER on the question's env and found no help: a dense reward, one step per
answer. stepsignal.own_signal.sparse.SparseStepSignal is the setting HER was made for (a reward
of 0 or -1, a goal reached a knob move at a time). On it, per seed and budget, three agents, each
scored on the same 100 never-seen starts (scenario and knobs) by its kept policy's episode:

- fixed: the fixed agent (train_sparse), gamma 0.95, episodes of 50 steps;
- fixed --her: the same with hindsight replay (future, k = 4);
- SB3 SAC + HER: Stable-Baselines3's SAC with its HerReplayBuffer at rl-baselines3-zoo's
  settings for FetchReach, the 20,000-step goal task (ZOO_FETCHREACH), observations normalised
  as the zoo does (VecNormalize), the best policy kept by the same checks.

    python -m stepsignal.experiments.sparse_her --seeds 0-9 --budgets 2000,20000 --out DIR

Beside them, how sparse the reward is: uniformly random moves on 300 episodes (``sparse.random_moves``).
Each run is a process of its own, two at a time; DIR/results.json keeps every run as it ends (the
same command resumes), DIR/report.md the tables and DIR/sparse_her.png their figure.
"""
import argparse
import copy
import json
import logging
import sys
import tempfile
import time

import numpy as np

from shared.checks import BadInput
from shared.cli import (NUMBERS, REPORT, answer_a_page_for_out, check_output_folder, checking_input, command_parser,
                        output_folder_argument, seeds_argument, seeds_text, setup_logging, steps_argument)
from stepsignal.experiments.evaluate import jobs_argument
from stepsignal.experiments.kept_runs import (earlier_numbers, finish, measure_missing, median_first_success, require_bench,
                                              row_from_child)
from stepsignal.experiments.machine import machine, today
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)

METHODS = ('fixed', 'fixed-her', 'sb3-sac-her')
"""The agents compared: the fixed agent, the same with ``--her``, Stable-Baselines3's SAC with HER."""
NAMES = {'fixed': 'fixed', 'fixed-her': 'fixed --her', 'sb3-sac-her': 'SB3 SAC + HER (zoo)'}
ZOO_FETCHREACH = dict(buffer_size=1_000_000, ent_coef='auto', batch_size=256, gamma=0.95, learning_rate=1e-3,
                      learning_starts=1000)
"""rl-baselines3-zoo's SAC settings for FetchReach (hyperparams/her.yml), with ``n_sampled_goal`` 4,
``future`` goals and normalised observations."""


def fixed_sparse_run(seed, steps, her):
    """The fixed agent on the sparse family: a row (``seed``, ``steps``, ``unseen``, ..., and ``checks``:
    each check's environment steps so far and whether it reached all its starts)."""
    from fixed.extras import Extras
    from fixed.hindsight import Hindsight
    from stepsignal.own_signal.sparse import train_sparse

    with tempfile.TemporaryDirectory() as out:
        _, result = train_sparse(out, seed, steps, extras=Extras(hindsight=Hindsight() if her else None))
    row = {key: result[key] for key in ('seed', 'steps', 'success', 'l2_distance', 'steps_per_second',
                                        'first_success_env_steps', 'unseen')}
    return {**row, 'checks': [[check['env_steps'], check['success']] for check in result['checks']]}


class NormalisedSAC:
    """A SAC model and its ``VecNormalize`` as the kit's checks ask for an agent (``processor``,
    ``policy_action``), on the Dict observations of the unflattened env."""

    def __init__(self, model, normaliser):
        self.model, self.normaliser, self.processor = model, normaliser, self

    def snapshot(self):
        """The normaliser's statistics, kept with the policy they served (the checks' keep-best)."""
        return copy.deepcopy(self.normaliser.obs_rms)

    def restore(self, snapshot):
        self.normaliser.obs_rms = snapshot

    def process_observation(self, observation):
        return self.normaliser.normalize_obs({key: value[None] for key, value in observation.items()})

    def policy_action(self, observation):
        return self.model.predict(observation, deterministic=True)[0][0]


def sb3_sparse_run(seed, steps):
    """SAC + HER at the zoo's settings on the sparse family: a row as ``fixed_sparse_run``'s."""
    from fixed.keep_best import split_budget  # first: it sets up tf-keras before anything loads TensorFlow
    from shared.quiet import GYM_NOISE, held_back

    with held_back(GYM_NOISE):
        from stable_baselines3 import HerReplayBuffer, SAC
        from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    from shared.old_step_api import OldStepAPI
    from shared.scenario import StepRanges
    from shared.seeding import seed_everything
    from stepsignal.experiments.peers import keep_best_callback, no_log_folder
    from stepsignal.own_signal.scenarios import CHECK_SEED, UNSEEN_SCENARIOS, UNSEEN_SEED, unseen_summary
    from stepsignal.own_signal.sparse import (CHECK_EVERY, CHECK_SCENARIOS, TIME_LIMIT, EpisodeCheck, SparseStepSignal,
                                              episode_outcome)

    seed_everything(seed)
    ranges = StepRanges()

    def start(start_seed):  # one fixed start, Dict observations, keras-rl's step API for the checks
        return OldStepAPI(SparseStepSignal(ranges, start_seed=start_seed))

    check = EpisodeCheck([start(CHECK_SEED + i) for i in range(CHECK_SCENARIOS)], CHECK_EVERY, final_env=start(0))
    training_steps, _ = split_budget(steps, check.every, check.steps_per_check)
    training = SparseStepSignal(ranges)
    training.reset(seed=seed)
    env = VecNormalize(DummyVecEnv([lambda: training]), norm_reward=False)
    model = no_log_folder(SAC('MultiInputPolicy', env, replay_buffer_class=HerReplayBuffer, seed=seed, verbose=0,
                              replay_buffer_kwargs=dict(n_sampled_goal=4, goal_selection_strategy='future'),
                              **ZOO_FETCHREACH))
    answering = NormalisedSAC(model, env)
    callback = keep_best_callback(answering, check, check.every)
    started = time.perf_counter()
    env.training = True
    model.learn(total_timesteps=training_steps, callback=callback)
    seconds = time.perf_counter() - started
    env.training = False  # the statistics stay as training left them
    outcome = episode_outcome(answering, check.final_env)
    checks = [[c['training_step'] + (i + 1) * check.steps_per_check, c['success']] for i, c in enumerate(callback.checks)]
    first = next((env_steps for env_steps, success in checks if success), None)
    unseen = unseen_summary([episode_outcome(answering, start(UNSEEN_SEED + i)) for i in range(UNSEEN_SCENARIOS)])
    return {'seed': seed, 'steps': steps, 'success': outcome['success'], 'l2_distance': outcome['l2_distance'],
            'steps_per_second': round(training_steps / seconds, 1), 'first_success_env_steps': first,
            'unseen': unseen, 'episode_steps': TIME_LIMIT, 'checks': checks}


def one_run(method, seed, steps):
    """``method``'s run in this process: a row."""
    if method == 'sb3-sac-her':
        return sb3_sparse_run(seed, steps)
    return fixed_sparse_run(seed, steps, her=method == 'fixed-her')


def run_in_child(method, seed, steps):
    """One run in a process of its own: its row, or ``{'seed', 'error'}``."""
    return row_from_child('stepsignal.experiments.sparse_her', [method, seed, steps], seed)


def environment_steps(steps):
    """What a run asked for ``steps`` takes: ``(training steps, checks, environment steps in all)``.
    ``split_budget`` sets the training steps; a check (every start's whole episode) follows each
    ``CHECK_EVERY`` of them, and one more the last iterate when they are not a multiple of it."""
    from fixed.keep_best import split_budget
    from stepsignal.own_signal.sparse import CHECK_EVERY, CHECK_SCENARIOS, TIME_LIMIT

    per_check = CHECK_SCENARIOS * TIME_LIMIT
    training, _ = split_budget(steps, CHECK_EVERY, per_check)
    checks = -(-training // CHECK_EVERY)
    return training, checks, training + checks * per_check


def runs_of(results, method, steps, seeds):
    """``method``'s rows at ``steps`` for ``seeds``, in their order (None where a seed has none)."""
    return [results['runs'].get(f'{method} {steps} {seed}') for seed in seeds]


def tables(results, seeds, budgets):
    """One table per budget, a row per method: never-seen starts reached (lowest / median / highest
    over seeds, and all seeds pooled with its 95% interval), the first check that reached all its
    starts, and the median speed; then each seed's share per budget."""
    lines = []
    for steps in budgets:
        training, checks, spent = environment_steps(steps)
        lines += [f'## {steps:,} environment steps', '',
                  f"{training:,} training steps and {checks} check{'s' if checks > 1 else ''} of "
                  f"{(spent - training) // checks:,} steps: {spent:,} in all.", '',
                  '| agent | never-seen starts reached: lowest / median / highest | all seeds pooled | runs | '
                  'first check that reached all its starts (median, env steps) | steps/s (median) |',
                  '|---|---|---|---|---|---|']
        for method in METHODS:
            rows = [row for row in runs_of(results, method, steps, seeds) if row is not None]
            done = [row for row in rows if 'error' not in row]
            if not rows:
                continue
            if not done:
                lines.append(f'| {NAMES[method]} | failed to run | | {len(rows)} | | |')
                continue
            rates = sorted(row['unseen']['success_rate'] for row in done)
            reached = sum(round(row['unseen']['success_rate'] * row['unseen']['scenarios']) for row in done)
            scenarios = sum(row['unseen']['scenarios'] for row in done)
            failed = f' ({len(rows) - len(done)} failed to run)' if len(done) < len(rows) else ''
            first = median_first_success(done)  # the first check that reached every start
            first_text = 'never' if first is None else f'{first:,}'
            lines.append(f"| {NAMES[method]} | {rates[0]:.0%} / {float(np.median(rates)):.0%} / {rates[-1]:.0%} | "
                         f"{success_rate(reached, scenarios)} | {len(rows)}{failed} | {first_text} | "
                         f"{float(np.median([row['steps_per_second'] for row in done])):.0f} |")
        lines.append('')
    methods = [method for method in METHODS if any(key.startswith(f'{method} ') for key in results['runs'])]
    lines += ['## Each seed', '', f"Never-seen starts reached, {' / '.join(NAMES[method] for method in methods)}:", '',
              '| seed | ' + ' | '.join(f'{steps:,} steps' for steps in budgets) + ' |',
              '|---|' + '---|' * len(budgets)]
    for seed in seeds:
        cells = []
        for steps in budgets:
            rows = [runs_of(results, method, steps, [seed])[0] for method in methods]
            cells.append(' / '.join('-' if row is None else 'failed' if 'error' in row else
                                    f"{row['unseen']['success_rate']:.0%}" for row in rows))
        lines.append(f'| {seed} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    return lines


FIGURE = 'sparse_her.png'
COLOURS = {'fixed': 'C0', 'fixed-her': 'C1', 'sb3-sac-her': 'C2'}


def draw(results, seeds, budgets, path):
    """Never-seen starts reached per budget (each seed a dot, the median a line), and, for the largest
    budget, the share of seeds whose check had reached all its starts by each environment step."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from shared.files import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    places = np.arange(len(budgets))
    for shift, method in zip((-0.1, 0.0, 0.1), METHODS):
        colour, label = COLOURS[method], NAMES[method]
        rates = [[row['unseen']['success_rate'] * 100 for row in runs_of(results, method, steps, seeds)
                  if row and 'error' not in row] for steps in budgets]
        if not any(rates):
            continue
        for place, found in zip(places, rates):
            left.scatter(np.full(len(found), place + shift), found, color=colour, alpha=0.5, s=14)
        medians = [(place + shift, np.median(found)) for place, found in zip(places, rates) if found]
        left.plot(*zip(*medians), color=colour, marker='o', label=label)
        curves = [row['checks'] for row in runs_of(results, method, budgets[-1], seeds) if row and 'checks' in row]
        if curves:
            steps = [0] + sorted({env_steps for curve in curves for env_steps, _ in curve})
            reached = [100 * np.mean([any(success for at, success in curve if at <= step) for curve in curves])
                       for step in steps]
            right.step(steps, reached, where='post', color=colour, marker='.')
    left.set(xticks=places, xticklabels=[f'{steps:,}' for steps in budgets], xlim=(-0.5, len(budgets) - 0.5),
             ylim=(-3, 103), xlabel='environment steps (a run per seed at each budget)',
             ylabel='never-seen starts reached (%)', title='100 never-seen starts: each seed a dot, the median a line')
    right.set(ylim=(-3, 103), xlabel='environment steps, checks included',
              ylabel='seeds with a check that reached all starts (%)', title=f'How soon, in the runs of {budgets[-1]:,} steps')
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
    figure.legend(*left.get_legend_handles_labels(), loc='lower center', ncol=3, fontsize='small')
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    save_figure(figure, path)
    plt.close(figure)


def page(results, seeds, budgets, command):
    lines = ['# Hindsight replay on the sparse-reward goal env', '',
             f'Measured {results["date"]} on {results["machine"]} with `{command}`. Seeds {seeds_text(seeds)}; each '
             'run scored by its kept policy\'s episode on the same 100 never-seen starts (scenario and knobs); '
             'reached: the processed signal within L2 1.0 of the goal at the episode\'s last step '
             '(stepsignal/experiments/sparse_her.py).', '']
    moves = results.get('random_moves')
    if moves:
        lines += [f"How sparse the reward is: of {moves['episodes']} episodes of uniformly random moves (seed "
                  f"{moves['seed']}), {success_rate(moves['touched'], moves['episodes'])} touch success at some step "
                  f"and {success_rate(moves['ended'], moves['episodes'])} end in it; {moves['rewarded_steps']:,} of "
                  f"their {moves['steps']:,} steps earn the reward 0.", '']
    return '\n'.join(lines + tables(results, seeds, budgets) + [f'![never-seen starts reached, and how soon]({FIGURE})', ''])


def budgets_argument(text):
    """``--budgets``: step counts, comma-separated, each as ``--steps`` allows."""
    budgets = [steps_argument(part.strip()) for part in text.split(',') if part.strip()]
    if not budgets:
        raise argparse.ArgumentTypeError(f'give one or more step counts, like 5000,20000, not {text!r}')
    return budgets


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['one']:  # the child: one run, its row as the last line
        method, seed, steps = argv[1:4]
        setup_logging()
        if method.startswith('sb3'):
            import torch

            torch.set_num_threads(1)  # two runs share two cores
        sys.stdout.write(json.dumps(one_run(method, int(seed), int(steps))) + '\n')
        return 0
    parser = command_parser('python -m stepsignal.experiments.sparse_her', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'), help='like 0-9 (default) or 1,4,7')
    parser.add_argument('--budgets', type=budgets_argument, default=[2000, 20000],
                        help='environment steps of each run, checks included, comma-separated (default 2000,20000)')
    parser.add_argument('--methods', default=','.join(METHODS), help=f'any of {",".join(METHODS)} (default all)')
    parser.add_argument('--jobs', type=jobs_argument, default=2, help='runs at a time (default 2)')
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'the folder the measurement owns: DIR/{NUMBERS} as the runs end (the same command '
                             f'resumes from it), DIR/{REPORT} at the end')
    parser.add_argument('--page-only', action='store_true', help=f'run nothing: write DIR/{REPORT} from DIR/{NUMBERS}')
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    with checking_input(parser):
        methods = [name.strip() for name in args.methods.split(',') if name.strip()]
        if not methods or any(name not in METHODS for name in methods):
            raise BadInput(f'--methods {args.methods!r}: give any of {", ".join(METHODS)}')
        if 'sb3-sac-her' in methods and not args.page_only:
            require_bench('stable_baselines3', alternative=', or leave out sb3-sac-her from --methods')
        results = earlier_numbers(args.out, None, {'machine': machine(), 'date': today(), 'runs': {}},
                                  holds=lambda found: isinstance(found['runs'], dict))
        check_output_folder(args.out, resume=True)
    setup_logging()
    work = [] if args.page_only else [(f'{method} {steps} {seed}', (method, seed, steps))
                                      for steps in args.budgets for seed in args.seeds for method in methods]
    measure_missing(results, args.out, work, run_in_child, args.jobs,
                    describe=lambda row: f"never-seen reached {row['unseen']['success_rate']:.0%}")
    if 'random_moves' not in results:
        from stepsignal.own_signal.sparse import random_moves

        results['random_moves'] = random_moves()
    draw(results, args.seeds, args.budgets, args.out / FIGURE)
    return finish(args.out, results, 'stepsignal.experiments.sparse_her', argv,
                  lambda command: page(results, args.seeds, args.budgets, command))

if __name__ == '__main__':
    sys.exit(main())
