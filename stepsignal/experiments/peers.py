"""Stable-Baselines3's TD3 and SAC with the kit's lessons carried over, scored as the fixed agent is.

The peers with their defaults fail this task for reasons docs/results.md names: raw observations,
gamma 0.99 on a one-answer task, TD3's exploration noise off after its random start, the last
policy kept. Here each of those is changed the way the fixed setup changes it, and one more that
the fixed setup needs as much (SB3's networks, batch and buffer stay its defaults; the critic learns
at the fixed setup's rate, 1e-3, TD3's default):

- observations scaled by one affine map set from the env's first observation (FIX-17);
- gamma 0 (FIX-22);
- TD3: Gaussian exploration noise, 0.6 annealed to 0.05 over the first 60% of the steps (FIX-11;
  SAC explores with its own stochastic policy);
- the best noise-free policy kept, by the fixed setup's own checks (IMPROVEMENT-1), on the same
  budget of environment steps, checks included;
- the actor learning 100 times slower than the critic (IMPROVEMENT-2): at SB3's one rate for both,
  TD3's tanh actor runs into a corner of the action square within a few hundred steps and stays.

Each run is scored where the fixed agent is: on the question's scenario (the kept policy's L2
distance and success), and, trained on random step scenarios, on the 100 scenarios no run trains
on (stepsignal.own_signal.scenarios), beside the fixed agent on the same seeds and budget:

    python -m stepsignal.experiments.peers --seeds 0-9 --out DIR

Each (agent, task, seed) is a process of its own, two at a time; DIR/results.json keeps every run
as it comes (the same command resumes), DIR/report.md the tables. docs/peers.md has the measured rates.
"""
import copy
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fixed.hyperparameters import HYPERPARAMETERS
from fixed.keep_best import PolicyCheck, policy_outcome, split_budget
from shared.checks import BadInput
from shared.cli import (KIT_ROOT, NUMBERS, REPORT, answer_a_page_for_out, check_output_folder, checking_input, command_parser,
                        output_folder_argument, seeds_argument, seeds_text, setup_logging, shown, steps_argument)
from stepsignal.experiments.evaluate import jobs_argument
from stepsignal.experiments.kept_runs import (earlier_file, earlier_numbers, finish, measure_missing, median_first_success,
                                              require_bench, row_from_child)
from stepsignal.experiments.machine import machine, today
from stepsignal.rates import success_rate

log = logging.getLogger(__name__)

ALGORITHMS = ('TD3', 'SAC')
TASKS = ('question', 'scenarios')
"""The question's scenario, and random step scenarios scored on never-seen ones."""


VALIDATION_SCENARIOS = 30
"""How many scenarios score a tuning trial (``tune_peers``): neither the never-seen ones nor the checks'."""
VALIDATION_SEED = 3_000_000
"""Seeds of those scenarios start here (the never-seen ones at 1,000,000, the checks' at 2,000,000)."""
ZOO_NETWORKS = {'small': [64, 64], 'medium': [256, 256], 'big': [400, 300]}
"""rl-baselines3-zoo's names for the hidden layers its TD3 and SAC searches pick from."""


class Answering:
    """An SB3 model as the kit's checks ask for an agent: ``processor`` and ``policy_action``."""

    def __init__(self, model, processor):
        self.model, self.processor = model, processor

    def policy_action(self, observation):
        return self.model.predict(np.asarray(observation, dtype=np.float32), deterministic=True)[0]


class Unscaled:
    """Observations as the env gives them, as float32 (the zoo tunes on the env as it is)."""

    def process_observation(self, observation):
        return np.asarray(observation, dtype=np.float32)


def scaled_env(env, processor):
    """The Gymnasium env under ``env`` (keras-rl's adapter), its observations scaled by ``processor``."""
    import gymnasium

    space = gymnasium.spaces.Box(-np.inf, np.inf, env.observation_space.shape, dtype=np.float32)
    return gymnasium.wrappers.TransformObservation(env.env, processor.process_observation, space)


def annealed_gaussian_noise(size, sigma, sigma_min, steps, seed):
    """TD3's action noise as the fixed setup's (keras-rl's ``GaussianWhiteNoiseProcess`` schedule)."""
    from stable_baselines3.common.noise import ActionNoise

    class AnnealedGaussianNoise(ActionNoise):
        def __init__(self):
            super().__init__()
            self.rng, self.drawn = np.random.default_rng(seed), 0

        def __call__(self):
            current = max(sigma_min, sigma - (sigma - sigma_min) * self.drawn / steps)
            self.drawn += 1
            return self.rng.normal(0.0, current, size).astype(np.float32)

    return AnnealedGaussianNoise()


def slow_actor(algorithm, ratio):
    """``algorithm`` (SB3's TD3 or SAC) with its actor's learning rate ``ratio`` times its critic's
    (IMPROVEMENT-2). SB3 sets every optimizer to its one schedule before each update; this scales
    the actor's after it."""

    class SlowActor(algorithm):
        def _update_learning_rate(self, optimizers):
            super()._update_learning_rate(optimizers)
            for group in self.actor.optimizer.param_groups:
                group['lr'] *= ratio

    SlowActor.__name__ = SlowActor.__qualname__ = algorithm.__name__
    return SlowActor


def keep_best_callback(answering, check, every):
    """IMPROVEMENT-1 for SB3: every ``every`` steps score the noise-free policy with ``check``; at
    the end put the best weights back (and what ``answering.snapshot()`` keeps of its own, such as an
    observation normaliser's statistics). ``callback.checks`` lists every check's L2 and step."""
    from stable_baselines3.common.callbacks import BaseCallback

    class KeepBest(BaseCallback):
        def __init__(self):
            super().__init__()
            self.best_score, self.best_state, self.checks = -np.inf, None, []

        def _check(self):
            score, l2_distance, success = check(answering)
            self.checks.append({'training_step': int(self.num_timesteps), 'l2_distance': float(l2_distance),
                                'success': bool(success)})
            if score > self.best_score:
                self.best_score, self.best_state = score, copy.deepcopy(self.model.policy.state_dict())
                self.best_extra = answering.snapshot() if hasattr(answering, 'snapshot') else None

        def _on_step(self):
            if self.num_timesteps % every == 0:
                self._check()
            return True

        def _on_training_end(self):
            if not self.checks or self.checks[-1]['training_step'] != self.num_timesteps:
                self._check()  # the last iterate is a candidate too, unless just checked
            self.model.policy.load_state_dict(self.best_state)
            if self.best_extra is not None:
                answering.restore(self.best_extra)

    return KeepBest()


def no_log_folder(model):
    """``model`` with a logger that writes nowhere: left to itself, every SB3 ``learn`` makes an empty
    folder in the system's temporary directory (its default log folder), one per run."""
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def lessons_model(algorithm, env, seed, training_steps):
    """SB3's ``algorithm`` with the kit's lessons (this module's docstring) on ``env``."""
    import stable_baselines3

    hp = HYPERPARAMETERS
    settings = dict(gamma=0.0, seed=seed, verbose=0)
    if algorithm == 'TD3':
        settings['action_noise'] = annealed_gaussian_noise(
            env.action_space.shape, hp.noise_sigma, hp.noise_sigma_min, int(hp.noise_annealing_fraction * training_steps),
            seed)
    return slow_actor(getattr(stable_baselines3, algorithm), hp.actor_learning_rate / hp.critic_learning_rate)(
        'MlpPolicy', env, learning_rate=hp.critic_learning_rate, **settings)


def zoo_model(algorithm, env, seed, params):
    """SB3's ``algorithm`` on ``env`` with ``params``, values from rl-baselines3-zoo's search space for it
    (``tune_peers.ZOO_SPACES``), turned into SB3's arguments as the zoo turns them."""
    import stable_baselines3
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    settings = dict(gamma=params['gamma'], learning_rate=params['learning_rate'], batch_size=params['batch_size'],
                    buffer_size=params['buffer_size'], tau=params['tau'], train_freq=params['train_freq'],
                    gradient_steps=params['train_freq'], seed=seed, verbose=0,
                    policy_kwargs={'net_arch': ZOO_NETWORKS[params['net_arch']]})
    if algorithm == 'SAC':
        settings['learning_starts'] = params['learning_starts']
        settings['policy_kwargs']['log_std_init'] = params['log_std_init']
    elif params['noise_type'] is not None:
        size = env.action_space.shape[0]
        noise = NormalActionNoise if params['noise_type'] == 'normal' else OrnsteinUhlenbeckActionNoise
        settings['action_noise'] = noise(mean=np.zeros(size), sigma=params['noise_std'] * np.ones(size))
    return getattr(stable_baselines3, algorithm)('MlpPolicy', env, **settings)


def peer_run(algorithm, task, seed, steps=HYPERPARAMETERS.nb_steps, params=None, validation=False):
    """One SB3 run: ``{'seed', 'steps', 'success', 'l2_distance', 'steps_per_second', 'first_success_env_steps'}``,
    and for ``task`` 'scenarios' ``unseen`` (the never-seen scenarios) or, with ``validation``, ``validation``
    (the tuning's own scenarios, ``VALIDATION_SEED`` on). With the lessons, or with ``params`` from the
    zoo's search space on raw observations (``zoo_model``); the best policy kept by the same checks."""
    from shared.quiet import GYM_NOISE, held_back

    with held_back(GYM_NOISE):  # SB3 imports gym, when it is there, to accept its envs
        import stable_baselines3  # noqa: F401

    from shared.seeding import seed_everything
    from stepsignal.own_signal.scenarios import StepRanges, evaluate_unseen, family_check, family_env
    from fixed.processor import ScaleObservations
    from fixed.train import make_env

    seed_everything(seed)
    hp = HYPERPARAMETERS
    if task == 'question':
        training_env = make_env(time_limit=hp.max_episode_steps)
        check = PolicyCheck([make_env(time_limit=hp.max_episode_steps)], every=hp.check_every)
    else:
        ranges = StepRanges()
        training_env = family_env(seed, ranges, time_limit=hp.max_episode_steps)
        check = family_check(ranges, hp.max_episode_steps)
    training_steps, _ = split_budget(steps, check.every, check.steps_per_check)
    processor = ScaleObservations(training_env.reset()) if params is None else Unscaled()  # FIX-17, as the fixed agent's
    env = scaled_env(training_env, processor)
    model = no_log_folder(lessons_model(algorithm, env, seed, training_steps) if params is None else
                          zoo_model(algorithm, env, seed, params))
    answering = Answering(model, processor)
    callback = keep_best_callback(answering, check, check.every)
    start = time.perf_counter()
    model.learn(total_timesteps=training_steps, callback=callback)
    seconds = time.perf_counter() - start
    outcome = policy_outcome(answering, check.final_env)
    # as the fixed agent counts it: training steps and every check's steps up to the first success
    first = next((c['training_step'] + (i + 1) * check.steps_per_check for i, c in enumerate(callback.checks)
                  if c['success']), None)
    row = {'seed': seed, 'steps': steps, 'training_steps': training_steps, 'success': outcome['success'],
           'l2_distance': outcome['l2_distance'], 'steps_per_second': round(training_steps / seconds, 1),
           'first_success_env_steps': first}
    if task == 'scenarios' and validation:
        row['validation'] = evaluate_unseen(answering, ranges, VALIDATION_SCENARIOS, VALIDATION_SEED)
    elif task == 'scenarios':
        row['unseen'] = evaluate_unseen(answering, ranges)
    scored = row.get('unseen') or row.get('validation')
    log.info('%s %s, %s, seed %d: L2 %.4g%s (%.0f steps/s)', algorithm, 'with the lessons' if params is None else 'zoo-tuned',
             task, seed, row['l2_distance'], f", scenarios solved {scored['success_rate']:.0%}" if scored else '',
             row['steps_per_second'])
    return row


def fixed_run(task, seed, steps=HYPERPARAMETERS.nb_steps):
    """The fixed agent on the same task, seed and budget, as ``peer_run`` reports a run."""
    import dataclasses

    from fixed.train import train
    from stepsignal.own_signal.scenarios import train_random

    hp = dataclasses.replace(HYPERPARAMETERS, nb_steps=steps)
    with tempfile.TemporaryDirectory() as out:
        if task == 'question':
            _, result = train(out, seed=seed, hp=hp)
        else:
            _, result = train_random(out, seed, hp)
    row = {key: result[key] for key in ('seed', 'steps', 'training_steps', 'success', 'l2_distance', 'steps_per_second',
                                        'first_success_env_steps')}
    if 'unseen' in result:
        row['unseen'] = result['unseen']
    return row


AGENTS = ('fixed',) + ALGORITHMS
ZOO_AGENTS = tuple(f'{algorithm}-zoo' for algorithm in ALGORITHMS)
"""The peers tuned as the zoo tunes (``--tuned``, from ``tune_peers``)."""
ZOO_TUNED = ("the best settings of rl-baselines3-zoo's search for it (stepsignal/experiments/tune_peers.py), on "
             "observations as the env gives them, the best policy kept by the same checks")
"""What a zoo-tuned agent is, as the pages say it."""
KEPT_TUNING = KIT_ROOT / 'benchmarks' / 'peers' / 'tuned' / NUMBERS
"""The kept study's numbers: ``bench``'s peers part scores its best settings."""


def tuned_settings(path):
    """``{'TD3-zoo': params, 'SAC-zoo': params}``: each algorithm's best trial in ``tune_peers``'s numbers."""
    from stepsignal.experiments.tune_peers import best_trial

    try:
        trials = json.loads(Path(path).read_text())['trials']
        found = {f'{algorithm}-zoo': best_trial(trials[algorithm])['params'] for algorithm in trials}
    except (OSError, ValueError, KeyError, TypeError):
        raise BadInput(f'{shown(path)} is not the numbers of python -m stepsignal.experiments.tune_peers') from None
    if not found:
        raise BadInput(f'{shown(path)} holds no finished trial')
    return found


def one_run(agent, task, seed, steps, params=None, validation=False):
    """``agent``'s run in this process: a row (``peer_run``). ``agent``: 'fixed', an algorithm, or
    'TD3-zoo' / 'SAC-zoo' with the zoo's ``params``."""
    if agent == 'fixed':
        return fixed_run(task, seed, steps)
    return peer_run(agent.split('-')[0], task, seed, steps, params, validation)


def run_in_child(agent, task, seed, steps, params=None, validation=False, timeout=None):
    """One run in a process of its own: its row, or ``{'seed', 'error'}`` (``timeout``: as ``row_from_child``'s)."""
    return row_from_child('stepsignal.experiments.peers', [agent, task, seed, steps, json.dumps(params),
                                                            json.dumps(validation)], seed, timeout)


def summary(rows):
    """A set of runs in a few numbers: the success rate with its interval, the median L2, the median
    first success, the never-seen scenarios' rates, the median speed."""
    done = [row for row in rows if 'error' not in row]
    if not done:
        return None
    found = {'runs': len(rows), 'failed_to_run': len(rows) - len(done),
             'success_text': str(success_rate(sum(row['success'] for row in done), len(rows))),
             'median_l2': float(np.median([row['l2_distance'] for row in done])),
             'median_first_success': median_first_success(done),
             'median_steps_per_second': float(np.median([row['steps_per_second'] for row in done]))}
    if all('unseen' in row for row in done):
        rates = sorted(row['unseen']['success_rate'] for row in done)
        found['unseen'] = {'lowest': rates[0], 'median': float(np.median(rates)), 'highest': rates[-1]}
    return found


def page(results, seeds, steps, command):
    """The Markdown report: one table per task, a row per agent."""
    tuned = results.get('tuned', {})
    lines = ['# Stable-Baselines3 with the kit\'s lessons' + (', and tuned as the zoo tunes' if tuned else '')
             + ', beside the fixed agent', '',
             f'Measured {results["date"]} on {results["machine"]} with `{command}`. Every agent: seeds '
             f'{seeds_text(seeds)}, {steps:,} environment steps, the policy checks included; the kept policy is '
             'the best noise-free one the checks saw. TD3 and SAC: SB3\'s defaults but for observations scaled, '
             'gamma 0, (TD3) Gaussian noise 0.6 annealed to 0.05 over 60% of the steps, the best policy kept, the '
             'critic\'s learning rate 1e-3 and the actor\'s 100 times slower (stepsignal/experiments/peers.py). '
             'On the random scenarios, success is the kept policy on the question\'s scenario, and a first success '
             'would be every check scenario solved at once.', '']
    for agent, params in sorted(tuned.items(), key=lambda item: ZOO_AGENTS.index(item[0])):
        lines += [f"{agent.split('-')[0]} zoo-tuned: {ZOO_TUNED}: `{json.dumps(params)}`.", '']
    return '\n'.join(lines + tables(results, seeds))


def tables(results, seeds):
    """The report's tables, one per task, a row per agent (as ``bench`` shows them too)."""
    lines = []
    for task in TASKS:
        title = ("The question's scenario" if task == 'question' else
                 'Random step scenarios, scored on 100 never-seen ones')
        lines += [f'## {title}', '', '| agent | success (L2 < 1.0) | median L2 | median first success (env steps) | '
                  + ('never-seen solved: lowest / median / highest | ' if task == 'scenarios' else '')
                  + 'steps/s (median) |', '|---|---|---|---|' + ('---|' if task == 'scenarios' else '') + '---|']
        for agent in AGENTS + ZOO_AGENTS:
            rows = [results['runs'].get(f'{agent} {task} {seed}') for seed in seeds]
            found = summary([row for row in rows if row is not None])
            if found is None:
                continue
            first = 'never' if found['median_first_success'] is None else f"{found['median_first_success']:,}"
            unseen = (f"{found['unseen']['lowest']:.0%} / {found['unseen']['median']:.0%} / "
                      f"{found['unseen']['highest']:.0%} | " if task == 'scenarios' and 'unseen' in found else
                      ('| ' if task == 'scenarios' else ''))
            name = ('fixed' if agent == 'fixed' else f"SB3 {agent.split('-')[0]} zoo-tuned" if agent in ZOO_AGENTS else
                    f'SB3 {agent} + lessons')
            lines.append(f"| {name} | {found['success_text']} "
                         f"| {found['median_l2']:.3g} | {first} | {unseen}{found['median_steps_per_second']:.0f} |")
        lines.append('')
    return lines


def bench_peers(seeds, steps=HYPERPARAMETERS.nb_steps, tasks=TASKS, tuned=None):
    """``{'runs': {"agent task seed": row}, 'tuned': tuned}`` for ``bench``'s peers part, in this process,
    or None when Stable-Baselines3 is not installed (the ``bench`` extra). ``tuned``: zoo-tuned agents to
    score too, as ``tuned_settings`` gives them (default: the kept study's, when it is there)."""
    try:
        import stable_baselines3  # noqa: F401
    except ImportError:
        return None
    if tuned is None:
        tuned = tuned_settings(KEPT_TUNING) if KEPT_TUNING.is_file() else {}
    return {'runs': {f'{agent} {task} {seed}': one_run(agent, task, seed, steps, tuned.get(agent))
                     for task in tasks for agent in AGENTS + tuple(tuned) for seed in seeds}, 'tuned': tuned}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['one']:  # the child: one run, its row as the last line
        agent, task, seed, steps, params, validation = argv[1:7]
        setup_logging()
        if agent != 'fixed':
            import torch

            torch.set_num_threads(1)  # two runs share two cores: torch's spinning threads would fight
        row = one_run(agent, task, int(seed), int(steps), json.loads(params), json.loads(validation))
        sys.stdout.write(json.dumps(row) + '\n')
        return 0
    parser = command_parser('python -m stepsignal.experiments.peers', __doc__)
    parser.add_argument('--seeds', type=seeds_argument, default=seeds_argument('0-9'), help='like 0-9 (default) or 1,4,7')
    parser.add_argument('--steps', type=steps_argument, default=HYPERPARAMETERS.nb_steps,
                        help=f'environment steps of every run, checks included (default {HYPERPARAMETERS.nb_steps})')
    parser.add_argument('--jobs', type=jobs_argument, default=2, help='runs at a time (default 2)')
    parser.add_argument('--out', type=output_folder_argument, required=True, metavar='DIR',
                        help=f'the folder the measurement owns: DIR/{NUMBERS} as the runs come (the same command '
                             f'resumes from it), DIR/{REPORT} at the end')
    parser.add_argument('--start-from', type=Path, metavar='FILE',
                        help=f'an earlier measurement\'s {NUMBERS} (such as the kept benchmarks/peers/scored/{NUMBERS}): '
                             'its runs count as measured, and the new ones are added to them in DIR')
    parser.add_argument('--tuned', type=Path, metavar='FILE',
                        help='also score TD3 and SAC at the best settings of a tuning (python -m '
                             f'stepsignal.experiments.tune_peers: its DIR/{NUMBERS}), on the env as it is')
    parser.add_argument('--page-only', action='store_true',
                        help=f'run nothing: write DIR/{REPORT} from the runs measured so far')
    answer_a_page_for_out(parser, argv)
    args = parser.parse_args(argv)
    with checking_input(parser):
        if not args.page_only:
            require_bench('stable_baselines3')
        results = earlier_numbers(args.out, args.start_from, {'machine': machine(), 'date': today(), 'runs': {}},
                                  holds=lambda found: isinstance(found['runs'], dict))
        tuned = {} if args.tuned is None else tuned_settings(args.tuned)
        for agent, params in tuned.items():
            kept = results.get('tuned', {}).get(agent)
            if kept is not None and kept != params:  # the rows' keys do not hold the settings
                raise BadInput(f'{shown(earlier_file(args.out, args.start_from))} holds {agent} runs at other settings '
                               f'than the best in {shown(args.tuned)}: start a new measurement (another --out, '
                               'with --start-from a file without them)')
        if tuned:
            results['tuned'] = {**results.get('tuned', {}), **tuned}
        check_output_folder(args.out, resume=True)
    setup_logging()
    agents = AGENTS + tuple(tuned)
    work = [] if args.page_only else [(f'{agent} {task} {seed}', (agent, task, seed, args.steps, tuned.get(agent)))
                                      for seed in args.seeds for task in TASKS for agent in agents]
    measure_missing(results, args.out, work, run_in_child, args.jobs, describe=lambda row: f"L2 {row['l2_distance']:.4g}")
    return finish(args.out, results, 'stepsignal.experiments.peers', argv,
                  lambda command: page(results, args.seeds, args.steps, command))

if __name__ == '__main__':
    sys.exit(main())
