"""The question's training script: build the env and the agent, fit, save.

This file has a twin: ``original/train.py`` runs the question's script, ``fixed/train.py`` the
corrected one; changes are marked ``# FIX-n``, ``# IMPROVEMENT-n`` or ``# PORT``. Besides the
script's own files, each run writes ``trace.json`` into its output folder: every env step with
the raw action, what the env applied and the distance to the goal, and whether fit changed any
weight.
"""
import logging
import os
import pickle
from pathlib import Path

from shared import keras_rl  # noqa: F401  (PORT: before TensorFlow)

import gym

from .agent import build_agent
from .env import FlattenDictWrapper
from .hyperparameters import HYPERPARAMETERS
from shared.files import list_before_writing, write_json, write_weights
from shared.scenario import question_scenario
from shared.seeding import seed_everything
from shared.table import as_record
from shared.trace import TraceRecorder, printed_action, weights_changed

log = logging.getLogger(__name__)

FILENAME = 'mem20k_heaviside_flattening'


def make_env(scenario=None):
    """The question's env: gym.make, then flatten ``observation`` and ``desired_goal``."""
    scenario = scenario or question_scenario()
    # PORT: disable_env_checker, because gym 0.26's checker uses np.bool8, gone in numpy 2.
    env = gym.make('stepsignal-v0', input_signal=scenario.input_signal, sample_rate=scenario.sample_rate,
                   desired_signal=scenario.desired_signal, disable_env_checker=True)
    env = FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal'])
    env.reset()
    return env


def describe_step(reward, info, printed):
    """Read what the original env applied from its own ``print(cutoff, offset)`` line."""
    cutoff, offset = printed_action(printed)
    return {'cutoff_hz': cutoff, 'offset': offset, 'l2_distance': -float(reward)}  # reward = -L2


def save_weights(agent, filepath):
    """PORT: ``agent.save_weights(filepath, overwrite=True)``, written as HDF5 as Keras 2 did.

    keras-rl2 passes the ``.h5f`` name to tf-keras, which then picks TensorFlow's checkpoint
    format instead of HDF5 and fails on the critic's never-initialised optimizer step counter
    (no gradient step ever ran, BUG-4). Same file names as keras-rl: ``*_actor.h5f``, ``*_critic.h5f``;
    each written whole or not at all (``shared.files.write_weights``).
    """
    stem, extension = os.path.splitext(filepath)
    write_weights(agent.actor, stem + '_actor' + extension)
    write_weights(agent.critic, stem + '_critic' + extension)


def train(out_dir, seed=0, make_env=make_env, hp=HYPERPARAMETERS):
    """Run the question's script with everything written into ``out_dir``.

    ``make_env``: makes the env to train on, wrapped for keras-rl (default: this module's, the
    question's scenario). ``hp``: the numbers (``hyperparameters.py``).

    Returns ``(agent, trace)``: the trained agent (its memory is what keras-rl stored) and the
    dictionary written to ``trace.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)  # not in the question: makes the run repeatable (docs/porting.md)

    env = make_env()
    agent, policy = build_agent(env, hp)
    agent.actor.summary()
    agent.critic.summary()

    recorder = TraceRecorder(env, describe_step)
    actor_before, critic_before = agent.actor.get_weights(), agent.critic.get_weights()
    # BUG-12: nb_max_episode_steps ends each episode with done=True, stored as a terminal state.
    # BUG-15: keras-rl2 counts steps in np.int16: past 32767 it wraps and fit never ends.
    hist = agent.fit(recorder, nb_steps=hp.nb_steps, visualize=False, verbose=2,
                     nb_max_episode_steps=hp.max_episode_steps)

    # BUG-16: pickle ties the history to numpy's classes, only Python reads it, and loading runs code.
    history_file = out / ('history_dqn_test_' + FILENAME + '.pickle')
    list_before_writing(history_file)  # not in the question: --overwrite may remove it later
    with open(history_file, 'wb') as handle:
        pickle.dump(hist.history, handle, protocol=pickle.HIGHEST_PROTOCOL)
    save_weights(agent, str(out / 'h5f_files' / 'dqn_{}_weights.h5f'.format(FILENAME)))

    trace = {
        'variant': __package__,
        'seed': seed,
        'nb_steps': hp.nb_steps,
        'hyperparameters': as_record(hp),
        'actor_weights_changed': weights_changed(actor_before, agent.actor.get_weights()),
        'critic_weights_changed': weights_changed(critic_before, agent.critic.get_weights()),
        'steps': recorder.steps,
    }
    write_json(out / 'trace.json', trace)
    log.info('wrote %s', out / 'trace.json')
    return agent, trace
