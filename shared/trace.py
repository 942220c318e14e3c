"""Record every environment step of a keras-rl run, for ``trace.json``.

``TraceRecorder`` sits between keras-rl's ``Agent.fit`` and the env and speaks the old gym API
(``reset() -> obs``, ``step(a) -> (obs, reward, done, info)``) that keras-rl2 uses. It records,
per step: the episode and step index, the raw action the agent handed the env, what the env
applied (cutoff in Hz and offset), the reward and the L2 distance to the goal.

What the env applied is the env's own business, so each variant passes a ``describe`` function
that reads it: the original env only *prints* it (its ``print(cutoff, offset)``), so the recorder
captures what a step prints and passes it along; the fixed env reports it in ``info``.
"""
import contextlib
import io
import sys

import numpy as np


class TraceRecorder:
    """Wrap an old-API env and keep one record per step in ``self.steps``.

    Args:
        env: the env keras-rl would drive (old 4-tuple API).
        describe: ``describe(reward, info, printed) -> dict`` with keys ``cutoff_hz``, ``offset``
            and ``l2_distance``, where ``printed`` is what the env's step wrote to stdout.
        echo: write what the env printed on to the real stdout, as it would have been.
    """

    def __init__(self, env, describe, echo=True):
        self.env = env
        self.describe = describe
        self.echo = echo
        self.steps = []
        self.episode = -1
        self.episode_step = 0

    def __getattr__(self, name):  # action_space, observation_space, ... come from the env
        if name == 'env':  # not set yet (copy.deepcopy builds the copy before its __dict__)
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, **kwargs):
        self.episode += 1
        self.episode_step = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            observation, reward, done, info = self.env.step(action)
        if self.echo and printed.getvalue():
            sys.stdout.write(printed.getvalue())
        applied = self.describe(reward, info, printed.getvalue())
        self.steps.append({
            "episode": self.episode,
            "step": self.episode_step,
            "action": [float(a) for a in np.asarray(action).ravel()],
            "cutoff_hz": float(applied["cutoff_hz"]),
            "offset": float(applied["offset"]),
            "reward": float(reward),
            "l2_distance": float(applied["l2_distance"]),
        })
        self.episode_step += 1
        return observation, reward, done, info


def weights_changed(before, after):
    """True if any array of ``after`` differs from ``before`` in any bit."""
    return any(not np.array_equal(b, a) for b, a in zip(before, after))


def printed_values(printed):
    """The numbers on the last line an env printed: how the original env tells what it applied.

    The original env's ``print(cutoff, offset)`` (BUG-14) is its only report of the action it
    applied; a ``ValueError`` says the text holds no such line.
    """
    lines = printed.strip().splitlines()
    try:
        return [float(value) for value in lines[-1].split()]
    except (IndexError, ValueError):
        raise ValueError(f'expected a printed line of numbers, got {printed.strip()[-80:]!r}') from None


def printed_action(printed):
    """``(cutoff, offset)`` from the original env's ``print(cutoff, offset)``."""
    values = printed_values(printed)
    if len(values) != 2:
        raise ValueError(f'expected a printed line "CUTOFF OFFSET", got {printed.strip()[-80:]!r}')
    return values[0], values[1]


def episodes(trace):
    """Per episode of a trace: its first global step, return (sum of rewards) and last L2 distance."""
    rows = {}
    for index, step in enumerate(trace['steps']):
        row = rows.setdefault(step['episode'], {'episode': step['episode'], 'first_step': index,
                                                'return': 0.0, 'l2_distance': None})
        row['return'] += step['reward']
        row['l2_distance'] = step['l2_distance']
    return list(rows.values())
