"""Train on a new step scenario at every episode, then measure success on scenarios never seen.

``python -m stepsignal scenarios --out DIR [--seed N] [--steps N] [--her]`` (docs/generalisation.md,
docs/her.md). Not
a fix of the question's setup: an extension of it, built from the fixed variant's parts.
Importing this module registers ``stepsignal-random-v0`` with Gymnasium.
"""
import dataclasses
import logging
import sys

import gymnasium
import numpy as np

from fixed.extras import Extras
from fixed.hyperparameters import HYPERPARAMETERS
from fixed.keep_best import PolicyCheck, policy_outcome
from fixed.options import add_her_options, add_training_options, check_training_options
from fixed.options import run_hyperparameters, save_run, trained_on, write_result
from shared.cli import (add_output_options, check_output_folder, checking_input, command_parser,
                        episode_steps_argument, gradient_steps_argument, run_reporting_failures,
                        setup_logging)
from shared.scenario import StepRanges, question_scenario, random_step_scenario
from stepsignal.own_signal.any_signal import AnySignal, make_env
from stepsignal.rates import success_rate
from stepsignal.reverts import add_revert_option, reverted_training

log = logging.getLogger(__name__)

UNSEEN_SCENARIOS = 100
"""How many never-seen scenarios measure a run's generalisation."""
UNSEEN_SEED = 1_000_000
"""Seeds of the never-seen scenarios start here, far from any training seed."""
CHECK_SCENARIOS = 30
"""How many scenarios one check of the policy scores (IMPROVEMENT-1)."""
CHECK_SEED = 2_000_000
"""Seeds of those check scenarios: neither training's nor the never-seen ones."""
CHECK_EVERY = 500
"""Training steps between two checks (each check is 30 env steps: the checks take 6% of the budget)."""


class RandomStepSignal(AnySignal):
    """The fixed env on a new step scenario at every reset, to train an agent that generalises.

    The same env in every other respect (``fixed.env.StepSignal``). At each reset the input and
    the desired signal are drawn from ``ranges`` (``shared.scenario.StepRanges``: step time,
    level before and after the step, target level) with the env's own generator, so
    ``reset(seed=...)`` makes the sequence of scenarios repeatable. The offset range is fixed for
    the whole family (``ranges.max_offset()``), so that an action means the same in every scenario.

    ## Observation Space
    As ``StepSignal``'s, with bounds that hold every scenario of the family.

    ## Arguments
    - ``ranges``: a ``StepRanges``; default the question's scenario, varied (see its fields).
    - ``distance_threshold``, ``time_limit``: as for ``AnySignal``.

    ::

        import gymnasium
        env = gymnasium.make('stepsignal.own_signal.scenarios:stepsignal-random-v0')  # imports, then makes
        observation, info = env.reset(seed=3)  # the same seed, the same sequence of scenarios

    ## Version History
    - v0: the family's first version, built on ``stepsignal-v1``.
    """

    def __init__(self, ranges=None, distance_threshold=1.0, time_limit=None):
        self.ranges = ranges or StepRanges()
        first = random_step_scenario(np.random.default_rng(0), self.ranges)  # sets the shapes only
        super().__init__(first.input_signal, first.sample_rate, first.desired_signal,
                         distance_threshold=distance_threshold, time_limit=time_limit,
                         max_offset=self.ranges.max_offset())

    def _signal_ranges(self):
        """The bounds of the whole family, so that the spaces hold every scenario it draws."""
        levels = self.ranges.start_level + self.ranges.end_level
        return {'observation': (min(levels), max(levels)), 'desired_goal': tuple(self.ranges.target_level)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed, options=options)  # seeds self.np_random when a seed is given
        scenario = random_step_scenario(self.np_random, self.ranges)
        self.initial_signal = scenario.input_signal.astype(np.float32)
        self.desired_signal = scenario.desired_signal.astype(np.float32)
        self.signal = self.initial_signal.copy()
        return self._get_obs(), {}


gymnasium.register(id='stepsignal-random-v0', entry_point='stepsignal.own_signal.scenarios:RandomStepSignal')


def family_env(seed, ranges=None, time_limit=None):
    """The family's env for training, wrapped for keras-rl, its scenarios drawn from ``seed``."""
    return make_env(None, seed=seed, env_class=RandomStepSignal, ranges=ranges or StepRanges(), time_limit=time_limit)


def family_check(ranges, time_limit=None):
    """IMPROVEMENT-1 on a family: ``CHECK_SCENARIOS`` fixed scenarios (seeds ``CHECK_SEED`` on),
    scored by their mean reward; the kept policy is measured at the end on the question's scenario
    (one of the family) with the family's offset range."""
    envs = [make_env(random_step_scenario(np.random.default_rng(CHECK_SEED + i), ranges), max_offset=ranges.max_offset(),
                     time_limit=time_limit) for i in range(CHECK_SCENARIOS)]
    final_env = make_env(question_scenario(), max_offset=ranges.max_offset(), time_limit=time_limit)
    return PolicyCheck(envs, every=CHECK_EVERY, final_env=final_env)


def evaluate_unseen(agent, ranges, count=UNSEEN_SCENARIOS, first_seed=UNSEEN_SEED):
    """Generalisation: the noise-free policy on ``count`` scenarios drawn with seeds it never trained on.

    Each scenario is ``RandomStepSignal`` reset with seed ``first_seed + i``; training draws its
    scenarios from one generator seeded with the run's seed (below 1,000,000).
    """
    outcomes = [policy_outcome(agent, make_env(None, seed=first_seed + i, env_class=RandomStepSignal, ranges=ranges))
                for i in range(count)]
    return unseen_summary(outcomes, first_seed)


def unseen_summary(outcomes, first_seed=UNSEEN_SEED):
    """What ``evaluate_unseen`` reports, from one outcome per never-seen scenario (``l2_distance``,
    ``success``), in seed order from ``first_seed``; any agent's outcomes, so that others compare."""
    count = len(outcomes)
    distances = sorted(o['l2_distance'] for o in outcomes)
    solved = sum(o['success'] for o in outcomes)
    return {
        'scenarios': count,
        'seeds': f'{first_seed}-{first_seed + count - 1}',
        'success_rate': solved / count,
        'success_text': str(success_rate(solved, count)),  # with its 95% interval
        'median_l2': distances[count // 2],
        'worst_l2': distances[-1],
    }


def train_random(out_dir, seed, hp, ranges=None, extras=Extras()):
    """Train the fixed agent on the family ``ranges`` (default ``StepRanges()``) and measure it.

    ``extras``: as ``fixed.train.train`` takes them.

    The result is the fixed variant's, plus ``unseen``: success on never-seen scenarios.
    """
    from fixed.train import train  # late: importing TensorFlow takes seconds

    ranges = ranges or StepRanges()

    def make_family_env(time_limit):
        return family_env(seed, ranges, time_limit)

    agent, result = train(out_dir, seed=seed, make_env=make_family_env, hp=hp,
                          check=family_check(ranges, hp.max_episode_steps), extras=extras)
    result['unseen'] = evaluate_unseen(agent, ranges)
    log.info('seed %d: success on never-seen scenarios: %s', seed, result['unseen']['success_text'])
    return agent, result


def main(argv=None):
    """``python -m stepsignal scenarios``: train on random step scenarios, measure on never-seen ones."""
    parser = command_parser('python -m stepsignal scenarios', __doc__.split('\n\n')[0] + (
        '\n\nWrites into DIR: result.json (the never-seen scenarios\' success among its numbers), trace.json, '
        'history.json,\nweights/ and the kept policy (policy/). Example:\n  python -m stepsignal scenarios --out scenarios --seed 1'))
    add_output_options(parser)
    add_training_options(parser)
    add_family_training_options(parser)
    add_revert_option(parser)
    add_her_options(parser)
    args = parser.parse_args(argv)
    setup_logging()
    with checking_input(parser):
        check_training_options(args)  # and args.hindsight, from the --her options
        check_output_folder(args.out, overwrite=args.overwrite)
    return run_reporting_failures(parser, args.out, lambda: run(args))


FAMILY_OPTIONS = {'episode_steps': 'max_episode_steps', 'gradient_steps': 'gradient_steps'}
"""How a run on the family may train otherwise than the fixed table says: option -> the table's field."""


def add_family_training_options(parser, where=''):
    """``--episode-steps`` and ``--gradient-steps``: how a run on the family trains (``where``: a
    condition for the help, such as 'with --random-scenarios: ')."""
    group = parser.add_argument_group('training on the family (docs/generalisation.md measures these)')
    group.add_argument('--episode-steps', type=episode_steps_argument, default=None, metavar='N',
                       help=f'{where}steps of a training episode, on one scenario, before the next is drawn (default '
                            f'{HYPERPARAMETERS.max_episode_steps}, the fixed table\'s max_episode_steps; 1: a new '
                            'scenario at every step)')
    group.add_argument('--gradient-steps', type=gradient_steps_argument, default=None, metavar='N',
                       help=f'{where}gradient updates per environment step, 1 to 16 (default '
                            f'{HYPERPARAMETERS.gradient_steps}, the fixed table\'s; IMPROVEMENT-3)')


def family_settings(args):
    """The family options given, as ``{option: value}`` (none given: empty)."""
    return {option: getattr(args, option) for option in FAMILY_OPTIONS if getattr(args, option) is not None}


def family_arguments(settings):
    """``settings`` (``family_settings``) as command-line arguments, for a run started from another."""
    return [word for option, value in settings.items() for word in ('--' + option.replace('_', '-'), str(value))]


def family_hyperparameters(args):
    """The table a run on the family trains with: the fixed setup's, with ``--steps`` and the family options."""
    changes = {FAMILY_OPTIONS[option]: value for option, value in family_settings(args).items()}
    return dataclasses.replace(run_hyperparameters(args), **changes)


def run(args):
    with reverted_training(args, family_hyperparameters(args)) as hyperparameters:
        agent, result = train_random(args.out, args.seed, hyperparameters, extras=args.extras)
        save_run(args.out, agent, family_env(args.seed), result, trained_on(args, 'random-scenarios'))
    return write_result(args.out, result)


if __name__ == '__main__':
    sys.exit(main())
