"""A boat keeping its heading, in the style of 2019 custom gym envs: for tests of diagnose.

Written for this kit. gym's old API (``reset() -> obs``, ``step -> (obs, reward, done, info)``),
its own ``seed``, and a ``render`` that draws with ``gym.envs.classic_control.rendering``
(removed in gym 0.22). A continuing task that ends only on failure: the episode ends when the
heading passes +-90 degrees, which random rudder moves do not reach in a few hundred steps.
"""
import math

import gym
import numpy as np
from gym import spaces
from gym.utils import seeding


class HeadingEnv(gym.Env):
    metadata = {'render.modes': ['human', 'rgb_array']}

    def __init__(self):
        self.max_rudder_rate = 0.1
        self.dt = 0.1
        self.heading_limit = math.pi / 2
        high = np.array([math.pi, 2.0], dtype=np.float32)
        self.observation_space = spaces.Box(-high, high, dtype=np.float32)
        self.action_space = spaces.Box(low=-self.max_rudder_rate, high=self.max_rudder_rate, shape=(1,),
                                       dtype=np.float32)
        self.viewer = None
        self.seed()
        self.state = None

    def seed(self, seed=None):
        self.np_random, seed = seeding.np_random(seed)
        return [seed]

    def step(self, action):
        heading, turn_rate = self.state
        rudder = float(np.clip(action, -self.max_rudder_rate, self.max_rudder_rate)[0])
        turn_rate = float(np.clip(turn_rate + 0.01 * rudder + 0.0005 * self.np_random.normal(), -2.0, 2.0))
        heading = heading + turn_rate * self.dt
        self.state = (heading, turn_rate)
        done = bool(abs(heading) > self.heading_limit)
        reward = -1.0 if done else 1.0 - abs(heading) / self.heading_limit
        return np.array(self.state, dtype=np.float32), reward, done, {}

    def reset(self):
        self.state = (float(self.np_random.uniform(-0.05, 0.05)), 0.0)
        return np.array(self.state, dtype=np.float32)

    def render(self, mode='human'):
        from gym.envs.classic_control import rendering

        if self.viewer is None:
            self.viewer = rendering.Viewer(400, 400)
            hull = rendering.FilledPolygon([(-10, -30), (-10, 10), (0, 30), (10, 10), (10, -30)])
            self.hull_turn = rendering.Transform(translation=(200, 200))
            hull.add_attr(self.hull_turn)
            self.viewer.add_geom(hull)
        self.hull_turn.set_rotation(-self.state[0])
        return self.viewer.render(return_rgb_array=mode == 'rgb_array')

    def close(self):
        if self.viewer:
            self.viewer.close()
            self.viewer = None
