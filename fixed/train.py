"""The question's training script: build the env and the agent, fit, save.

This file has a twin: ``original/train.py`` runs the question's script, ``fixed/train.py`` the
corrected one; changes are marked ``# FIX-n``, ``# IMPROVEMENT-n`` or ``# PORT``. Besides the
script's own files, each run writes ``trace.json`` into its output folder: every env step with
the raw action, what the env applied and the distance to the goal, and whether fit changed any
weight.
"""
import logging
import os  # FIX-16: no pickle; the history is written as JSON
from pathlib import Path

from shared import keras_rl  # noqa: F401  (PORT: before TensorFlow)

import gymnasium  # PORT: Gymnasium

from .agent import build_agent
from .env import FlattenDictWrapper
from .extras import Extras  # IMPROVEMENT-4, IMPROVEMENT-5 and the fast update: beyond the question's script
from .hyperparameters import HYPERPARAMETERS
from .keep_best import KeepBestPolicy, PolicyCheck, run_result, split_budget  # IMPROVEMENT-1
from .progress import ProgressLog  # FIX-14: a progress line instead of keras' per-episode print
from shared.files import write_json, write_weights
from shared.old_step_api import OldStepAPI  # PORT: keras-rl2 speaks gym's old step API
from shared.scenario import question_scenario
from shared.seeding import seed_everything
from shared.table import as_record
from shared.trace import TraceRecorder, weights_changed  # FIX-14: the fixed env prints nothing to parse

log = logging.getLogger(__name__)

FILENAME = 'stepsignal_ddpg'  # FIX-16: new files (JSON history, HDF5 weights), a name that says what they are


def make_env(scenario=None, time_limit=HYPERPARAMETERS.max_episode_steps):  # FIX-3: an env's own time limit
    """The question's env: gym.make, then flatten ``observation`` and ``desired_goal``."""
    scenario = scenario or question_scenario()
    # PORT: Gymnasium's make; its env checker passes, so it stays on.
    env = gymnasium.make('stepsignal-v1', input_signal=scenario.input_signal, sample_rate=scenario.sample_rate,
                         desired_signal=scenario.desired_signal, time_limit=time_limit)  # FIX-3
    env = FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal'])
    env = OldStepAPI(env)  # PORT
    env.reset()
    return env


def describe_step(reward, info, printed):
    """FIX-14: read what the fixed env applied from its ``info`` (it prints nothing)."""
    return {'cutoff_hz': info['cutoff_hz'], 'offset': info['offset'], 'l2_distance': info['l2_distance']}


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


def train(out_dir, seed=0, make_env=make_env, hp=HYPERPARAMETERS, check=None,  # IMPROVEMENT-1: check
          extras=Extras()):  # IMPROVEMENT-4, -5: TensorBoard, hindsight; the fast update (speed only)
    """Run the question's script with everything written into ``out_dir``.

    ``make_env``: makes the env to train on, wrapped for keras-rl (default: this module's, the
    question's scenario). ``hp``: the numbers (``hyperparameters.py``). ``check``: IMPROVEMENT-1's
    (``keep_best.py``); ``extras``: an ``Extras`` (``extras.py``).

    Returns ``(agent, result)``: the trained agent and, IMPROVEMENT-1, what its kept policy does.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)  # not in the question: makes the run repeatable (docs/porting.md)

    env = make_env(time_limit=hp.max_episode_steps)  # FIX-12: the table's time limit, a truncation
    # IMPROVEMENT-1: check the noise-free policy as training goes, on envs of its own; keep the best.
    check = check or PolicyCheck([make_env(time_limit=hp.max_episode_steps)], every=hp.check_every)
    training_steps, _ = split_budget(hp.nb_steps, check.every, check.steps_per_check)
    # FIX-13: no policy object. FIX-17: the first observation sets the observation scaling.
    agent = build_agent(env, hp, training_steps, reference_observation=env.reset(), extras=extras)
    keep_best = KeepBestPolicy(agent, check)
    # FIX-14: no model summaries on stdout; the table of numbers is in result.json.

    recorder = TraceRecorder(env, describe_step)
    actor_before, critic_before = agent.actor.get_weights(), agent.critic.get_weights()
    # FIX-12: no nb_max_episode_steps: the env truncates by itself, not stored as terminal.
    # FIX-15: FixedDDPGAgent.fit refuses more steps than keras-rl2's int16 counter can count.
    callbacks = [ProgressLog(training_steps, label=f'fixed seed {seed}'), keep_best] + extras.callbacks(keep_best, out)
    hist = agent.fit(recorder, nb_steps=training_steps, visualize=False, verbose=0, callbacks=callbacks)

    # FIX-16: the history as JSON: plain numbers any tool can read, nothing runs when loaded.
    write_json(out / 'history.json', {key: [float(v) for v in values] for key, values in hist.history.items()})
    save_weights(agent, str(out / 'weights' / '{}_weights.h5'.format(FILENAME)))  # FIX-16: HDF5 files named .h5
    result = {**run_result(agent, keep_best, env, hp, seed, training_steps), **extras.record()}  # IMPROVEMENT-1

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
    return agent, result  # IMPROVEMENT-1: the command writes result.json (fixed.options)
