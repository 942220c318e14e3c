"""Gymnasium's step API, presented as gym's old one for keras-rl2 (no TensorFlow import)."""


class OldStepAPI:
    """Let keras-rl2 drive a Gymnasium env: ``reset() -> obs`` and a 4-tuple ``step``.

    keras-rl2's ``Agent.fit`` still speaks gym's pre-0.26 API. ``done`` is ``terminated or
    truncated``; ``info['TimeLimit.truncated']`` tells the two apart (gym's old convention), so
    that an agent can avoid storing a time limit as a terminal state.
    """

    def __init__(self, env, seed=None):
        self.env = env
        self._seed = seed  # used once, at the first reset, as Gymnasium recommends

    def __getattr__(self, name):  # action_space, observation_space, unwrapped, ...
        if name == 'env':  # not set yet (copy.deepcopy builds the copy before its __dict__)
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self):
        observation, _ = self.env.reset(seed=self._seed)
        self._seed = None
        return observation

    def step(self, action):
        return old_step(self.env.step(action))


def old_step(result):
    """A Gymnasium (gym 0.26) 5-value step result as gym's old 4-value one."""
    observation, reward, terminated, truncated, info = result
    info = dict(info, **{'TimeLimit.truncated': bool(truncated and not terminated)})
    return observation, reward, bool(terminated or truncated), info


class RemembersTruncation:
    """An env with the old step API, as an agent's ``fit`` drives it, remembering whether its last
    step ended the episode at a time limit (``info['TimeLimit.truncated']``): keras-rl2's
    ``backward`` gets ``done`` alone, and a time limit is not a terminal state."""

    def __init__(self, env):
        self.env = env
        self.truncated = False

    def __getattr__(self, name):
        return getattr(self.env, name)

    def step(self, action):
        observation, reward, done, info = self.env.step(action)
        self.truncated = bool(info.get('TimeLimit.truncated', False))
        return observation, reward, done, info
