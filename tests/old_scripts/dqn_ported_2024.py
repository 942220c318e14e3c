"""A keras-rl2 script that does its own port to today's stack: for tests of diagnose.

Written for this kit, in the shape of scripts that run as they are with ``python script.py`` on
TensorFlow 2.16 and later: it asks for Keras 2 itself (``TF_USE_LEGACY_KERAS`` before TensorFlow
is imported, ``keras.__version__`` set only where it is missing), uses the legacy optimizer and
hands ``fit`` an env that speaks gym's old API. Nothing here needs a porting shim.
"""
import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import numpy as np  # noqa: E402
import tensorflow.keras as keras  # noqa: E402
import tf_keras  # noqa: E402

if not hasattr(keras, '__version__'):
    keras.__version__ = tf_keras.__version__

from gym import spaces  # noqa: E402
from rl.agents.dqn import DQNAgent  # noqa: E402
from rl.memory import SequentialMemory  # noqa: E402
from rl.policy import EpsGreedyQPolicy  # noqa: E402
from tensorflow.keras.layers import Dense, Flatten  # noqa: E402
from tensorflow.keras.models import Sequential  # noqa: E402
from tensorflow.keras.optimizers.legacy import Adam  # noqa: E402


class Line:
    """A point on a line, pushed left or right towards 0; old gym API; ends at 0 or after 50 steps."""

    observation_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.x, self.t = float(self.rng.choice([-0.8, 0.8])), 0
        return np.array([self.x], np.float32)

    def step(self, action):
        self.x = float(np.clip(self.x + (0.1 if action == 1 else -0.1), -1.0, 1.0))
        self.t += 1
        arrived = abs(self.x) < 0.05
        info = {'TimeLimit.truncated': self.t >= 50 and not arrived}
        return np.array([self.x], np.float32), (1.0 if arrived else -0.02), arrived or self.t >= 50, info


env = Line(seed=5)
model = Sequential([Flatten(input_shape=(1, 1)), Dense(16, activation='relu'), Dense(2, activation='linear')])
dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(limit=2000, window_length=1),
               nb_steps_warmup=50, target_model_update=1e-2, policy=EpsGreedyQPolicy())
dqn.compile(Adam(learning_rate=1e-3), metrics=['mae'])
dqn.fit(env, nb_steps=300, visualize=False, verbose=0)
