"""IMPROVEMENT-1: check the noise-free policy during training and keep the best one seen.

Not a bug of the question: a well-known safeguard (Stable-Baselines3's ``EvalCallback`` with
``best_model_save_path`` does the same). DDPG's actor never sits still: it follows the critic's
gradient, which flips sign at the tip of the reward, so the actor circles the optimum by a few
hundredths of the action range, and where it happens to be at the last step is a matter of
rounding. Here the success window in the offset is +-0.02 of the action range. Checking the
noise-free policy every ``every`` training steps and keeping the best weights turns "the last
iterate" into "the best iterate seen", which is what a user wants to keep.

The checks are environment steps too, and they are counted: ``split_budget`` divides one budget
of environment steps between training and checks, and every check's steps are recorded.
docs/bugs.md#improvement-1 has the measured effect.
"""
import logging
import math
import time

import numpy as np
from shared import keras_rl  # noqa: F401  (keras-rl2 loads only after it)
from rl.callbacks import Callback

log = logging.getLogger(__name__)


def split_budget(nb_steps, every, steps_per_check):
    """Divide ``nb_steps`` environment steps into ``(training_steps, checks)``.

    A check of ``steps_per_check`` env steps follows every ``every`` training steps, and the two
    together never exceed ``nb_steps``: 5,000 steps, a 1-step check every 50,
    give 4,901 training steps and 98 checks, and the last iterate's check at the end makes 99.
    """
    if not every:  # no checks during training: one, of the last iterate, at the end
        return nb_steps - steps_per_check, 0
    training = nb_steps * every // (every + steps_per_check)
    return training, training // every


class KeepBestPolicy(Callback):
    """Every ``every`` training steps, score the noise-free actor; at the end, restore the best.

    Args:
        agent: the ``FixedDDPGAgent`` being trained (its ``actor`` is checked and restored).
        check: a ``PolicyCheck``: ``check(agent) -> (score, l2_distance, success)``, higher score
            is better, taking ``check.steps_per_check`` env steps of its own envs (never the
            training env) every ``check.every`` training steps, and changing nothing in the agent.

    After training, ``checks`` lists every check as a dict (``training_step``, ``env_steps``
    (training plus all checks so far), ``l2_distance``, ``success``), ``best`` the best one, and
    ``train_seconds`` the wall time of the training, checks included.
    """

    def __init__(self, agent, check):
        super().__init__()
        self.agent = agent
        self.check = check
        self.steps_per_check = check.steps_per_check
        self.every = check.every
        self.checks = []
        self.best = None
        self._best_score = -math.inf
        self._best_weights = None
        self.train_seconds = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_step_begin(self, step, logs=None):
        # At the start of a step keras-rl has counted every step before it (see ProgressLog).
        trained = int(self.agent.step)
        if self.every and trained and trained % self.every == 0 and (not self.checks or self.checks[-1]['training_step'] != trained):
            self._check(trained)

    def on_train_end(self, logs=None):
        trained = int(self.agent.step)
        if trained and (not self.checks or self.checks[-1]['training_step'] != trained):
            self._check(trained)  # the last iterate is a candidate too
        if self._best_weights is not None:
            self.agent.actor.set_weights(self._best_weights)
            log.info('kept the best noise-free policy seen: check at training step %d, L2 %.3f',
                     self.best['training_step'], self.best['l2_distance'])
        self.train_seconds = time.perf_counter() - self._start

    @property
    def env_steps(self):
        """Environment steps taken by the checks so far."""
        return len(self.checks) * self.steps_per_check

    def first_success(self):
        """The first check that succeeded, or None."""
        return next((c for c in self.checks if c['success']), None)

    def _check(self, trained):
        score, l2_distance, success = self.check(self.agent)
        record = {'training_step': trained, 'env_steps': trained + self.env_steps + self.steps_per_check,
                  'l2_distance': float(l2_distance), 'success': bool(success)}
        self.checks.append(record)
        if score > self._best_score:  # strictly better: the earliest of equals is kept
            self._best_score = score
            self._best_weights = [np.array(w) for w in self.agent.actor.get_weights()]
            self.best = record


def run_result(agent, keep_best, env, hp, seed, training_steps):
    """What ``result.json`` says of a run: its budget, its times, what the kept policy does (on
    ``keep_best``'s final env) and every check; logs the outcome, and warns if Ctrl-C stopped the
    training early."""
    from shared.table import as_record

    steps_trained = int(agent.step)
    if steps_trained < training_steps:
        log.warning('interrupted after %d of %d training steps: writing the results so far', steps_trained,
                    training_steps)
    result = {
        'variant': 'fixed',
        'seed': seed,
        'steps': hp.nb_steps,
        'training_steps': training_steps,
        'steps_trained': steps_trained,
        'check_steps': keep_best.env_steps,
        'env_steps': steps_trained + keep_best.env_steps,
        # The two wall-time fields are the only ones that differ between runs of the same seed.
        'train_seconds': round(keep_best.train_seconds, 3),
        'steps_per_second': round(steps_trained / keep_best.train_seconds, 1),
        'update': agent.update,  # keras-rl2's own, or the same in one graph call (speed only)
        'interrupted': steps_trained < training_steps,
        'success_threshold': env.unwrapped.distance_threshold,
        **keep_best.check.outcome(agent, keep_best.check.final_env),
        'first_success_env_steps': (keep_best.first_success() or {}).get('env_steps'),
        'kept_check': keep_best.best,
        'checks': keep_best.checks,
        'hyperparameters': as_record(hp),
    }
    log.info('seed %d: cutoff %.4g Hz, offset %.4f, L2 %.3f, success %s (%.0f s, %.0f steps/s)', seed,
             result['cutoff_hz'], result['offset'], result['l2_distance'], result['success'],
             result['train_seconds'], result['steps_per_second'])
    return result


def policy_outcome(agent, env):
    """The noise-free policy's first action on a fresh episode of ``env``, and what it achieves.

    ``agent`` is a ``FixedDDPGAgent`` (its ``policy_action`` and observation ``processor``);
    ``env`` speaks keras-rl's old step API and reports ``cutoff_hz``, ``offset`` and
    ``l2_distance`` in ``info``, as the fixed env does.
    """
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


class PolicyCheck:
    """What one check of IMPROVEMENT-1 runs: one noise-free step on each of ``envs``.

    Scored by the mean reward (higher is better); reported with the median L2 distance and
    whether every env succeeded. On one scenario ``envs`` is one twin of the training env; on a
    family of scenarios it is a fixed sample of the family that neither training nor the final
    evaluation uses. ``every`` is the number of training steps between two checks (the
    variant's ``hyperparameters.check_every`` on one scenario).
    """

    def __init__(self, envs, every, final_env=None):
        self.envs = list(envs)
        self.every = int(every) if every else None  # None: only the last iterate, at the end
        self.steps_per_check = len(self.envs)
        self.final_env = self.envs[0] if final_env is None else final_env
        """Where the kept policy is measured once training ends (default: the first check env)."""

    def outcome(self, agent, env):
        """What the noise-free policy achieves on ``env``: ``policy_outcome``, one step decides."""
        return policy_outcome(agent, env)

    def __call__(self, agent):
        outcomes = [self.outcome(agent, env) for env in self.envs]
        distances = sorted(o['l2_distance'] for o in outcomes)
        return (sum(o['reward'] for o in outcomes) / len(outcomes), distances[len(distances) // 2],
                all(o['success'] for o in outcomes))
