"""The random step scenarios as a sparse-reward goal-reaching task: where hindsight replay should help.

The question's env gives a dense reward (how far the answer is) and one step decides an episode:
HER has nothing to add there (docs/her.md). The setting HER was made for is another: a reward that
only says "reached" or "not yet", and a goal reached along the way, a step at a time (the HER
paper's bit flipping and Fetch tasks). ``SparseStepSignal`` is that setting on the same scenarios:
the agent turns the two knobs (cutoff and offset) a little at every step, from where the episode
put them, and is told only whether the processed signal is within the success threshold of the goal.
"""
import dataclasses
import logging

import gymnasium
import numpy as np
from gymnasium import spaces

from fixed.keep_best import PolicyCheck
from stepsignal.own_signal.any_signal import make_env
from stepsignal.own_signal.scenarios import CHECK_SEED, UNSEEN_SCENARIOS, UNSEEN_SEED, RandomStepSignal, unseen_summary
from shared.scenario import StepRanges

log = logging.getLogger(__name__)

TIME_LIMIT = 50
"""Steps of an episode: room to cross both knobs' whole ranges (40 steps at the largest move) and to stay."""
KNOB_STEP = 0.05
"""The largest move of a knob in one step, in the units of its [-1, 1] range: fine enough that the
offset knob's window of success (a fortieth of its range) is about half a move wide, so a policy can
land in it, as a Fetch arm's step is small beside its target's tolerance."""
CHECK_SCENARIOS = 10
"""Scenarios one check runs an episode on (each a whole episode of ``TIME_LIMIT`` steps)."""
CHECK_EVERY = 2000
"""Training steps between two checks: 10 episodes of 50 steps each, 25% on top of 2,000 steps."""
GAMMA = 0.95
"""The discount here: the knobs' next position depends on the move (rl-baselines3-zoo's HER setting)."""


class SparseStepSignal(RandomStepSignal):
    """A random step scenario per episode, reached a knob move at a time, told only success.

    ## Description
    The filter and the offset are those of ``fixed.env.StepSignal``; their settings are two knobs in
    [-1, 1] (-1 the lowest, +1 the highest, as that env maps its action). An episode starts on a new
    scenario of the family (``RandomStepSignal``) with the knobs at random positions; each step
    moves them. The task is reached when the processed signal is within ``distance_threshold`` (L2)
    of the desired one, and is only reached if the agent keeps it there.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: how far to move each knob, in units of ``knob_step``.

    ## Observation Space
    ``Dict``: ``observation`` the processed signal followed by the two knob positions,
    ``achieved_goal`` the processed signal, ``desired_goal`` the goal (float32 boxes).

    ## Rewards
    ``compute_reward(achieved_goal, desired_goal, info)``: 0 within the threshold, -1 otherwise
    (on batches too).

    ## Starting State
    A new scenario; the knobs uniform in [-1, 1], from the env's generator.

    ## Episode End
    Truncated after ``time_limit`` steps; never terminated: reached is where the agent must stay.

    ## Arguments
    - ``ranges``, ``distance_threshold``: as ``RandomStepSignal``'s.
    - ``time_limit``: steps per episode (default ``TIME_LIMIT``); ``knob_step``: the largest move.
    - ``start_seed``: every reset draws the start of this seed (the checks' and the evaluation's
      fixed starts); default None, a new start each episode.

    ## Example
    ``gymnasium.make('stepsignal.own_signal.sparse:stepsignal-sparse-v0')`` (the module part imports
    the registration), then ``reset(seed=0)`` and ``step(action)`` as any Gymnasium env.

    ## Version History
    - v0: the first version.
    """

    def __init__(self, ranges=None, distance_threshold=1.0, time_limit=TIME_LIMIT, knob_step=KNOB_STEP, start_seed=None):
        self.knob_step = float(knob_step)
        self.start_seed = start_seed
        self.knobs = np.zeros(2)
        super().__init__(ranges, distance_threshold=distance_threshold, time_limit=time_limit)

    def _observation_space(self):
        found = super()._observation_space()
        processed = found['achieved_goal']
        low = np.concatenate([processed.low, [-1.0, -1.0]]).astype(np.float32)
        high = np.concatenate([processed.high, [1.0, 1.0]]).astype(np.float32)
        return spaces.Dict({**found.spaces, 'observation': spaces.Box(low, high, dtype=np.float32)})

    def _get_obs(self):
        found = super()._get_obs()
        # Where the knobs are and what they make now: the agent compares it with the goal, as a
        # robot's observation holds its gripper's position beside the target's.
        found['observation'] = np.concatenate([found['achieved_goal'], self.knobs.astype(np.float32)])
        return found

    def reset(self, *, seed=None, options=None):
        if self.start_seed is not None:
            seed = self.start_seed
        super().reset(seed=seed, options=options)  # the scenario, from the env's generator
        self.knobs = self.np_random.uniform(-1.0, 1.0, size=2)
        self._set_action(np.array(self.physical_action(self.knobs)))  # the processed signal at the start
        return self._get_obs(), {}

    def step(self, action):
        move = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        self.knobs = np.clip(self.knobs + self.knob_step * move, -1.0, 1.0)
        observation, reward, _, truncated, info = super().step(self.knobs)
        info['knob_cutoff'], info['knob_offset'] = float(self.knobs[0]), float(self.knobs[1])  # scalars: keras-rl's fit reads each info value as one
        return self._get_obs(), reward, False, self.elapsed_steps >= self.max_episode_steps, info

    def compute_reward(self, goal_achieved, goal_desired, info):
        distance = np.linalg.norm(np.asarray(goal_desired) - np.asarray(goal_achieved), axis=-1)
        return np.where(distance < self.distance_threshold, 0.0, -1.0)


gymnasium.register(id='stepsignal-sparse-v0', entry_point='stepsignal.own_signal.sparse:SparseStepSignal')


def sparse_env(seed, ranges=None, time_limit=TIME_LIMIT):
    """The sparse family's env for training, wrapped for keras-rl (no compact view: the knobs stay whole)."""
    return make_env(None, seed=seed, observed_samples=None, env_class=SparseStepSignal, ranges=ranges or StepRanges(),
                    time_limit=time_limit)


def random_moves(episodes=300, seed=0, ranges=None):
    """How sparse the reward is: uniformly random moves for ``episodes`` whole episodes of the family
    (starts and moves from ``seed``). Counts the episodes that touch success at some step, those that
    end in it, and the steps that earn reward 0."""
    env = SparseStepSignal(ranges or StepRanges())
    rng = np.random.default_rng(seed)
    touched = ended = rewarded = 0
    for _ in range(episodes):
        env.reset(seed=int(rng.integers(2**31)))
        reached = [env.step(rng.uniform(-1.0, 1.0, 2).astype(np.float32))[1] == 0.0 for _ in range(env.max_episode_steps)]
        touched, ended, rewarded = touched + any(reached), ended + reached[-1], rewarded + sum(reached)
    return {'episodes': episodes, 'seed': seed, 'touched': int(touched), 'ended': int(ended),
            'rewarded_steps': int(rewarded), 'steps': episodes * env.max_episode_steps}


def episode_outcome(agent, env):
    """The noise-free policy over one whole episode of ``env`` (keras-rl's step API): where it ends.

    ``agent``: as ``fixed.keep_best.policy_outcome`` takes it. ``success``: the last step within
    the threshold; ``reward``: the episode's return; ``episode_steps``: how many it took.
    """
    observation, done, total, steps = env.reset(), False, 0.0, 0
    while not done:
        action = agent.policy_action(agent.processor.process_observation(observation))
        observation, reward, done, info = env.step(action)
        total, steps = total + float(reward), steps + 1
    return {'action': [float(a) for a in action], 'cutoff_hz': info['cutoff_hz'], 'offset': info['offset'],
            'reward': total, 'l2_distance': info['l2_distance'], 'success': bool(info['is_success']),
            'episode_steps': steps}


class EpisodeCheck(PolicyCheck):
    """IMPROVEMENT-1 on the sparse family: a whole noise-free episode on each env (``episode_outcome``),
    scored by the mean return; its env steps are every step of those episodes."""

    def __init__(self, envs, every, final_env=None, time_limit=TIME_LIMIT):
        super().__init__(envs, every, final_env)
        self.steps_per_check = len(self.envs) * time_limit

    def outcome(self, agent, env):
        return episode_outcome(agent, env)


def scenario_env(seed, ranges, time_limit=TIME_LIMIT):
    """One fixed start of the family (scenario and knobs, drawn with ``seed``), the same at every reset."""
    return make_env(None, observed_samples=None, env_class=SparseStepSignal, ranges=ranges, time_limit=time_limit,
                    start_seed=seed)


def sparse_check(ranges, time_limit=TIME_LIMIT):
    """``EpisodeCheck`` on ``CHECK_SCENARIOS`` fixed starts (seeds ``CHECK_SEED`` on); the kept policy is
    measured at the end on the start drawn with seed 0."""
    envs = [scenario_env(CHECK_SEED + i, ranges, time_limit) for i in range(CHECK_SCENARIOS)]
    return EpisodeCheck(envs, CHECK_EVERY, final_env=scenario_env(0, ranges, time_limit), time_limit=time_limit)


def evaluate_unseen_sparse(agent, ranges, count=UNSEEN_SCENARIOS, first_seed=UNSEEN_SEED, time_limit=TIME_LIMIT):
    """Generalisation: the noise-free policy's episode on ``count`` starts (scenario and knobs) drawn with
    seeds no run trains on, summarised as ``scenarios.unseen_summary`` summarises the dense ones."""
    return unseen_summary([episode_outcome(agent, scenario_env(first_seed + i, ranges, time_limit))
                           for i in range(count)], first_seed)


def sparse_hyperparameters(nb_steps):
    """The fixed setup's table for this task: its episodes, a discount above 0, ``nb_steps`` in all."""
    from fixed.hyperparameters import HYPERPARAMETERS

    return dataclasses.replace(HYPERPARAMETERS, nb_steps=nb_steps, max_episode_steps=TIME_LIMIT, gamma=GAMMA)


def train_sparse(out_dir, seed, nb_steps, ranges=None, extras=None):
    """Train the fixed agent on the sparse family (``extras``: a ``fixed.extras.Extras``, for ``hindsight``)
    and measure it on never-seen starts: the result has ``unseen``, as ``scenarios.train_random``'s."""
    from fixed.extras import Extras
    from fixed.train import train  # late: importing TensorFlow takes seconds

    ranges = ranges or StepRanges()

    def make_sparse_env(time_limit):
        return sparse_env(seed, ranges, time_limit)

    agent, result = train(out_dir, seed=seed, make_env=make_sparse_env, hp=sparse_hyperparameters(nb_steps),
                          check=sparse_check(ranges), extras=extras or Extras())
    result['unseen'] = evaluate_unseen_sparse(agent, ranges)
    log.info('seed %d: never-seen starts reached: %s', seed, result['unseen']['success_text'])
    return agent, result
