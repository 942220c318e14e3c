"""PORT: the two pieces of gym the question used that neither gym 0.26 nor Gymnasium has any more.

- ``GoalEnv``, gym 0.21's goal-based env (gym 0.22 removed it; Gymnasium-Robotics keeps it): Dict
  observations with ``observation``, ``achieved_goal`` and ``desired_goal``, and
  ``compute_reward(achieved_goal, desired_goal, info)`` giving the reward the env returns, so that
  goals can be substituted afterwards (hindsight experience replay).
- ``FlattenDictWrapper``, gym 0.15's wrapper (removed in 0.15.4; the question's blog post advised
  it): the chosen keys of a Dict observation concatenated in the order given (its successor,
  ``FlattenObservation``, sorts keys alphabetically), under a float32 Box.

Each is built on the stack it is given, so that both variants have the same two lines:
``GoalEnv = goal_env_class(gym, __name__)`` with gym 0.26 (the original) or with Gymnasium (the fixed
setup); the class then belongs to the module that made it, where Gymnasium and pickle look it up.
"""
import numpy as np


def _belongs_to(cls, module):
    cls.__module__, cls.__qualname__ = module, cls.__name__
    return cls


def goal_env_class(gym, module):
    """gym 0.21's ``GoalEnv`` on ``gym``, the module: gym 0.26 or Gymnasium; ``module``: the name of the
    module that holds it."""

    class GoalEnv(gym.Env):
        """A goal-based env: its observation space must be a Dict with the three goal keys (checked at reset)."""

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            if not isinstance(self.observation_space, gym.spaces.Dict):
                raise gym.error.Error(f'GoalEnv requires an observation space of type {gym.__name__}.spaces.Dict')
            for key in ['observation', 'achieved_goal', 'desired_goal']:
                if key not in self.observation_space.spaces:
                    raise gym.error.Error(f'GoalEnv requires the "{key}" key to be part of the observation dictionary.')

        def compute_reward(self, achieved_goal, desired_goal, info):
            raise NotImplementedError

    return _belongs_to(GoalEnv, module)


def flatten_dict_wrapper_class(gym, module):
    """gym 0.15's ``FlattenDictWrapper`` on ``gym``, the module: gym 0.26 or Gymnasium; ``module``: the
    name of the module that holds it.

    Its Box keeps the keys' own bounds (the question's are unbounded: the Box gym 0.15 declared);
    the observations keep the arrays' own dtype, as gym 0.15's did. It speaks whichever step API
    the env speaks (the original's env still speaks gym's old one), and on Gymnasium it records its
    arguments, so that Gymnasium's ``check_env`` can re-create it.
    """
    records_arguments = getattr(gym.utils, 'RecordConstructorArgs', None)  # Gymnasium only
    bases = (gym.ObservationWrapper,) + ((records_arguments,) if records_arguments else ())

    class FlattenDictWrapper(*bases):
        """The ``dict_keys`` of each Dict observation of ``env``, concatenated in this order."""

        def __init__(self, env, dict_keys):
            if records_arguments:
                records_arguments.__init__(self, dict_keys=dict_keys)
            super().__init__(env)
            self.dict_keys = dict_keys
            boxes = [self.env.observation_space.spaces[key] for key in dict_keys]
            self.observation_space = gym.spaces.Box(np.concatenate([box.low.ravel() for box in boxes]),
                                                    np.concatenate([box.high.ravel() for box in boxes]),
                                                    dtype=np.float32)

        def reset(self, **kwargs):
            result = self.env.reset(**kwargs)
            if isinstance(result, tuple):  # (observation, info)
                return (self.observation(result[0]),) + tuple(result[1:])
            return self.observation(result)  # gym's old API: the observation alone

        def step(self, action):
            observation, *rest = self.env.step(action)
            return (self.observation(observation), *rest)

        def observation(self, observation):
            assert isinstance(observation, dict)
            return np.concatenate([np.asarray(observation[key]).ravel() for key in self.dict_keys])

    return _belongs_to(FlattenDictWrapper, module)
