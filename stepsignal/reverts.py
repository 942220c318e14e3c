"""One switch per fix: the fixed setup with chosen fixes reverted to the original's behaviour.

``python -m stepsignal train --revert 4,6,23 --seed N --out DIR`` trains the fixed setup with
FIX-4, FIX-6 and FIX-23 undone and every other fix in place; ``python -m stepsignal ablate`` runs
such setups over seeds (docs/ablation.md). The verbs that train on your own signal take ``--revert``
too.

The setup's files stay as they are (``fixed/`` is the corrected code, nothing else, and imports
nothing of ``original/``); this module sits above both variants, and applies a revert for one run
in one of two ways:

- a number in the table: the original's value of a field of ``hyperparameters.py``;
- a piece of the fixed code swapped for the original's behaviour while the run lasts (``patched``):
  where ``original/`` has the piece in a form that fits, it is taken from there
  (``original.agent.build_actor``, ``original.env.butter_lowpass_filter``); where the original
  has it inline in a bigger function, the few lines are written out here, each beside its BUG tag.

A fix that cannot be reverted alone is in ``NOT_SWITCHABLE``, with the reason in one line.
"""
import argparse
import contextlib
import dataclasses
import logging
import re
from typing import Callable, NamedTuple, Optional

import numpy as np

from shared.checks import BadInput

log = logging.getLogger(__name__)


class Revert(NamedTuple):
    """How to undo one fix for a run."""

    title: str
    """What the reverted setup does, in a few words (the original's behaviour)."""
    hyperparameters: tuple = ()
    """Fields of the table that take the original's value (``original/hyperparameters.py``)."""
    patch: Optional[Callable] = None
    """``patch(stack)``: swaps pieces of the fixed code for the run, entering each swap in ``stack``."""


def _swap(stack, owner, name, value):
    """Set ``owner.name = value`` until ``stack`` closes (the run ends)."""
    stack.enter_context(_swapped(owner, name, value))


@contextlib.contextmanager
def _swapped(owner, name, value):
    before = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, before)


def _after_build(stack, change):
    """Run ``change(agent)`` on the agent ``fixed.train`` builds, right after it is built."""
    import fixed.train

    build = fixed.train.build_agent

    def build_then_change(*args, **kwargs):
        agent = build(*args, **kwargs)
        change(agent)
        return agent

    _swap(stack, fixed.train, 'build_agent', build_then_change)


def _rescale_without_low(stack):
    from fixed.env import StepSignal

    def physical_action(self, action):
        action = np.asarray(action, dtype=np.float64).reshape(2)
        # BUG-1: (high - low) / 2 * (a + 1) forgets low; the clip then pulls it into range.
        value = (self.physical_high - self.physical_low) / 2 * (action + 1)
        value = np.clip(value, self.physical_low, self.physical_high)
        return float(value[0]), float(value[1])

    _swap(stack, StepSignal, 'physical_action', physical_action)


def _filter_the_previous_output(stack):
    import fixed.env
    from fixed.env import StepSignal

    def _set_action(self, actions):
        cutoff, offset = actions[0], actions[1]
        # BUG-2: filter the previous step's output, not the input: filters and offsets compound.
        filtered = fixed.env.butter_lowpass_filter(self.signal, cutoff, self.sample_rate / 2)
        self.signal = (filtered - offset).astype(np.float32)

    get_obs = StepSignal._get_obs

    def _get_obs(self):
        obs = get_obs(self)
        obs['observation'] = self.signal.copy()  # BUG-2: the agent sees the processed signal
        return obs

    _swap(stack, StepSignal, '_set_action', _set_action)
    _swap(stack, StepSignal, '_get_obs', _get_obs)


def _success_does_not_end_an_episode(stack):
    from fixed.env import StepSignal

    step = StepSignal.step

    def step_without_an_end(self, action):
        obs, reward, _, _, info = step(self, action)
        # BUG-3: the env never ends an episode, not even on success; only the caller's step limit
        # does (the question's fit(nb_max_episode_steps=...), here the time limit).
        return obs, reward, False, self.elapsed_steps >= self.max_episode_steps, info

    _swap(stack, StepSignal, 'step', step_without_an_end)


def _question_warmups(stack):
    from original.hyperparameters import HYPERPARAMETERS as question

    def set_warmups(agent):
        # BUG-4: the question's warmups, uncapped: 2,000 and 10,000 steps.
        agent.nb_steps_warmup_critic = question.nb_steps_warmup_critic
        agent.nb_steps_warmup_actor = question.nb_steps_warmup_actor

    _after_build(stack, set_warmups)


def _linear_actor(stack):
    import fixed.agent
    import original.agent

    # BUG-6: the question's actor, linear output (window length 1, as the question types it).
    _swap(stack, fixed.agent, 'build_actor', lambda env, window_length=1: original.agent.build_actor(env))


def _float16_bounds(stack):
    from fixed.env import StepSignal

    init = StepSignal.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        # BUG-7: the question's bounds, rounded through float16 (the highest cutoff Nyquist - 0.1).
        low = np.array([10e-4, self.physical_low[1]], dtype=np.float16).astype(np.float64)
        high = np.array([self.sample_rate / 2 - 0.1, self.physical_high[1]], dtype=np.float16).astype(np.float64)
        self.physical_low, self.physical_high = low, high

    _swap(stack, StepSignal, '__init__', __init__)


def _transfer_function_filter(stack):
    import fixed.env
    import original.env

    _swap(stack, fixed.env, 'butter_lowpass_filter', original.env.butter_lowpass_filter)  # BUG-8


def _ornstein_uhlenbeck_noise(stack):
    from rl.random import OrnsteinUhlenbeckProcess

    from original.hyperparameters import HYPERPARAMETERS as question

    def set_noise(agent):
        # BUG-11: the question's OU noise, keras-rl's dt=1e-2: almost constant within an episode.
        agent.random_process = OrnsteinUhlenbeckProcess(size=agent.nb_actions, theta=question.noise_theta, mu=0,
                                                        sigma=question.noise_sigma)

    _after_build(stack, set_noise)


def _raw_observations(stack):
    from rl.core import Processor

    def no_scaling(agent):
        agent.processor = Processor()  # BUG-17: keras-rl's processor passes observations through raw

    _after_build(stack, no_scaling)


def _store_unclipped_actions(stack):
    from fixed.keras_rl2_fixes import FixedDDPGAgent

    def select_action(self, state):
        # BUG-18: actor output plus noise, stored as it is (keras-rl2's select_action); the env clips what it applies.
        return super(FixedDDPGAgent, self).select_action(state)

    _swap(stack, FixedDDPGAgent, 'select_action', select_action)


def _distance_that_grows_with_length(stack):
    from fixed.env import StepSignal

    def compute_reward(self, goal_achieved, goal_desired, info):
        # BUG-21: the L2 distance itself, which grows with the signal's length.
        return -np.linalg.norm(np.asarray(goal_desired) - np.asarray(goal_achieved), axis=-1)

    _swap(stack, StepSignal, 'compute_reward', compute_reward)


def _question_critic(stack):
    import fixed.agent
    import original.agent

    # BUG-23: the question's critic: the action is 2 of the first layer's 1,202 inputs.
    _swap(stack, fixed.agent, 'build_critic', lambda env, window_length=1: original.agent.build_critic(env))


REVERTS = {
    'FIX-1': Revert('rescaling that forgets low (no negative offset from [-1, 1])', patch=_rescale_without_low),
    'FIX-2': Revert('each step filters the previous output', patch=_filter_the_previous_output),
    'FIX-3': Revert('success does not end an episode', patch=_success_does_not_end_an_episode),
    'FIX-4': Revert('warmups of 2,000 and 10,000 steps', patch=_question_warmups),
    'FIX-5': Revert('replay memory of 2,000', hyperparameters=('memory_limit',)),
    'FIX-6': Revert('linear actor, no saturation penalty', hyperparameters=('saturation_penalty',), patch=_linear_actor),
    'FIX-7': Revert('float16 action bounds', patch=_float16_bounds),
    'FIX-8': Revert('(b, a) filter', patch=_transfer_function_filter),
    'FIX-11': Revert('Ornstein-Uhlenbeck noise, constant within an episode', patch=_ornstein_uhlenbeck_noise),
    'FIX-12': Revert('5-step episodes, their time limit stored as terminal',
                     hyperparameters=('max_episode_steps', 'time_limit_is_terminal')),
    'FIX-17': Revert('raw observations', patch=_raw_observations),
    'FIX-18': Revert('unclipped actions in memory', patch=_store_unclipped_actions),
    'FIX-21': Revert('L2 reward (grows with length)', patch=_distance_that_grows_with_length),
    'FIX-22': Revert('gamma 0.99, tau 1e-3', hyperparameters=('gamma', 'target_model_update')),
    'FIX-23': Revert('action joins at the first layer', patch=_question_critic),
    'IMPROVEMENT-1': Revert('no policy checks: the last iterate is kept', hyperparameters=('check_every',)),
    'IMPROVEMENT-2': Revert('actor learning rate 1e-3, the critic\'s', hyperparameters=('actor_learning_rate',)),
    'IMPROVEMENT-3': Revert('one update per environment step', hyperparameters=('gradient_steps',)),
}
"""Every fix (and improvement) that can be undone alone, by its tag."""

NOT_SWITCHABLE = {
    'FIX-9': 'it changes the GoalEnv contract (compute_reward takes info, works on batches), not the reward the '
       'agent sees: the switch for the reward is FIX-21',
    'FIX-10': 'the fixed agent turns every observation into float32 itself (FIX-19): float64 observations would '
              'reach the networks as the same float32 numbers',
    'FIX-13': 'the question\'s BoltzmannQPolicy was never used by DDPGAgent: removing it changed nothing to revert',
    'FIX-14': 'printing changes no number of a run, only its output and speed',
    'FIX-15': 'keras-rl2\'s int16 step counter only wraps past 32,767 steps; the budget is 5,000',
    'FIX-16': 'the history\'s file format changes no number of a run',
    'FIX-19': 'the same update as stock keras-rl2, to the weights (test_fixed_agent_update_gives_stock_keras_rl_weights), '
        'only five times slower; --plain-keras-rl2 trains on keras-rl2\'s own update instead',
    'FIX-20': 'with a window of 1 the hand-typed (1,) and window_length agree',
    'IMPROVEMENT-4': 'TensorBoard event files, written only when asked, change no number of a run',
    'IMPROVEMENT-5': 'hindsight replay is off unless --her asks for it: --her is its switch, and a run without it '
                     'is the run it always was',
}
"""Every fix (and improvement) without a switch, and why, in one line."""

SWITCHES = tuple(REVERTS)
"""The tags with a switch, in the order of the fixes."""


def parse_fix_list(text):
    """``"4,6,23"`` -> ``('FIX-4', 'FIX-6', 'FIX-23')``, in the order of ``REVERTS``.

    A token is a fix's number (``4``), its tag (``FIX-4``) or an improvement's (``IMPROVEMENT-2``,
    or ``I2``). A ``ValueError`` names a token without a switch and what is allowed.
    """
    keys = set()
    for token in (text or '').split(','):
        token = token.strip().upper()
        if not token:
            continue
        if token.isdigit():
            key = f'FIX-{int(token)}'
        elif re.fullmatch(r'I\d+', token):
            key = f'IMPROVEMENT-{int(token[1:])}'
        else:
            key = re.sub(r'-0*(\d+)$', r'-\1', token)
        if key in NOT_SWITCHABLE:
            raise BadInput(f'{key} has no switch: {NOT_SWITCHABLE[key]}')
        if key not in REVERTS:
            raise BadInput(f'{token!r} is not a fix with a switch; those are {", ".join(REVERTS)} '
                             f'(a number n means FIX-n)')
        keys.add(key)
    return tuple(key for key in REVERTS if key in keys)


def reverted_hyperparameters(hyperparameters, fixes):
    """The table with the original's value in every field that one of ``fixes`` sets."""
    from original.hyperparameters import HYPERPARAMETERS as question

    changes = {name: getattr(question, name) for key in fixes for name in REVERTS[key].hyperparameters}
    return dataclasses.replace(hyperparameters, **changes)


@contextlib.contextmanager
def reverted(fixes):
    """While the block runs, the fixed code behaves as the original for each of ``fixes``."""
    if fixes:
        from shared import keras_rl  # noqa: F401  (before any patch imports keras-rl: tf-keras first)
    with contextlib.ExitStack() as stack:
        for key in fixes:
            if REVERTS[key].patch is not None:
                REVERTS[key].patch(stack)
        yield


@contextlib.contextmanager
def reverted_training(args, hyperparameters):
    """A training run with the fixes ``args.revert`` names undone: while the block runs, the code
    behaves as the original for each, and the table it yields has the original's value in each
    field they set (``hyperparameters``: the run's table otherwise)."""
    with reverted(args.revert):
        if args.revert:
            log.info('reverted: %s; every other fix in place', ', '.join(args.revert))
        yield reverted_hyperparameters(hyperparameters, args.revert)


def add_revert_option(parser):
    """``--revert 4,6,23``: the fixes a training verb undoes (default: none)."""
    parser.add_argument('--revert', type=revert_argument, default=(), metavar='4,6,23',
                        help='undo these fixes and keep every other one: the original\'s behaviour for each; '
                             'a fix by its number (4 is FIX-4), an improvement by its tag (IMPROVEMENT-2, or I2 '
                             'for short) (docs/ablation.md)')


def revert_argument(text):
    try:
        return parse_fix_list(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
