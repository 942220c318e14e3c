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
import numpy as np

import fixed  # noqa: F401  (registers stepsignal-v0 with Gymnasium)
from fixed.agent import WINDOW_LENGTH, build_agent
from fixed.best_policy import CHECK_EVERY, KeepBestPolicy, split_budget
from fixed import NB_STEPS  # the default budget, kept where the command line reads it without TensorFlow
from fixed.env import MAX_OBSERVED_SAMPLES, DownsampleObservation, FlattenDictWrapper
from stepsignal.files import write_json
from stepsignal.keras_rl import OldStepAPI
from stepsignal.limits import MAX_KERAS_RL_STEPS
from stepsignal.progress import ProgressLog
from stepsignal.rates import success_rate
from stepsignal.scenario import StepRanges, question_scenario, random_step_scenario
from stepsignal.seeding import seed_everything
from stepsignal.trace import TraceRecorder, weights_changed

log = logging.getLogger(__name__)

FILENAME = 'stepsignal_ddpg'
UNSEEN_SCENARIOS = 100
"""How many never-seen scenarios measure a ``random_scenarios`` run's generalisation."""
UNSEEN_SEED = 1_000_000
"""Seeds of the never-seen scenarios start here, far from any training seed."""
CHECK_SCENARIOS = 30
"""How many scenarios one check of a ``random_scenarios`` run's policy scores (IMPROVEMENT-1)."""
CHECK_SEED = 2_000_000
"""Seeds of those check scenarios: neither training's nor the never-seen ones."""
CHECK_EVERY_RANDOM = 500
"""Training steps between two checks of a ``random_scenarios`` run (each check is 30 env steps: the
checks take 6% of the budget)."""


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


def policy_check(scenario=None, random_scenarios=False, **env_kwargs):
    """IMPROVEMENT-1: ``(check, env_steps_per_check, every)`` for ``KeepBestPolicy``.

    On one scenario a check is one env step of the noise-free policy on its own env, scored by
    its reward. On random scenarios it is ``CHECK_SCENARIOS`` fixed scenarios (seeds
    ``CHECK_SEED`` on), scored by their mean reward: the never-seen scenarios that measure
    generalisation afterwards are not among them.
    """
    if not random_scenarios:
        env = make_env(scenario, **env_kwargs)

        def check(agent):
            outcome = evaluate_policy(agent, env)
            return outcome['reward'], outcome['l2_distance'], outcome['success']

        return check, 1, CHECK_EVERY
    ranges = env_kwargs.get('ranges') or StepRanges()
    envs = [make_env(random_step_scenario(np.random.default_rng(CHECK_SEED + i), ranges), max_offset=ranges.max_offset())
            for i in range(CHECK_SCENARIOS)]

    def check_family(agent):
        outcomes = [evaluate_policy(agent, env) for env in envs]
        distances = sorted(o['l2_distance'] for o in outcomes)
        return (sum(o['reward'] for o in outcomes) / len(outcomes), distances[len(distances) // 2],
                all(o['success'] for o in outcomes))

    return check_family, CHECK_SCENARIOS, CHECK_EVERY_RANDOM


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
        'success_text': str(success_rate(sum(o['success'] for o in outcomes), count)),  # with its 95% interval
        'median_l2': distances[count // 2],
        'worst_l2': distances[-1],
    }


def prepare_run(seed, nb_steps, scenario=None, window_length=WINDOW_LENGTH, random_scenarios=False, env_kwargs=None):
    """Seed everything and build what one run trains: ``(env, agent, keep_best, training_steps)``.

    ``nb_steps`` is the whole budget of env steps; ``training_steps`` is what is left for ``fit``
    once the policy checks of IMPROVEMENT-1 (``keep_best``, a callback for ``fit``) are counted.
    """
    env_kwargs = dict(env_kwargs or {})
    seed_everything(seed)
    env = make_env(scenario, seed=seed, random_scenarios=random_scenarios, **env_kwargs)
    check, steps_per_check, every = policy_check(scenario, random_scenarios, **env_kwargs)
    training_steps, _ = split_budget(nb_steps, every, steps_per_check)
    agent = build_agent(env, training_steps, reference_observation=env.reset(), window_length=window_length)
    # IMPROVEMENT-1: check the noise-free policy as training goes; keep the best one seen.
    keep_best = KeepBestPolicy(agent, check, steps_per_check=steps_per_check, every=every)
    return env, agent, keep_best, training_steps


def train(out_dir, seed=0, nb_steps=NB_STEPS, scenario=None, window_length=WINDOW_LENGTH,
          random_scenarios=False, env_kwargs=None, about=None):
    """Train the fixed agent with everything written into ``out_dir``.

    Args:
        out_dir: the folder for every file of the run (created if missing).
        seed: seeds numpy, TensorFlow, Python and the env.
        nb_steps: environment steps in all, training and the policy checks of IMPROVEMENT-1
            together (``fixed.best_policy.split_budget``).
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
    env, agent, keep_best, training_steps = prepare_run(seed, nb_steps, scenario, window_length, random_scenarios,
                                                        env_kwargs)
    recorder = TraceRecorder(env, describe_step)
    actor_before, critic_before = agent.actor.get_weights(), agent.critic.get_weights()
    start = time.perf_counter()
    # FIX-12: no nb_max_episode_steps: the env truncates by itself and the agent does not store
    # a truncation as terminal.
    # FIX-15: nb_steps is checked against keras-rl2's int16 counter above and in agent.fit.
    # keras-rl's fit catches Ctrl-C itself and returns: agent.step then says how far it got.
    hist = agent.fit(recorder, nb_steps=training_steps, visualize=False, verbose=0,
                     callbacks=[ProgressLog(training_steps, label=f'fixed seed {seed}'), keep_best])
    train_seconds = time.perf_counter() - start
    steps_trained = int(agent.step)
    if steps_trained < training_steps:
        log.warning('interrupted after %d of %d training steps: writing the results so far', steps_trained,
                    training_steps)

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
        'training_steps': training_steps,
        'steps_trained': steps_trained,
        'check_steps': keep_best.env_steps,
        'env_steps': steps_trained + keep_best.env_steps,
        # The two wall-time fields are the only ones that differ between runs of the same seed.
        'train_seconds': round(train_seconds, 3),
        'steps_per_second': round(steps_trained / train_seconds, 1),
        'interrupted': steps_trained < training_steps,
        'success_threshold': env.unwrapped.distance_threshold,
        **evaluate_policy(agent, evaluation_env),
        'first_success_env_steps': (keep_best.first_success() or {}).get('env_steps'),
        'kept_check': keep_best.best,
        'checks': keep_best.checks,
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
        log.info('seed %d: success on never-seen scenarios: %s', seed, result['unseen']['success_text'])
    return agent, result
