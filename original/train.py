"""The question's training script: build the env and the agent, fit, save.

Besides what the question writes (the history pickle and the weights, under its file names),
the run writes ``trace.json``: every env step with the raw action, what the env applied and the
distance to the goal, and whether fit changed any weight. All files go into one output folder.
"""
import logging
import os
import pickle
import re
from pathlib import Path

from stepsignal import keras_rl  # noqa: F401  (PORT: before TensorFlow)

import gym

import original  # noqa: F401  (registers stepsignal-v0)
from original.agent import build_agent
from original.env import FlattenDictWrapper
from stepsignal.files import write_json
from stepsignal.scenario import question_scenario
from stepsignal.seeding import seed_everything
from stepsignal.trace import TraceRecorder, weights_changed

log = logging.getLogger(__name__)

FILENAME = 'mem20k_heaviside_flattening'
NB_STEPS = 10
NB_MAX_EPISODE_STEPS = 5


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
    cutoff, offset = (float(v) for v in re.findall(r'\S+', printed.strip().splitlines()[-1]))
    return {'cutoff_hz': cutoff, 'offset': offset, 'l2_distance': -float(reward)}  # reward = -L2


def save_weights(agent, filepath):
    """PORT: ``agent.save_weights(filepath, overwrite=True)``, written as HDF5 as Keras 2 did.

    keras-rl2 passes the ``.h5f`` name to tf-keras, which then picks TensorFlow's checkpoint
    format instead of HDF5 and fails on the critic's never-initialised optimizer step counter
    (no gradient step ever ran, BUG-4). Same file names as keras-rl: ``*_actor.h5f``, ``*_critic.h5f``.
    """
    stem, extension = os.path.splitext(filepath)
    os.makedirs(os.path.dirname(filepath), exist_ok=True)
    agent.actor.save_weights(stem + '_actor' + extension, overwrite=True, save_format='h5')
    agent.critic.save_weights(stem + '_critic' + extension, overwrite=True, save_format='h5')


def train(out_dir, seed=0):
    """Run the question's script with everything written into ``out_dir``.

    Returns ``(agent, trace)``: the trained agent (its memory is what keras-rl stored) and the
    dictionary written to ``trace.json``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)  # not in the question: makes the run repeatable (docs/porting.md)

    env = make_env()
    agent, policy = build_agent(env)
    agent.actor.summary()
    agent.critic.summary()

    recorder = TraceRecorder(env, describe_step)
    actor_before, critic_before = agent.actor.get_weights(), agent.critic.get_weights()
    # BUG-12: nb_max_episode_steps makes keras-rl force done=True at step 5 and store it in
    # memory as a terminal state: the critic learns the episode's value ends there, though the
    # env never ended it.
    # BUG-15: keras-rl2 counts steps in np.int16; under numpy 2 it wraps at 32767 to -32768,
    # fit never ends and warmups count as unfinished again (harmless at 10 steps, fatal at 40k).
    hist = agent.fit(recorder, nb_steps=NB_STEPS, visualize=False, verbose=2,
                     nb_max_episode_steps=NB_MAX_EPISODE_STEPS)

    # BUG-16: pickle ties the history to numpy's classes (np.float32, np.int16 values), cannot
    # be read by anything but Python, and runs code when loaded.
    with open(out / ('history_dqn_test_' + FILENAME + '.pickle'), 'wb') as handle:
        pickle.dump(hist.history, handle, protocol=pickle.HIGHEST_PROTOCOL)
    save_weights(agent, str(out / 'h5f_files' / 'dqn_{}_weights.h5f'.format(FILENAME)))

    trace = {
        'variant': 'original',
        'seed': seed,
        'nb_steps': NB_STEPS,
        'actor_weights_changed': weights_changed(actor_before, agent.actor.get_weights()),
        'critic_weights_changed': weights_changed(critic_before, agent.critic.get_weights()),
        'steps': recorder.steps,
    }
    write_json(out / 'trace.json', trace)
    log.info('wrote %s', out / 'trace.json')
    return agent, trace
