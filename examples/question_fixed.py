"""The question's script, fixed, in one file of plain keras-rl2 (StackOverflow 56931093).

    python examples/question_fixed.py --seed 0

It needs TensorFlow with tf-keras, keras-rl2, Gymnasium, numpy and scipy, and nothing of the kit:
copy it beside your own script and carry the changes over. Every change from the question's code
carries its ``FIX-n`` (docs/bugs.md explains each) and one line of why. The changes learning needs
come first in each part; ``hygiene`` marks those it does not need. What each one is worth, left
out in turn, is measured in docs/your_script.md.

Its last line: ``cutoff <Hz> offset <value> L2 <value>``, the noise-free policy's answer, kept at
its best check; success is the question's own, L2 < 1.0.
"""
import argparse
import json
import logging
import os
import random
import warnings

import numpy as np
from scipy import signal

# PORT: keras-rl2 needs Keras 2 at tensorflow.keras: the tf-keras package, chosen before TensorFlow loads.
os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')  # TensorFlow's start-up notes say nothing about the run
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402
import tensorflow.keras as keras  # noqa: E402

keras.__version__ = getattr(keras, '__version__', tf_keras.__version__)  # PORT: rl/callbacks.py imports it
# keras-rl2 reads Model.state_updates, which tf-keras deprecates at every compile: not this script's code
warnings.filterwarnings('ignore', message='`Model.state_updates` will be removed')
import gymnasium  # noqa: E402
from gymnasium import spaces  # noqa: E402
from rl.agents import DDPGAgent  # noqa: E402  (turns TensorFlow's eager mode off for the process)
from rl.callbacks import Callback  # noqa: E402
from rl.core import Processor  # noqa: E402
from rl.memory import SequentialMemory  # noqa: E402
from rl.random import GaussianWhiteNoiseProcess  # noqa: E402
from tensorflow.keras.initializers import RandomUniform  # noqa: E402
from tensorflow.keras.layers import Activation, Concatenate, Dense, Flatten, Input  # noqa: E402
from tensorflow.keras.models import Model, Sequential  # noqa: E402
from tensorflow.keras.optimizers.legacy import Adam  # noqa: E402  (PORT: keras-rl2 needs the legacy optimizers)

log = logging.getLogger('question_fixed')

# --- the numbers, each declared once -------------------------------------------------------------
STEPS = 5000  # FIX-4: room to train (the question's fit ran 10 steps); FIX-15: never above 32767
WARMUP = 200  # FIX-4: updates start after a few hundred steps, not after 2,000 and 10,000
BATCH = 64  # FIX-4: the warmup fills one batch before the first update
MEMORY = STEPS  # FIX-5: the memory holds the whole run
WINDOW_LENGTH = 1  # FIX-20: the networks' leading input dimension, from the memory's own constant
GAMMA = 0.0  # FIX-22: the next observation ignores the action: the task is one setting, nothing to discount
TAU = 1e-2  # the target networks' soft update rate (with gamma 0 they serve no target)
CRITIC_LR = 1e-3
ACTOR_LR = 1e-5  # FIX-6: a tanh actor learns 100 times slower than the critic, or it runs into a corner
CLIPNORM = 1.0
NOISE_SIGMA, NOISE_SIGMA_MIN, NOISE_ANNEALING = 0.6, 0.05, int(0.6 * STEPS)  # FIX-11: broad at first, then fine
TIME_LIMIT = 10  # FIX-3: the env ends its episodes itself
CHECK_EVERY = 50  # steps between two checks of the noise-free policy; the best is kept
CUTOFF_LOW_HZ = 1e-3  # the question's lowest cutoff


# --- the environment -----------------------------------------------------------------------------
def butter_lowpass_filter(data, cutoff_hz, sample_rate, order=4):
    # FIX-8: second-order sections; the (b, a) form is numerically wrong at low cutoffs
    sos = signal.butter(order, cutoff_hz, btype='lowpass', output='sos', fs=sample_rate)
    return signal.sosfiltfilt(sos, data)


class StepSignal(gymnasium.Env):
    """The question's goal env: the action is a low-pass cutoff and an offset; the goal, a flat signal.

    FIX-9, FIX-10, FIX-14, FIX-21 and FIX-7 are hygiene: the contract, the dtypes, no print, the
    reward's scale, the float32 bounds.
    """

    def __init__(self, input_signal, sample_rate, desired_signal):
        self.initial_signal = np.asarray(input_signal, dtype=np.float32)  # FIX-10: float32, as the spaces say
        self.desired_signal = np.asarray(desired_signal, dtype=np.float32)
        self.sample_rate = sample_rate
        self.distance_threshold = 1.0  # the question's 10e-1
        spread = max(self.desired_signal.max(), self.initial_signal.max()) - min(self.desired_signal.min(),
                                                                                  self.initial_signal.min())
        # FIX-7: the physical bounds in float64, the highest cutoff safely below Nyquist
        self.low = np.array([CUTOFF_LOW_HZ, -spread])
        self.high = np.array([0.99 * sample_rate / 2, spread])
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        box = spaces.Box(-np.inf, np.inf, shape=self.initial_signal.shape, dtype=np.float32)
        self.observation_space = spaces.Dict(observation=box, achieved_goal=box, desired_goal=box)
        self.steps = 0

    def physical(self, action):
        """FIX-1: [-1, 1] onto [low, high] (the question's rescaling dropped low); the cutoff on a log scale."""
        action = np.clip(action, -1.0, 1.0)
        share = (action + 1) / 2
        cutoff = self.low[0] * (self.high[0] / self.low[0]) ** share[0]
        offset = self.low[1] + share[1] * (self.high[1] - self.low[1])
        return cutoff, offset

    def step(self, action):
        cutoff, offset = self.physical(action)
        # FIX-2: filter the input, not the previous step's output; FIX-14: no print
        self.signal = (butter_lowpass_filter(self.initial_signal, cutoff, self.sample_rate) - offset).astype(np.float32)
        self.steps += 1
        l2 = float(np.linalg.norm(self.desired_signal - self.signal))
        reward = float(self.compute_reward(self.signal, self.desired_signal, None))
        terminated = l2 < self.distance_threshold  # FIX-3: success ends the episode
        truncated = self.steps >= TIME_LIMIT  # FIX-3: and so does the time limit
        info = {'is_success': terminated, 'cutoff_hz': cutoff, 'offset': offset, 'l2_distance': l2}
        return self._get_obs(), reward, terminated, truncated, info

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.signal, self.steps = self.initial_signal.copy(), 0
        return self._get_obs(), {}

    def _get_obs(self):
        # FIX-2: the observation is the input signal (what the action works on) beside the goal
        return {'observation': self.initial_signal.copy(), 'achieved_goal': self.signal.copy(),
                'desired_goal': self.desired_signal.copy()}

    def compute_reward(self, achieved_goal, desired_goal, info):
        # FIX-9: the GoalEnv contract (info, batches, the reward itself); FIX-21: RMS, not a length-bound L2
        return -np.sqrt(np.mean((np.asarray(desired_goal) - np.asarray(achieved_goal)) ** 2, axis=-1))


class KerasRLAdapter(gymnasium.Wrapper):
    """keras-rl2's fit speaks gym's old API: reset() -> obs, step() -> (obs, reward, done, info).

    Also flattens the goal dict as the question's FlattenDictWrapper did: observation, then desired_goal.
    """

    def __init__(self, env):
        super().__init__(env)
        size = sum(env.observation_space[key].shape[0] for key in ('observation', 'desired_goal'))
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)

    def flat(self, obs):
        return np.concatenate([obs['observation'], obs['desired_goal']]).astype(np.float32)

    def reset(self, **kwargs):
        obs, _ = self.env.reset(**kwargs)
        return self.flat(obs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        # with GAMMA 0 it does not matter that keras-rl stores a time limit as terminal (FIX-12)
        return self.flat(obs), reward, terminated or truncated, info


# --- the agent -----------------------------------------------------------------------------------
class ScaledFloat32(Processor):
    """FIX-17: centre and scale the observations (raw, 1,200 values of 3 to 5 saturate a tanh actor);
    FIX-19 (hygiene): state batches as float32 arrays, not keras-rl2's object arrays."""

    def __init__(self, first_observation):
        self.center = float(np.mean(first_observation))
        self.scale = float(np.std(first_observation)) or 1.0

    def process_observation(self, observation):
        return (np.asarray(observation, dtype=np.float32) - self.center) / self.scale

    def process_state_batch(self, batch):
        return np.asarray(batch.tolist(), dtype=np.float32)


class ClippedDDPGAgent(DDPGAgent):
    """FIX-18: clip the noisy action before keras-rl2 stores it (it stores the actor's output plus
    noise unclipped; the env clips, so the critic learns from actions that never happened)."""

    def select_action(self, state):
        return np.clip(super().select_action(state), -1.0, 1.0)


def build_actor(observation_shape, nb_actions):
    actor = Sequential()
    actor.add(Flatten(input_shape=(WINDOW_LENGTH,) + observation_shape))  # FIX-20
    actor.add(Dense(128, activation='relu'))
    actor.add(Dense(64, activation='relu'))
    # FIX-6: tanh bounds the action to [-1, 1]; small final weights start it near 0
    actor.add(Dense(nb_actions, kernel_initializer=RandomUniform(-3e-3, 3e-3)))
    actor.add(Activation('tanh'))
    return actor


def build_critic(observation_shape, nb_actions):
    action_input = Input(shape=(nb_actions,), name='action_input')
    observation_input = Input(shape=(WINDOW_LENGTH,) + observation_shape, name='observation_input')  # FIX-20
    observation = Dense(128, activation='relu')(Flatten()(observation_input))
    # FIX-23: the action gets a layer of its own; as 2 of 1,202 inputs it could not bend Q
    action = Dense(64, activation='relu')(action_input)
    x = Concatenate()([action, observation])
    x = Dense(64, activation='relu')(x)
    return Model(inputs=[action_input, observation_input], outputs=Dense(1)(x)), action_input


class KeepBestPolicy(Callback):
    """Every CHECK_EVERY steps, ask the actor without noise on a copy of the env; keep the best weights.

    DDPG's actor circles the optimum; where it is at the last step is chance. (The question's
    script had no equivalent; the kit's IMPROVEMENT-1.)
    """

    def __init__(self, make_env, processor, steps):
        super().__init__()
        self.env, self.processor, self.steps = make_env(), processor, steps
        self.best_l2, self.best_weights, self.best_info = np.inf, None, None

    def answer(self):
        observation = self.processor.process_observation(self.env.reset())
        batch = self.model.process_state_batch([[observation] * WINDOW_LENGTH])
        action = np.clip(self.model.actor.predict_on_batch(batch).flatten(), -1.0, 1.0)
        return self.env.step(action)[3]

    def on_step_end(self, step, logs=None):
        if (self.model.step + 1) % CHECK_EVERY:
            return
        info = self.answer()
        if info['l2_distance'] < self.best_l2:
            self.best_l2, self.best_info = info['l2_distance'], info
            self.best_weights = self.model.actor.get_weights()
        if (self.model.step + 1) % (10 * CHECK_EVERY) == 0:
            log.info('step %d of %d: best noise-free L2 so far %.4g', self.model.step + 1, self.steps, self.best_l2)


# --- the run -------------------------------------------------------------------------------------
def question_scenario():
    """The question's signals: a 20 s step from 4 to 5 at t = 5 s, at 30 Hz; the goal, a flat 3."""
    length, sample_rate = 20, 30
    x = np.linspace(0, length, length * sample_rate)
    return 0.5 * (np.sign(x - 5) + 9), sample_rate, 3 * np.ones(length * sample_rate)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--steps', type=int, default=STEPS, help=f'environment steps (default {STEPS})')
    parser.add_argument('--history', help='also write the training history to this JSON file')
    args = parser.parse_args()
    if not 1 <= args.steps <= 32767:  # FIX-15: keras-rl2 counts steps in np.int16
        parser.error(f'--steps {args.steps}: from 1 to 32767 (keras-rl2 counts steps in np.int16)')
    logging.basicConfig(level=logging.INFO, format='%(message)s')

    # Seeds: Python, numpy (keras-rl2's noise draws from it) and TensorFlow, after rl is imported
    random.seed(args.seed)
    np.random.seed(args.seed)
    tf.random.set_seed(args.seed)

    def make_env():
        return KerasRLAdapter(StepSignal(*question_scenario()))

    env = make_env()
    nb_actions = env.action_space.shape[0]
    observation_shape = env.observation_space.shape
    processor = ScaledFloat32(env.reset())
    actor = build_actor(observation_shape, nb_actions)
    critic, action_input = build_critic(observation_shape, nb_actions)
    memory = SequentialMemory(limit=MEMORY, window_length=WINDOW_LENGTH)
    # FIX-11: independent Gaussian draws, annealed (keras-rl's Ornstein-Uhlenbeck barely moves in an episode)
    noise = GaussianWhiteNoiseProcess(mu=0.0, sigma=NOISE_SIGMA, sigma_min=NOISE_SIGMA_MIN,
                                      n_steps_annealing=NOISE_ANNEALING, size=nb_actions)
    # FIX-13 (hygiene): no BoltzmannQPolicy, a discrete-action policy DDPG never used
    agent = ClippedDDPGAgent(nb_actions=nb_actions, actor=actor, critic=critic, critic_action_input=action_input,
                             memory=memory, nb_steps_warmup_critic=WARMUP, nb_steps_warmup_actor=WARMUP,
                             random_process=noise, gamma=GAMMA, target_model_update=TAU, batch_size=BATCH,
                             processor=processor)
    agent.compile([Adam(learning_rate=ACTOR_LR, clipnorm=CLIPNORM), Adam(learning_rate=CRITIC_LR, clipnorm=CLIPNORM)],
                  metrics=['mae'])

    keep_best = KeepBestPolicy(make_env, processor, args.steps)
    # FIX-12: no nb_max_episode_steps: the env's own time limit ends the episodes (FIX-3)
    history = agent.fit(env, nb_steps=args.steps, visualize=False, verbose=0, callbacks=[keep_best])
    if args.history:  # FIX-16 (hygiene): JSON, not pickle
        with open(args.history, 'w') as handle:
            json.dump({key: [float(v) for v in values] for key, values in history.history.items()}, handle)
    if keep_best.best_weights is None:
        parser.exit(1, 'no check of the noise-free policy ran: give more --steps\n')
    info = keep_best.best_info
    print(f"cutoff {info['cutoff_hz']:.6g} offset {info['offset']:.6g} L2 {info['l2_distance']:.6g}")


if __name__ == '__main__':
    main()
