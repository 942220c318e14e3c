"""A trained policy you can use again: ``OUT/policy/``, saved beside every fixed run.

``save_policy`` writes the kept actor's weights (``actor.h5``, IMPROVEMENT-1's best noise-free
policy) and ``policy.json``, what the actor reads and what its answer means (the format,
``stepsignal-policy/1``, is in docs/your_signal.md#the-saved-policy).
``stepsignal.own_signal.saved_policy`` reads it back, checks it and answers with it
(``python -m stepsignal process --policy DIR``).
"""
import importlib.metadata
import logging
import shlex
from pathlib import Path

import numpy as np

from shared.files import write_atomic, write_json

log = logging.getLogger(__name__)

FORMAT = 'stepsignal-policy/1'
ACTOR_FILE = 'actor.h5'
ABOUT_FILE = 'policy.json'
KEYS = ['observation', 'desired_goal']
"""What the actor reads, side by side, in this order: the input signal and the desired one."""
EXAMPLE_INPUT = 'input.csv'
"""For a policy trained on the question's scenario: its input signal, one value per line (the command to answer it is logged)."""


def kit_version():
    try:
        return importlib.metadata.version('stepsignal-kit')
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return 'unknown'


def save_policy(folder, agent, env, trained_on, samples=None, family=None):
    """Write ``folder/actor.h5`` and ``folder/policy.json`` for ``agent`` trained on ``env``.

    ``env``: one env of the run (keras-rl's wrappers around the fixed env): its spaces and ranges
    are what the policy serves. ``trained_on``: a dict for the record (seed, steps, signals).
    ``samples``: the length of the signals it serves, when the env holds excerpts of them.
    ``family``: for a policy trained on many clips (``stepsignal.own_signal.clip_family``), what
    they were, recorded as given; such a policy serves signals of any length at its rate.
    """
    from shared.files import write_weights

    folder = Path(folder)
    base = env.unwrapped
    observed = env.observation_space.shape[0] // 2
    write_weights(agent.actor, folder / ACTOR_FILE)
    write_json(folder / ABOUT_FILE, {
        'format': FORMAT,
        'kit_version': kit_version(),
        'signal': {'sample_rate': float(base.sample_rate),
                   'samples': None if family else int(samples or base.initial_signal.shape[0]),
                   'excerpts': bool(getattr(base, 'holds_excerpts', False))},
        'observation': {'keys': KEYS, 'values_per_key': observed,
                        'window_length': int(agent.memory.window_length),
                        'center': agent.processor.center, 'scale': agent.processor.scale},
        'actions': {'cutoff_hz': [float(base.physical_low[0]), float(base.physical_high[0])], 'cutoff_scale': 'log',
                    'offset': [float(base.physical_low[1]), float(base.physical_high[1])], 'offset_scale': 'linear',
                    **chain_record(base)},
        'success': {'distance_threshold': float(base.distance_threshold)},
        'trained_on': trained_on,
        **({'family': family} if family else {}),
    })
    log.info('saved the policy in %s; to answer a signal with it: %s', folder, use_again(folder, base, trained_on))


def chain_record(base):
    """``{'chain': ...}`` for an env whose actions set more than the question's two knobs (its
    ``chain.record()``, the stages in order), else nothing: the question's format stays as it was."""
    chain = getattr(base, 'chain', None)
    return {'chain': chain.record()} if chain is not None and len(chain.stages) > 2 else {}


def use_again(folder, base, trained_on):
    """The command that answers a signal with the policy in ``folder``: runnable as printed for the
    question's scenario (its input is written beside the policy as ``EXAMPLE_INPUT``)."""
    target = getattr(base, 'desired_signal', None)  # a family of clips has none of its own
    if trained_on.get('mode') != 'question' or target is None or np.ptp(target) != 0:
        return f'python -m stepsignal process --policy {shlex.quote(str(folder))} --input FILE --target-level LEVEL --out DIR'
    example = folder / EXAMPLE_INPUT
    write_atomic(example, lambda handle: np.savetxt(handle, np.asarray(base.initial_signal, dtype=np.float64)))
    return (f'python -m stepsignal process --policy {shlex.quote(str(folder))} --input {shlex.quote(str(example))} '
            f'--sample-rate {float(base.sample_rate):g} --target-level {float(target[0]):g} --out answer')
