"""The question's training script, corrected: build the env and the agent, fit, save, evaluate.

Writes into one output folder: ``result.json`` (what the trained, noise-free policy does on a
fresh episode, and how long training took), ``history.json``, the weights as HDF5, and
``trace.json`` in the original's format.
"""
import logging
import time
from pathlib import Path

from stepsignal import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

import gymnasium

import fixed  # noqa: F401  (registers stepsignal-v0 with Gymnasium)
from fixed.agent import WINDOW_LENGTH, build_agent
from fixed.env import FlattenDictWrapper
from stepsignal.files import write_json
from stepsignal.keras_rl import OldStepAPI
from stepsignal.limits import MAX_KERAS_RL_STEPS
from stepsignal.progress import ProgressLog
from stepsignal.scenario import question_scenario
from stepsignal.seeding import seed_everything
from stepsignal.trace import TraceRecorder, weights_changed

log = logging.getLogger(__name__)

FILENAME = 'stepsignal_ddpg'
NB_STEPS = 5000
"""Default training budget in environment steps (the learning bar allows at most 5,000)."""


def make_env(scenario=None, seed=None, **env_kwargs):
    """The corrected env: gymnasium.make, flatten ``observation`` and ``desired_goal``, and
    present it to keras-rl with the old step API."""
    scenario = scenario or question_scenario()
    env = gymnasium.make('stepsignal-v0', input_signal=scenario.input_signal, sample_rate=scenario.sample_rate,
                         desired_signal=scenario.desired_signal, **env_kwargs)
    env = FlattenDictWrapper(env, dict_keys=['observation', 'desired_goal'])
    return OldStepAPI(env, seed=seed)


def describe_step(reward, info, printed):
    """Read what the fixed env applied from its ``info`` (it prints nothing, FIX-14)."""
    return {'cutoff_hz': info['cutoff_hz'], 'offset': info['offset'], 'l2_distance': info['l2_distance']}


def evaluate_policy(agent, env):
    """The noise-free policy's first action on a fresh episode, and what it achieves."""
    action = agent.policy_action(agent.processor.process_observation(env.reset()))
    _, reward, _, info = env.step(action)
    return {
        'action': [float(a) for a in action],
        'cutoff_hz': info['cutoff_hz'],
        'offset': info['offset'],
        'reward': float(reward),
        'l2_distance': info['l2_distance'],
        'success': bool(info['is_success']),
    }


def train(out_dir, seed=0, nb_steps=NB_STEPS, scenario=None, window_length=WINDOW_LENGTH):
    """Train the fixed agent with everything written into ``out_dir``.

    Returns ``(agent, result)``: the trained agent and the dictionary written to ``result.json``.
    """
    if not 1 <= nb_steps <= MAX_KERAS_RL_STEPS:
        raise ValueError(f'nb_steps must be between 1 and {MAX_KERAS_RL_STEPS} (keras-rl2 counts steps in '
                         f'np.int16), got {nb_steps}')
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)

    env = make_env(scenario, seed=seed)
    agent = build_agent(env, nb_steps, reference_observation=env.reset(), window_length=window_length)

    recorder = TraceRecorder(env, describe_step)
    actor_before, critic_before = agent.actor.get_weights(), agent.critic.get_weights()
    start = time.perf_counter()
    # FIX-12: no nb_max_episode_steps: the env truncates by itself and the agent does not store
    # a truncation as terminal.
    # FIX-15: nb_steps is checked against keras-rl2's int16 counter above and in agent.fit.
    hist = agent.fit(recorder, nb_steps=nb_steps, visualize=False, verbose=0,
                     callbacks=[ProgressLog(nb_steps, label=f'fixed seed {seed}')])
    train_seconds = time.perf_counter() - start

    # FIX-16: the history as JSON: plain numbers any tool can read, nothing runs when loaded.
    write_json(out / 'history.json', {key: [float(v) for v in values] for key, values in hist.history.items()})
    (out / 'weights').mkdir(exist_ok=True)
    agent.save_weights(str(out / 'weights' / '{}_weights.h5'.format(FILENAME)), overwrite=True)

    result = {
        'variant': 'fixed',
        'seed': seed,
        'steps': nb_steps,
        'train_seconds': round(train_seconds, 3),
        'steps_per_second': round(nb_steps / train_seconds, 1),
        'success_threshold': env.unwrapped.distance_threshold,
        **evaluate_policy(agent, make_env(scenario)),
    }
    trace = {
        'variant': 'fixed',
        'seed': seed,
        'nb_steps': nb_steps,
        'actor_weights_changed': weights_changed(actor_before, agent.actor.get_weights()),
        'critic_weights_changed': weights_changed(critic_before, agent.critic.get_weights()),
        'steps': recorder.steps,
    }
    write_json(out / 'trace.json', trace)
    write_json(out / 'result.json', result)
    log.info('seed %d: cutoff %.4g Hz, offset %.4f, L2 %.3f, success %s (%.0f s, %.0f steps/s)', seed,
             result['cutoff_hz'], result['offset'], result['l2_distance'], result['success'],
             train_seconds, result['steps_per_second'])
    return agent, result
