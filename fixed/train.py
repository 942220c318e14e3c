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
from fixed import NB_STEPS  # the default budget, kept where the command line reads it without TensorFlow
from fixed.env import MAX_OBSERVED_SAMPLES, DownsampleObservation, FlattenDictWrapper
from stepsignal.files import write_json
from stepsignal.keras_rl import OldStepAPI
from stepsignal.limits import MAX_KERAS_RL_STEPS
from stepsignal.progress import ProgressLog
from stepsignal.scenario import question_scenario
from stepsignal.seeding import seed_everything
from stepsignal.trace import TraceRecorder, weights_changed

log = logging.getLogger(__name__)

FILENAME = 'stepsignal_ddpg'
UNSEEN_SCENARIOS = 100
"""How many never-seen scenarios measure a ``random_scenarios`` run's generalisation."""
UNSEEN_SEED = 1_000_000
"""Seeds of the never-seen scenarios start here, far from any training seed."""


def make_env(scenario=None, seed=None, random_scenarios=False, observed_samples=MAX_OBSERVED_SAMPLES,
             **env_kwargs):
    """The corrected env: gymnasium.make, flatten ``observation`` and ``desired_goal``, and
    present it to keras-rl with the old step API.

    ``random_scenarios=True`` makes ``stepsignal-random-v0`` (a new step scenario at every reset,
    ``env_kwargs`` may hold its ``ranges``) instead of the env on ``scenario``. Signals longer than
    ``observed_samples`` are shown to the agent as that many block averages (None: never).
    """
    if random_scenarios:
        env = gymnasium.make('stepsignal-random-v0', **env_kwargs)
    else:
        scenario = scenario or question_scenario()
        env = gymnasium.make('stepsignal-v0', input_signal=scenario.input_signal, sample_rate=scenario.sample_rate,
                             desired_signal=scenario.desired_signal, **env_kwargs)
    if observed_samples is not None:  # audio-length signals: a compact observation (docs/your_signal.md)
        env = DownsampleObservation(env, keys=['observation', 'desired_goal'], size=observed_samples)
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


def evaluate_unseen(agent, count=UNSEEN_SCENARIOS, first_seed=UNSEEN_SEED, **env_kwargs):
    """Generalisation: the noise-free policy on ``count`` scenarios drawn with seeds it never trained on.

    Each scenario is ``stepsignal-random-v0`` reset with seed ``first_seed + i``; training draws
    its scenarios from one generator seeded with the run's seed (below 1,000,000).
    """
    outcomes = [evaluate_policy(agent, make_env(seed=first_seed + i, random_scenarios=True, **env_kwargs))
                for i in range(count)]
    distances = sorted(o['l2_distance'] for o in outcomes)
    return {
        'scenarios': count,
        'seeds': f'{first_seed}-{first_seed + count - 1}',
        'success_rate': sum(o['success'] for o in outcomes) / count,
        'median_l2': distances[count // 2],
        'worst_l2': distances[-1],
    }


def train(out_dir, seed=0, nb_steps=NB_STEPS, scenario=None, window_length=WINDOW_LENGTH,
          random_scenarios=False, env_kwargs=None, about=None):
    """Train the fixed agent with everything written into ``out_dir``.

    Args:
        out_dir: the folder for every file of the run (created if missing).
        seed: seeds numpy, TensorFlow, Python and the env.
        nb_steps: environment steps to train.
        scenario: the signals to train on (default: the question's).
        window_length: observations per state (docs/window_length.md).
        random_scenarios: train on a new step scenario at every reset instead, and measure the
            policy on never-seen ones (``evaluate_unseen``).
        env_kwargs: more arguments for the env (``cutoff_range``, ``distance_threshold``, ...).
        about: a dictionary copied into ``result.json`` under ``"input"`` (what was trained on).

    Returns ``(agent, result)``: the trained agent and the dictionary written to ``result.json``.
    Ctrl-C during training stops it; the results so far are written completely and
    ``result["interrupted"]`` is true.
    """
    if not 1 <= nb_steps <= MAX_KERAS_RL_STEPS:
        raise ValueError(f'nb_steps must be between 1 and {MAX_KERAS_RL_STEPS} (keras-rl2 counts steps in '
                         f'np.int16), got {nb_steps}')
    env_kwargs = dict(env_kwargs or {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    seed_everything(seed)

    env = make_env(scenario, seed=seed, random_scenarios=random_scenarios, **env_kwargs)
    agent = build_agent(env, nb_steps, reference_observation=env.reset(), window_length=window_length)

    recorder = TraceRecorder(env, describe_step)
    actor_before, critic_before = agent.actor.get_weights(), agent.critic.get_weights()
    start = time.perf_counter()
    # FIX-12: no nb_max_episode_steps: the env truncates by itself and the agent does not store
    # a truncation as terminal.
    # FIX-15: nb_steps is checked against keras-rl2's int16 counter above and in agent.fit.
    # keras-rl's fit catches Ctrl-C itself and returns: agent.step then says how far it got.
    hist = agent.fit(recorder, nb_steps=nb_steps, visualize=False, verbose=0,
                     callbacks=[ProgressLog(nb_steps, label=f'fixed seed {seed}')])
    train_seconds = time.perf_counter() - start
    steps_trained = int(agent.step)
    if steps_trained < nb_steps:
        log.warning('interrupted after %d of %d training steps: writing the results so far', steps_trained, nb_steps)

    # FIX-16: the history as JSON: plain numbers any tool can read, nothing runs when loaded.
    write_json(out / 'history.json', {key: [float(v) for v in values] for key, values in hist.history.items()})
    (out / 'weights').mkdir(exist_ok=True)
    agent.save_weights(str(out / 'weights' / '{}_weights.h5'.format(FILENAME)), overwrite=True)

    if random_scenarios:  # the question's scenario is one of the family; the offset range is the family's
        evaluation_env = make_env(question_scenario(), max_offset=env.unwrapped.ranges.max_offset())
    else:
        evaluation_env = make_env(scenario, **env_kwargs)
    result = {
        'variant': 'fixed',
        'seed': seed,
        'steps': nb_steps,
        'steps_trained': steps_trained,
        # The two wall-time fields are the only ones that differ between runs of the same seed.
        'train_seconds': round(train_seconds, 3),
        'steps_per_second': round(steps_trained / train_seconds, 1),
        'interrupted': steps_trained < nb_steps,
        'success_threshold': env.unwrapped.distance_threshold,
        **evaluate_policy(agent, evaluation_env),
    }
    if random_scenarios:
        result['unseen'] = evaluate_unseen(agent, **env_kwargs)
    if about:
        result['input'] = about
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
    if random_scenarios:
        log.info('seed %d: success on %d never-seen scenarios: %.0f%%', seed, result['unseen']['scenarios'],
                 100 * result['unseen']['success_rate'])
    return agent, result
