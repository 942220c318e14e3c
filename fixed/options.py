"""Training the fixed setup from a command line: its options, and how a run ends, in one place.

``python -m fixed`` (the question's scenario) and the ``python -m stepsignal`` verbs that train the
fixed agent on other signals (``scenarios``, ``process``) take the same options and end a run the
same way: the kept policy saved in ``OUT/policy/`` (``fixed.policy``), then ``result.json``
written once, whole, with the fixes that were reverted.
"""
import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from shared.checks import BadInput
from shared.cli import INTERRUPTED, add_seed_option, refuse, steps_argument, writable_folder
from shared.files import write_json

from .extras import Extras
from .hindsight import MAX_K, STRATEGIES, Hindsight, k_problem  # IMPROVEMENT-5
from .hyperparameters import HYPERPARAMETERS

log = logging.getLogger(__name__)


MOVED = {'--input': 'process', '--target': 'process', '--target-level': 'process', '--sample-rate': 'process',
         '--target-sample-rate': 'process', '--cutoff-range': 'process', '--success-rms': 'process',
         '--policy': 'process', '--random-scenarios': 'scenarios', '--revert': 'train'}
"""Options ``python -m fixed`` had until the kit's verbs took them over: each is answered with the new command."""


def answer_a_moved_option(parser, argv):
    """``python -m fixed --input ...`` is now ``python -m stepsignal process --input ...``: say so, exit 2."""
    for token in argv:
        verb = MOVED.get(token.split('=')[0])
        if verb is not None:
            rest = ' '.join(t for t in argv if t != '--random-scenarios')
            refuse(parser, f'{token.split("=")[0]} has moved: run python -m stepsignal {verb} {rest}')


def parse_question_run(parser, argv=None):
    """``python -m fixed``'s command line (``argv``; None: ``sys.argv``), parsed with the training options
    and, IMPROVEMENT-5, the ``--her`` options beside ``parser``'s own; first checked for an option that
    moved to a verb (``MOVED``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    answer_a_moved_option(parser, argv)
    add_training_options(parser, seed=False)
    add_her_options(parser)
    return parser.parse_args(argv)


def add_training_options(parser, seed=True):
    """``--seed`` (unless ``seed`` is False), ``--steps``, ``--tensorboard`` and ``--plain-keras-rl2``. (``--revert``, which
    undoes fixes, belongs to the verbs above both variants: ``stepsignal.reverts``.)"""
    if seed:
        add_seed_option(parser)
    parser.add_argument('--steps', type=steps_argument, default=HYPERPARAMETERS.nb_steps,
                        help='environment steps in all: training steps and policy checks (one step of the '
                             f'noise-free policy every {HYPERPARAMETERS.check_every} training steps; default '
                             f'{HYPERPARAMETERS.nb_steps}, at most 32767; the warmups take at most a tenth of them, '
                             'and at least one batch)')
    parser.add_argument('--tensorboard', metavar='DIR',
                        help='also write TensorBoard event files, into DIR/<name of --out> (open them with '
                             'tensorboard --logdir DIR; docs/ecosystem.md)')
    add_plain_keras_rl2_option(parser)


def add_plain_keras_rl2_option(parser):
    """``--plain-keras-rl2``: keras-rl2's own update instead of the fast copy (``check_update_options`` checks it)."""
    parser.add_argument('--plain-keras-rl2', action='store_true',
                        help='train on keras-rl2\'s own DDPG update and SequentialMemory, the fixes in place, '
                             'instead of the same update in one graph call on a float32 memory (speed only: '
                             'slower, the same learning, measured in docs/bugs.md at FIX-19)')


def check_update_options(hindsight, plain_keras_rl2):
    """A ``BadInput`` for ``--her`` beside ``--plain-keras-rl2``: hindsight replay builds on the fast path's memory."""
    if hindsight is not None and plain_keras_rl2:
        raise BadInput('--her replays from the fast path\'s memory (fixed/hindsight.py): drop --plain-keras-rl2')


def add_her_options(parser):
    """IMPROVEMENT-5: ``--her``, ``--her-strategy``, ``--her-k`` (fixed/hindsight.py, docs/her.md)."""
    group = parser.add_argument_group('hindsight experience replay (IMPROVEMENT-5, docs/her.md)')
    group.add_argument('--her', action='store_true',
                       help='replay stored transitions with goals their episodes reached, rewards recomputed by the '
                            'env\'s compute_reward (off by default)')
    group.add_argument('--her-strategy', choices=STRATEGIES,
                       help=f'where a new goal comes from, within its episode: this step or a later one, the last '
                            f'step, any step (default {Hindsight.strategy})')
    group.add_argument('--her-k', type=her_k_argument, metavar='K',
                       help=f'goals drawn per real one, 1 to {MAX_K}: K/(K+1) of each batch is relabelled '
                            f'(default {Hindsight.k})')


def her_k_argument(text):
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a whole number; allowed: 1 to {MAX_K}') from None
    problem = k_problem(k)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return k


def hindsight_option(args):
    """The run's ``fixed.hindsight.Hindsight``, or None without ``--her``; a ``ValueError`` for
    ``--her-strategy`` or ``--her-k`` without ``--her``."""
    if not args.her:
        given = [name for name, value in (('--her-strategy', args.her_strategy), ('--her-k', args.her_k))
                 if value is not None]
        if given:
            raise BadInput(f'{" and ".join(given)} {"sets" if len(given) == 1 else "set"} hindsight replay, '
                             f'which is off: add --her')
        return None
    defaults = Hindsight()
    return Hindsight(strategy=args.her_strategy or defaults.strategy, k=args.her_k or defaults.k)


def her_arguments(hindsight):
    """The command-line options that give a run ``hindsight`` (None: none), for a run started from another."""
    if hindsight is None:
        return []
    return ['--her', '--her-strategy', hindsight.strategy, '--her-k', str(hindsight.k)]


def check_training_options(args):
    """What can be checked before any work: the ``--tensorboard`` folder, the ``--her`` options (then
    ``args.hindsight``), ``--plain-keras-rl2`` beside them (then ``args.extras``, the run's ``Extras``).
    Raises ``BadInput``."""
    if args.tensorboard is not None:
        writable_folder(args.tensorboard, '--tensorboard')
    args.hindsight = hindsight_option(args) if hasattr(args, 'her') else None
    check_update_options(args.hindsight, args.plain_keras_rl2)
    args.extras = Extras(args.tensorboard, args.hindsight, fast_update=not args.plain_keras_rl2)


def run_hyperparameters(args):
    """The table this run trains with: the fixed setup's, with ``--steps``."""
    return dataclasses.replace(HYPERPARAMETERS, nb_steps=args.steps)


def trained_on(args, mode, **more):
    """What a saved policy records of its training run (``policy.json``'s ``trained_on``)."""
    if getattr(args, 'hindsight', None) is not None:  # IMPROVEMENT-5, recorded only when on
        more = {'her': args.hindsight.record(), **more}
    reverted = list(getattr(args, 'revert', ()))  # the fixes a verb above both variants undid (stepsignal.reverts)
    return {'mode': mode, 'seed': args.seed, 'steps': args.steps, 'reverted': reverted, **more}


def save_run(out, agent, env, result, trained_on, samples=None, family=None):
    """Save the kept policy (``env``: one env of the run) into ``OUT/policy``; return ``result``.
    ``samples``, ``family``: as ``fixed.policy.save_policy`` takes them."""
    from .policy import save_policy

    save_policy(Path(out) / 'policy', agent, env, trained_on, samples=samples, family=family)
    result['reverted'] = trained_on['reverted']  # the table in result.json is the one the run read
    return result


def write_result(out, result):
    """``OUT/result.json``, once; the exit status: 0, or 130 if Ctrl-C stopped the training."""
    write_json(Path(out) / 'result.json', result)
    if result['interrupted']:
        log.warning('interrupted: the results after %d of %d steps are in %s', result['steps_trained'],
                    result['steps'], out)
        return INTERRUPTED
    return 0
