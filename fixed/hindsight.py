"""IMPROVEMENT-5: hindsight experience replay (HER) for the fixed agent's replay memory (docs/her.md).

The question's env is a goal env: ``compute_reward`` scores any achieved goal against any desired
one, so a stored transition can be replayed as if it had wanted a goal its episode reached. keras-rl
has no HER; this is the smallest piece that adds it to the kit's ``ReplayMemory``, on at ``--her``
(off by default: a run without it is the run it always was). ``HindsightMemory.sample`` is the
algorithm, in its four numbered steps; ``GoalRecorder`` keeps the achieved goals the flat
observation drops.
"""
from dataclasses import dataclass

import gymnasium
import numpy as np

from shared.checks import BadInput

from .replay import ReplayMemory

STRATEGIES = ('future', 'final', 'episode')
"""Where a relabelled transition's goal is drawn from, within its own episode."""
MAX_K = 16
"""The largest ``k`` accepted: beyond it nearly every transition is relabelled anyway (16/17)."""


def k_problem(k):
    """What is wrong with ``k`` as HER's goals per real one, or None when it is allowed."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        return f'{k!r} is not allowed: a whole number from 1 to {MAX_K} (k / (k + 1) of each batch is relabelled)'
    return None


@dataclass(frozen=True)
class Hindsight:
    """HER's two settings, as ``--her-strategy`` and ``--her-k`` give them."""

    strategy: str = 'future'
    """One of ``STRATEGIES``."""
    k: int = 4
    """Goals drawn per real one: ``k / (k + 1)`` of each batch is relabelled."""

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise BadInput(f'--her-strategy {self.strategy!r} is not one of {", ".join(STRATEGIES)}')
        problem = k_problem(self.k)
        if problem:
            raise BadInput(f'--her-k {problem}')

    @property
    def relabelled_share(self):
        return self.k / (self.k + 1)

    def record(self):
        return {'strategy': self.strategy, 'k': self.k, 'relabelled_share': self.relabelled_share}

    def memory(self, env, goal_to_state=None, **memory_size):
        """The agent's memory for ``env`` (keras-rl's wrappers around a flattened goal env), relabelling
        goals as these settings say; ``goal_to_state``: as ``HindsightMemory``'s; ``memory_size``:
        ``ReplayMemory``'s arguments."""
        return HindsightMemory(**memory_size, goals=GoalRecorder.under(flat_goal_env(env)),
                               compute_reward=env.unwrapped.compute_reward, goal_to_state=goal_to_state, hindsight=self)


class GoalRecorder(gymnasium.Wrapper):
    """Keeps what the flat observation drops: the last Dict observation's ``achieved_goal``, and
    the count of resets; and says where each flattened key sits in the flat observation."""

    def __init__(self, env, dict_keys):
        super().__init__(env)
        self.dict_keys = list(dict_keys)
        achieved = env.observation_space.spaces.get('achieved_goal')  # None: an env that keeps its goals elsewhere
        self.achieved_goal_size = None if achieved is None else int(np.prod(achieved.shape))
        self.achieved_goal = None  # of the last observation: after a step, the step's
        self.resets = 0

    @classmethod
    def under(cls, flat):
        """Put a recorder between ``flat`` (a ``FlattenDictWrapper``) and the Dict env it flattens."""
        if not isinstance(flat.env, cls):
            flat.env = cls(flat.env, flat.dict_keys)
        return flat.env

    def reset(self, **kwargs):
        self.resets += 1  # a new episode
        observation, info = self.env.reset(**kwargs)
        self.achieved_goal = observation.get('achieved_goal')
        return observation, info

    def step(self, action):
        observation, *rest = self.env.step(action)
        self.achieved_goal = observation.get('achieved_goal')
        return (observation, *rest)

    def slice_of(self, key):
        """Where ``key``'s values sit in the flat observation."""
        start = 0
        for name in self.dict_keys:
            size = int(np.prod(self.env.observation_space.spaces[name].shape))
            if name == key:
                return slice(start, start + size)
            start += size
        raise KeyError(f'{key!r} is not one of the flattened keys {self.dict_keys}')


class HindsightMemory(ReplayMemory):
    """``ReplayMemory`` that keeps each transition's achieved goal and episode, and relabels at sampling.

    Args:
        limit, window_length, observation_shape, nb_actions, next_states: as ``ReplayMemory``'s.
        goals: the env's ``GoalRecorder``: where the desired goal sits in the flat observation
            (``slice_of``), each step's achieved goal, the count of resets.
        compute_reward: the env's ``compute_reward(achieved, desired, info)``, on batches.
        goal_to_state: how an observation becomes what the networks read (the agent's processor,
            FIX-17); applied to the goal alone, so it must act value by value.
        hindsight: a ``Hindsight``.
    """

    def __init__(self, limit, window_length, observation_shape, nb_actions, goals, compute_reward,
                 goal_to_state=None, hindsight=Hindsight(), next_states=True):
        if window_length != 1:
            raise BadInput(f'--her relabels states of one observation; window_length is {window_length}')
        super().__init__(limit, window_length, observation_shape, nb_actions, next_states=next_states)
        self.goal_slice = goals.slice_of('desired_goal')
        if goals.achieved_goal_size is None:
            raise BadInput('--her needs a goal env: this env\'s observation has no achieved_goal')
        if goals.achieved_goal_size != self.goal_slice.stop - self.goal_slice.start:
            raise BadInput('--her needs the desired goal in the observation as the env reports it; this one is '
                             'shown to the agent in block averages (a signal longer than the observation)')
        self.goals, self.compute_reward = goals, compute_reward
        self.goal_to_state = goal_to_state or (lambda goal: np.asarray(goal, dtype=np.float32))
        self.hindsight = hindsight
        self.achieved_goals1 = np.zeros((self.limit, self.goal_slice.stop - self.goal_slice.start), dtype=np.float32)
        self.positions = np.zeros(self.limit, dtype=np.int64)  # each slot's transition, counted from the run's first
        self.episode_firsts = np.zeros(self.limit, dtype=np.int64)
        self.episode_ends = np.zeros(self.limit, dtype=np.int64)  # one past its last; OPEN while it runs
        self.appended = 0
        self._episode = None  # the wrapper's reset count when the current episode's first transition came

    OPEN = np.iinfo(np.int64).max

    def append(self, state0, action, reward, terminal1, state1):
        """Store one transition with the achieved goal of its step and its episode."""
        if self.goals.resets != self._episode:  # a reset since the last transition: a new episode
            self._close_episode()
            self._episode, self._first = self.goals.resets, self.appended
        slot = self._next
        super().append(state0, action, reward, terminal1, state1)
        self.achieved_goals1[slot] = self.goals.achieved_goal
        self.positions[slot], self.episode_firsts[slot], self.episode_ends[slot] = self.appended, self._first, self.OPEN
        self.appended += 1

    def _close_episode(self):
        if self._episode is None:
            return
        for position in range(max(self._first, self.appended - self.limit), self.appended):
            self.episode_ends[position % self.limit] = self.appended

    def sample(self, batch_size):
        # 1. The batch, as ReplayMemory draws it.
        i = np.random.randint(0, self.nb_entries, size=batch_size)
        states0, actions, rewards, terminals1, states1 = (
            self.states0[i], self.actions[i], self.rewards[i], self.terminals1[i], self.next_states(i))
        # 2. Which to relabel.
        relabel = np.flatnonzero(np.random.uniform(size=batch_size) < self.hindsight.relabelled_share)
        if relabel.size == 0:
            return states0, actions, rewards, terminals1, states1
        slots = i[relabel]
        # 3. Their new goals, from their own episodes (the running one ends at the last stored step).
        position, end = self.positions[slots], np.minimum(self.episode_ends[slots], self.appended)
        oldest = max(self.appended - self.limit, 0)  # older transitions have been overwritten
        if self.hindsight.strategy == 'future':
            drawn = np.random.randint(position, end)
        elif self.hindsight.strategy == 'final':
            drawn = end - 1
        else:
            drawn = np.random.randint(np.maximum(self.episode_firsts[slots], oldest), end)
        goals = self.achieved_goals1[drawn % self.limit]
        # 4. The states want the new goal; the reward says how near the step came to it.
        seen = self.goal_to_state(goals)[:, None, :]
        states0[relabel, :, self.goal_slice] = seen
        if states1 is not None:
            states1[relabel, :, self.goal_slice] = seen
        rewards[relabel] = self.compute_reward(self.achieved_goals1[slots], goals, None)
        return states0, actions, rewards, terminals1, states1


def flat_goal_env(env):
    """IMPROVEMENT-5: the ``FlattenDictWrapper`` among ``env``'s wrappers, which keeps the goals."""
    from .env import FlattenDictWrapper

    layer = env
    while not isinstance(layer, FlattenDictWrapper):
        if not hasattr(layer, 'env'):
            raise ValueError('--her needs a goal env flattened with fixed.env.FlattenDictWrapper, which keeps each '
                             "step's achieved goal; this env has none among its wrappers")
        layer = layer.env
    return layer
