"""One case of the benchmark's scaling part, in a process of its own so that its memory is its own.

``python -m stepsignal.experiments.scaling_probe SAMPLES OBSERVATION`` prints one JSON line: the
fixed env's step time and peak allocation on a step signal of SAMPLES samples, then the agent's
training step time and memory with the ``compact`` observation (block means: what the kit does)
or the ``raw`` one (every sample). ``stepsignal.experiments.bench.bench_scaling`` runs it per case.
"""
import json
import sys
import time
import tracemalloc

import numpy as np


def rss_mb():
    """Resident memory now (a peak would include the parent's, inherited at fork)."""
    with open('/proc/self/statm') as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def measure(samples, observation):
    from fixed.env import StepSignal  # the env alone first: its memory without TensorFlow's
    from shared.scenario import Scenario

    rate = samples / 3.0
    t = np.arange(samples) / rate
    scenario = Scenario(time=t, input_signal=0.5 * (np.sign(t - 1) + 9), desired_signal=3 * np.ones(samples),
                        sample_rate=rate)
    actions = np.random.default_rng(0).uniform(-1, 1, (60, 2)).astype(np.float32)
    tracemalloc.start()  # the env's peak allocation over a few steps (tracemalloc slows it: not timed)
    raw = StepSignal(scenario.input_signal, rate, scenario.desired_signal)
    raw.reset()
    for action in actions[:10]:
        raw.step(action)
    env_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    start = time.perf_counter()
    for action in actions[10:]:
        raw.step(action)
    env_ms = (time.perf_counter() - start) / 50 * 1e3

    from shared import keras_rl  # noqa: F401  (before TensorFlow)
    from fixed.agent import build_agent
    from fixed.hyperparameters import HYPERPARAMETERS
    from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES
    from stepsignal.own_signal.any_signal import make_env

    env = make_env(scenario, seed=0, observed_samples=MAX_OBSERVED_SAMPLES if observation == 'compact' else None)
    before_agent = rss_mb()
    agent = build_agent(env, HYPERPARAMETERS, 1000, reference_observation=env.reset())
    agent.nb_steps_warmup_critic = agent.nb_steps_warmup_actor = 64
    agent.fit(env, nb_steps=80, verbose=0)
    start = time.perf_counter()
    agent.fit(env, nb_steps=100, verbose=0)  # warmup 64 again: 36 of these steps train
    train_ms = (time.perf_counter() - start) / 100 * 1e3
    return {'samples': samples, 'observation': observation, 'inputs': env.observation_space.shape[0],
            'env_step_ms': env_ms, 'env_peak_mb': env_peak, 'train_step_ms': train_ms,
            'agent_mb': rss_mb() - before_agent}


def main(argv=None):
    from shared.cli import command_parser

    parser = command_parser('python -m stepsignal.experiments.scaling_probe', __doc__)
    parser.add_argument('samples', type=int, help='the step signal\'s length, in samples')
    parser.add_argument('observation', choices=('compact', 'raw'), help='what the agent reads')
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(measure(args.samples, args.observation)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
