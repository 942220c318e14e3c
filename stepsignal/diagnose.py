"""Diagnose a keras-rl agent and its env before a training run is wasted.

Gymnasium's and Stable-Baselines3's env checkers look at the env only; nothing checks the agent's
own configuration against the run it is about to do. ``diagnose(agent, env, nb_steps=...,
nb_max_episode_steps=...)`` does both, with what this kit learned from the question:

- an **error** means it cannot learn as written (for example warmups longer than the run);
- a **warning** means it runs but is unlikely to learn well (for example an unbounded actor).

Each finding says what is wrong, the measured and the expected value, and where to read more.
Each check is a small function of a ``Setup``; ``CHECKS`` lists them in the order they run.
The env is probed on a deep copy where it can be copied, so the caller's env is left as it was.

From the command line, ``python -m stepsignal diagnose train.py`` runs a training script until
its first ``agent.fit(...)``, diagnoses that call and exits without training (docs/diagnose.md).
"""
import contextlib
import copy
import io
import logging
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from shared.limits import MAX_KERAS_RL_STEPS
from shared.trace import printed_values

log = logging.getLogger(__name__)

ERROR, WARNING = 'error', 'warning'
DOCS = 'docs/bugs.md'


@dataclass
class Finding:
    severity: str
    """``'error'`` (cannot learn as written) or ``'warning'`` (runs, unlikely to learn well)."""
    check: str
    """The check's name, e.g. ``'warmups'``."""
    message: str
    """What is wrong, in a sentence."""
    measured: str
    expected: str
    bug: Optional[int] = None
    """The kit's BUG-n this is, where it is one."""

    @property
    def docs(self):
        return f'{DOCS}#bug-{self.bug}' if self.bug else 'docs/diagnose.md'

    def __str__(self):
        label = f'{self.severity.upper()} BUG-{self.bug}' if self.bug else self.severity.upper()
        return (f'{label} [{self.check}] {self.message}\n    measured: {self.measured}\n'
                f'    expected: {self.expected}\n    see: {self.docs}')


@dataclass
class Setup:
    """What the checks look at: the agent, the env handed to ``fit``, and ``fit``'s arguments."""

    agent: Any
    env: Any
    nb_steps: Optional[int] = None
    nb_max_episode_steps: Optional[int] = None
    namespace: dict = field(default_factory=dict)
    """Other objects of the training script (its variables), to spot unused policies."""

    @property
    def unwrapped(self):
        return getattr(self.env, 'unwrapped', self.env)

    @property
    def is_continuous(self):
        return hasattr(self.agent, 'actor') and hasattr(self.agent, 'critic')

    def warmups(self):
        """The agent's warmups by name (DDPG has two, DQN and NAF one)."""
        names = ('nb_steps_warmup_critic', 'nb_steps_warmup_actor', 'nb_steps_warmup')
        return {name: getattr(self.agent, name) for name in names if hasattr(self.agent, name)}


# ---------------------------------------------------------------------------------------------
# Probing an env without disturbing it. Old gym API: reset() -> obs, step -> 4-tuple. Gymnasium:
# reset() -> (obs, info), step -> 5-tuple. Both are accepted; what an env prints is captured.

def _copy(env):
    try:
        return copy.deepcopy(env)
    except Exception:  # some envs hold handles that cannot be copied: probe the env itself
        return env


def probe_reset(env):
    with contextlib.redirect_stdout(io.StringIO()):
        result = env.reset()
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
        return result[0]
    return result


def probe_step(env, action):
    """Return ``(obs, reward, terminated, truncated, info, printed)`` for either API."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), np.errstate(all='ignore'):  # a broken env may overflow
        result = env.step(action)
    if len(result) == 5:
        obs, reward, terminated, truncated, info = result
    else:
        obs, reward, done, info = result
        truncated = bool(info.get('TimeLimit.truncated', False))
        terminated = bool(done) and not truncated
    return obs, reward, bool(terminated), bool(truncated), info, printed.getvalue()


def first_observation(setup):
    """The observation the networks would see first, after the agent's Processor."""
    observation = probe_reset(_copy(setup.env))
    if getattr(setup.agent, 'processor', None) is not None:
        observation = setup.agent.processor.process_observation(observation)
    return np.asarray(observation, dtype=np.float32)


def network_input(setup, observation):
    window = getattr(setup.agent.memory, 'window_length', 1)
    return np.repeat(observation[None, None], window, axis=1)


# ---------------------------------------------------------------------------------------------
# The checks. Each takes a Setup and returns a list of findings (empty when healthy).

def check_warmups(setup):
    if setup.nb_steps is None:
        return []
    findings = []
    for name, warmup in setup.warmups().items():
        if warmup >= setup.nb_steps:
            findings.append(Finding(
                ERROR, 'warmups', f'{name} is not below nb_steps: keras-rl trains only after the warmup, '
                'so this part of the agent never takes a gradient step.',
                f'{name}={warmup}, nb_steps={setup.nb_steps}',
                f'{name} well below nb_steps, e.g. <= {max(1, setup.nb_steps // 10)}', bug=4))
    return findings


def check_memory(setup):
    memory = getattr(setup.agent, 'memory', None)
    limit = getattr(memory, 'limit', None)
    if limit is None:
        return []
    findings = []
    largest = max(setup.warmups().values(), default=0)
    if limit < largest:
        findings.append(Finding(
            WARNING, 'memory', 'the replay memory is smaller than the longest warmup: by the time that part '
            'of the agent starts learning, the oldest experience is already gone.',
            f'memory limit={limit}, longest warmup={largest}', f'limit >= {largest}', bug=5))
    batch_size = getattr(setup.agent, 'batch_size', 0)
    if limit < batch_size:
        findings.append(Finding(ERROR, 'memory', 'the replay memory cannot hold one batch.',
                                f'limit={limit}, batch_size={batch_size}', f'limit >= {batch_size}', bug=5))
    return findings


def check_step_counter(setup):
    if setup.nb_steps is None or setup.nb_steps <= MAX_KERAS_RL_STEPS or int(np.__version__.split('.')[0]) < 2:
        return []
    return [Finding(
        ERROR, 'step counter', 'keras-rl2 counts steps in np.int16, which under numpy 2 wraps to -32768 after '
        '32767: fit never ends and the warmups count as unfinished again, so learning silently stops.',
        f'nb_steps={setup.nb_steps}, numpy {np.__version__}', f'nb_steps <= {MAX_KERAS_RL_STEPS} per fit call',
        bug=15)]


def _output_activation(model):
    last = model.layers[-1]
    activation = getattr(last, 'activation', None)
    return getattr(activation, '__name__', str(activation))


def check_actor_output(setup):
    if not setup.is_continuous:
        return []
    activation = _output_activation(setup.agent.actor)
    if activation in ('tanh', 'sigmoid', 'softsign'):
        return []
    return [Finding(
        WARNING, 'actor output', 'the actor\'s output is not bounded: the env clips it, so every action beyond '
        'the bounds looks the same to the env, and the critic learns from actions the env never applied.',
        f'last activation: {activation}', 'tanh (for a [-1, 1] action space)', bug=6)]


def check_actor_saturation(setup):
    if not setup.is_continuous:
        return []
    actor = setup.agent.actor
    state = network_input(setup, first_observation(setup))
    findings = []
    first_dense = next((layer for layer in actor.layers if layer.__class__.__name__ == 'Dense'), None)
    if first_dense is not None:
        kernel, bias = first_dense.get_weights()[:2]
        pre_activation = state.reshape(1, -1) @ kernel + bias
        spread = float(np.std(pre_activation))
        if spread > 3.0:
            findings.append(Finding(
                WARNING, 'observation scale', 'the first layer\'s pre-activations are large on the env\'s first '
                'observation: the observations are not scaled (no Processor that centres and scales them).',
                f'std of first-layer pre-activations = {spread:.1f}', 'about 1 (scale observations to order 1)',
                bug=17))
    if _output_activation(actor) in ('tanh', 'softsign'):
        action = np.asarray(actor.predict_on_batch(state)).ravel()
        if np.max(np.abs(action)) > 0.99:
            findings.append(Finding(
                WARNING, 'actor saturation', 'the actor is already saturated on the env\'s first observation: '
                'its tanh gives almost no gradient there, so it may stay in a corner of the action space.',
                f'first action = {np.round(action, 3).tolist()}', '|action| well below 1 at the start', bug=17))
    return findings


def _applied_values(env, action, nb_actions):
    """What the env applied for a raw action, where it tells: ``physical_action`` or a printed line."""
    unwrapped = getattr(env, 'unwrapped', env)
    if hasattr(unwrapped, 'physical_action'):
        return np.asarray(unwrapped.physical_action(action), dtype=np.float64)
    probe = _copy(unwrapped)
    probe_reset(probe)
    *_, printed = probe_step(probe, action)
    try:
        values = printed_values(printed)
    except ValueError:
        return None
    return np.array(values) if len(values) == nb_actions else None


def check_action_mapping(setup):
    unwrapped = setup.unwrapped
    space = getattr(setup.env, 'action_space', None)
    if space is None or not hasattr(space, 'low'):
        return []
    n = space.shape[0]
    # float64: np.round on a float16 array overflows (14.9 * 1e4 > 65504)
    physical_low = np.asarray(getattr(unwrapped, 'physical_low', space.low), dtype=np.float64)
    physical_high = np.asarray(getattr(unwrapped, 'physical_high', space.high), dtype=np.float64)
    at_low = _applied_values(setup.env, -np.ones(n), n)
    at_high = _applied_values(setup.env, np.ones(n), n)
    if at_low is None or at_high is None:
        return []
    findings = []
    wrong_low = ~np.isclose(at_low, physical_low, rtol=1e-3, atol=1e-6)
    wrong_high = ~np.isclose(at_high, physical_high, rtol=1e-3, atol=1e-6)
    if wrong_low.any() or wrong_high.any():
        findings.append(Finding(
            WARNING, 'action mapping', 'the env does not map the raw action -1 to its lower bound and +1 to its '
            'upper bound: part of each range cannot be reached, or several actions land on one bound.',
            f'-1 -> {np.round(at_low, 4).tolist()}, +1 -> {np.round(at_high, 4).tolist()}',
            f'-1 -> {np.round(physical_low, 4).tolist()}, +1 -> {np.round(physical_high, 4).tolist()}', bug=1))
    return findings


def check_float16(setup):
    space = getattr(setup.env, 'action_space', None)
    if space is None or getattr(space, 'dtype', None) != np.float16:
        return []
    findings = [Finding(
        WARNING, 'float16 space', 'the action space is float16: its bounds are rounded to about 3 significant '
        'digits (7999.9 becomes 8000).', f'dtype={space.dtype}, high={space.high.tolist()}', 'float32', bug=7)]
    rate = getattr(setup.unwrapped, 'sample_rate', None)
    if rate is not None and np.any(np.asarray(space.high, dtype=np.float64) >= rate / 2):
        findings.append(Finding(
            ERROR, 'float16 space', 'a rounded bound lies on Nyquist: the highest cutoff makes the filter design '
            'fail ("critical frequencies must be 0 < Wn < 1").',
            f'high={space.high.tolist()}, Nyquist={rate / 2}', 'every cutoff bound below Nyquist', bug=7))
    return findings


def check_episode_end(setup, probe_steps=200):
    findings = []
    env = _copy(setup.env)
    probe_reset(env)
    rng = np.random.default_rng(0)
    space = env.action_space
    ends = False
    for _ in range(probe_steps):
        action = rng.uniform(-1, 1, space.shape) if np.all(np.isfinite(space.high)) else np.zeros(space.shape)
        *_, terminated, truncated, _, _ = probe_step(env, action)
        if terminated or truncated:
            ends = True
            break
    if not ends:
        findings.append(Finding(
            WARNING, 'episode end', 'the env never ended an episode by itself in random steps: only the caller\'s '
            'step limit stops it, and nothing marks success as terminal.',
            f'no terminated/truncated in {probe_steps} random steps', 'terminated on success, truncated at a time '
            'limit of the env\'s own', bug=3))
    if setup.nb_max_episode_steps is not None:
        findings.append(Finding(
            WARNING, 'time limit as terminal', 'fit(nb_max_episode_steps=...) forces done=True and keras-rl stores '
            'it as a terminal state: the critic learns that the value ends at the time limit.',
            f'nb_max_episode_steps={setup.nb_max_episode_steps}', 'a time limit in the env (truncation), stored '
            'as non-terminal', bug=12))
    return findings


def check_noise(setup):
    process = getattr(setup.agent, 'random_process', None)
    if process is None or not hasattr(process, 'dt') or not hasattr(process, 'theta'):
        return []
    step = process.current_sigma * np.sqrt(process.dt)
    if step >= 0.1:
        return []
    return [Finding(
        WARNING, 'exploration noise', 'the Ornstein-Uhlenbeck noise moves very little per step (sigma * sqrt(dt)): '
        'within an episode the action hardly changes, so the agent tries few different actions.',
        f'sigma={process.current_sigma}, dt={process.dt}: about {step:.3f} per step',
        'at least 0.1 per step on a [-1, 1] action (e.g. dt=1, or Gaussian noise)', bug=11)]


def check_observation_space(setup):
    findings = []
    for label, env in (('the env given to fit', setup.env), ('the unwrapped env', setup.unwrapped)):
        space = getattr(env, 'observation_space', None)
        if space is None:
            continue
        observation = probe_reset(_copy(env))
        try:
            inside = space.contains(observation)
        except Exception:
            inside = False
        if not inside:
            dtypes = ({k: str(np.asarray(v).dtype) for k, v in observation.items()} if isinstance(observation, dict)
                      else str(np.asarray(observation).dtype))
            findings.append(Finding(
                WARNING, 'observation space', f'the first observation of {label} is not inside its observation '
                'space (dtype or values).', f'observation dtype {dtypes}', f'inside {space}', bug=10))
            break
    return findings


def check_goal_contract(setup):
    env = _copy(setup.unwrapped)
    if not hasattr(env, 'compute_reward'):
        return []
    probe_reset(env)
    action = np.zeros(env.action_space.shape, dtype=env.action_space.dtype)
    obs, reward, *_, info, _ = probe_step(env, action)
    if not isinstance(obs, dict) or not {'achieved_goal', 'desired_goal'} <= set(obs):
        return []
    achieved, desired = obs['achieved_goal'], obs['desired_goal']
    try:
        recomputed = env.compute_reward(achieved, desired, info)
    except TypeError as error:
        return [Finding(ERROR, 'GoalEnv contract', 'compute_reward(achieved_goal, desired_goal, info) cannot be '
                        'called as the GoalEnv contract says.', f'TypeError: {error}',
                        'compute_reward(achieved_goal, desired_goal, info) -> reward', bug=9)]
    if not np.isclose(recomputed, reward):
        return [Finding(ERROR, 'GoalEnv contract', 'the reward step returns is not compute_reward(...): goals '
                        'cannot be substituted afterwards (hindsight relabelling).',
                        f'reward={reward}, compute_reward={recomputed}', 'reward == compute_reward(...)', bug=9)]
    batch = np.asarray(env.compute_reward(np.stack([achieved, achieved]), np.stack([desired, desired]), info))
    if batch.shape != (2,):
        return [Finding(ERROR, 'GoalEnv contract', 'compute_reward does not work on a batch of goals.',
                        f'shape {batch.shape} for 2 goals', 'shape (2,)', bug=9)]
    return []


def check_env_step(setup):
    """What one step shows: printing, and the reward's scale."""
    env = _copy(setup.env)
    probe_reset(env)
    _, reward, *_, printed = probe_step(env, np.zeros(env.action_space.shape))
    findings = []
    if printed:
        findings.append(Finding(WARNING, 'print in step', 'the env prints on every step.',
                                f'printed {printed.strip()[:60]!r}', 'logging, and values in info', bug=14))
    if abs(float(reward)) > 10:
        findings.append(Finding(
            WARNING, 'reward scale', 'one step\'s reward is large: critic targets of that size train slowly and '
            'unstably (and an L2 distance grows with the signal\'s length).',
            f'reward={float(reward):.1f}', '|reward| of order 1 (e.g. an RMS error)', bug=21))
    return findings


def check_policy(setup):
    if not setup.is_continuous:
        return []
    from rl.policy import Policy

    found = [name for name, value in setup.namespace.items() if isinstance(value, Policy)]
    return [Finding(
        WARNING, 'discrete policy', f'a keras-rl Policy object ({", ".join(found)}) exists beside a continuous agent: '
        'DDPG takes no policy (it acts with its actor plus random_process), so it is never used.',
        ', '.join(f'{name}: {type(setup.namespace[name]).__name__}' for name in found),
        'no Policy object; exploration through random_process', bug=13)] if found else []


def check_keras_rl_internals(setup):
    """What stock keras-rl2 does that this setup has not overridden."""
    if not setup.is_continuous:
        return []
    from rl.agents import DDPGAgent

    findings = []
    agent = setup.agent
    if type(agent).select_action is DDPGAgent.select_action and getattr(agent, 'random_process', None) is not None:
        findings.append(Finding(
            WARNING, 'unclipped actions', 'keras-rl stores actor output plus noise before anything clips it to the '
            'action space.', 'DDPGAgent.select_action not overridden', 'noisy actions clipped before they are '
            'stored', bug=18))
    batch = agent.process_state_batch([[np.zeros(1, dtype=np.float32)]])
    if np.asarray(batch).dtype == object:
        findings.append(Finding(
            WARNING, 'object batches', 'every state batch is built as an object array (no Processor converts it): '
            'slow conversion on every training step.', 'process_state_batch dtype=object', 'float32', bug=19))
    return findings


def check_window_length(setup):
    memory = getattr(setup.agent, 'memory', None)
    window = getattr(memory, 'window_length', None)
    model = getattr(setup.agent, 'actor', None) or getattr(setup.agent, 'model', None)
    if window is None or model is None:
        return []
    shape = model.input_shape if not isinstance(model.input_shape, list) else model.input_shape[0]
    if len(shape) >= 2 and shape[1] != window:
        return [Finding(ERROR, 'window length', 'the network\'s input is not (window_length,) + observation shape: '
                        'the first step will fail with a shape error.',
                        f'input shape {shape}, memory window_length={window}',
                        f'input shape (None, {window}, ...)', bug=20)]
    return []


def check_discount(setup):
    gamma = getattr(setup.agent, 'gamma', 0)
    if not gamma:
        return []
    env = _copy(setup.env)
    n = env.action_space.shape
    probe_reset(env)
    after_low = np.asarray(probe_step(env, -0.5 * np.ones(n))[0])
    probe_reset(env)
    after_high = np.asarray(probe_step(env, 0.5 * np.ones(n))[0])
    if after_low.shape == after_high.shape and np.array_equal(after_low, after_high):
        return [Finding(
            WARNING, 'discount', 'the next observation does not depend on the action (a contextual bandit), yet '
            'gamma > 0 asks the critic to bootstrap a discounted sum it does not need.',
            f'gamma={gamma}', 'gamma=0', bug=22)]
    return []


def check_critic_inputs(setup):
    """BUG-23: the action concatenated straight beside many observation features.

    Every relu unit fed by that layer is then switched on or off by the observation, so Q is
    linear in the action and its maximum sits at an edge. An action that passes through a hidden
    layer of its own first (FIX-23) is not flagged.
    """
    if not setup.is_continuous:
        return []
    critic = setup.agent.critic
    action = setup.agent.critic_action_input
    nb_actions = int(action.shape[-1])
    for layer in critic.layers:
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        if layer.__class__.__name__ != 'Concatenate' or not any(t is action for t in inputs):
            continue
        width = int(layer.output_shape[-1])
        if width > 0 and nb_actions / width < 0.1:
            return [Finding(
                WARNING, 'critic inputs', 'the action is concatenated straight beside a much larger observation: '
                'every unit after it is switched on or off by the observation, so Q is nearly linear in the '
                'action and the actor is pushed to an edge of its range.',
                f'{nb_actions} action inputs of {width}', 'the action through a hidden layer of its own before '
                'it meets the observation\'s features', bug=23)]
    return []


CHECKS = [check_warmups, check_memory, check_step_counter, check_window_length, check_actor_output,
          check_actor_saturation, check_critic_inputs, check_noise, check_policy, check_keras_rl_internals,
          check_discount, check_action_mapping, check_float16, check_episode_end, check_observation_space,
          check_goal_contract, check_env_step]


def diagnose(agent, env, nb_steps=None, nb_max_episode_steps=None, namespace=None):
    """Run every check on ``agent`` and ``env`` (the env you would pass to ``fit``).

    Returns the findings, errors first. A check that itself fails is reported as a warning
    naming the check, so one odd object never hides the other findings.
    """
    setup = Setup(agent, env, nb_steps, nb_max_episode_steps, namespace or {})
    findings = []
    for check in CHECKS:
        try:
            findings += check(setup)
        except Exception as error:  # noqa: BLE001  (a diagnosis must survive what it diagnoses)
            findings.append(Finding(WARNING, check.__name__.removeprefix('check_'), 'this check could not run on '
                                    'this setup.', f'{type(error).__name__}: {error}', 'a setup it can inspect'))
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.bug or 0))


# ---------------------------------------------------------------------------------------------
# Diagnosing an unmodified training script: run it until its first fit(...), and look there.

class _StopBeforeTraining(BaseException):
    """Raised in place of the first fit, to leave the user's script without training.

    A ``BaseException``, like ``KeyboardInterrupt``: a script's own ``except Exception`` (or a
    command's report of a failed run) lets it through.
    """


def _namespace_of_callers(frame):
    """The variables of every frame from ``frame`` up to the script's top level."""
    namespace = {}
    while frame is not None:
        namespace = {**frame.f_globals, **frame.f_locals, **namespace}
        frame = frame.f_back
    return namespace


def run_script(path=None, module=None, argv=(), keep_training=False):
    """Run a training script (a file ``path`` or a ``module``) until its first ``agent.fit``.

    That call is diagnosed instead of run; with ``keep_training`` it runs afterwards. Returns the
    findings, or ``None`` if the script ended without calling ``fit``.
    """
    import inspect
    import runpy
    import sys

    from shared import keras_rl  # noqa: F401  (tf-keras before the script imports TensorFlow)
    from rl.core import Agent

    stock_fit = Agent.fit
    seen = {}

    def intercepted_fit(self, env, nb_steps, *args, **kwargs):
        Agent.fit = stock_fit  # only the first call is intercepted
        seen['findings'] = diagnose(self, env, nb_steps=nb_steps,
                                    nb_max_episode_steps=kwargs.get('nb_max_episode_steps'),
                                    namespace=_namespace_of_callers(inspect.currentframe().f_back))
        if not keep_training:
            raise _StopBeforeTraining
        log.info('diagnosis done; training goes on (--continue)')
        return stock_fit(self, env, nb_steps, *args, **kwargs)

    saved_argv = sys.argv
    Agent.fit = intercepted_fit
    try:
        sys.argv = [path or module, *argv]
        if module:
            runpy.run_module(module, run_name='__main__', alter_sys=True)
        else:
            runpy.run_path(path, run_name='__main__')
    except _StopBeforeTraining:
        pass
    finally:
        Agent.fit = stock_fit
        sys.argv = saved_argv
    return seen.get('findings')
