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
its first ``agent.fit(...)``, diagnoses that call and exits without training; a script written for
the stack of 2018-2021 runs with porting shims (stepsignal/doctor/old_scripts.py, docs/diagnose.md).
"""
import contextlib
import copy
import functools
import io
import logging
import random
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
    see: Optional[str] = None
    """Where to read more, for a finding that is not one of the kit's bugs."""

    @property
    def docs(self):
        return self.see or (f'{DOCS}#bug-{self.bug}' if self.bug else 'docs/diagnose.md')

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
        """A Box action space: the continuous-action checks apply (not to DQN's Discrete one)."""
        space = getattr(self.env, 'action_space', None)
        return space is not None and hasattr(space, 'low') and len(getattr(space, 'shape', ()) or ()) == 1

    @property
    def is_ddpg(self):
        return self.is_continuous and hasattr(self.agent, 'actor') and hasattr(self.agent, 'critic')

    @property
    def actor(self):
        """The network that outputs the action: DDPG's actor, NAF's mu model."""
        return getattr(self.agent, 'actor', None) or getattr(self.agent, 'mu_model', None)

    @functools.cached_property
    def bounds(self):
        """``(low, high, described)``: the range the actor's output should span (probed once).

        The action space's bounds, or [-1, 1] where the env maps raw actions onto its bounds itself
        (it says what it applied, as the question's env does).
        """
        space = self.env.action_space
        low, high = np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)
        n = space.shape[0]
        if _applied_values(self.env, np.ones(n), n, self.agent) is not None:
            return -np.ones(n), np.ones(n), 'the env maps raw actions in [-1, 1] onto its bounds'
        return low, high, f'the action space is {_interval(low, high)}'

    def episode_length(self):
        """Steps per episode: fit's nb_max_episode_steps, else the env's own time limit, else None."""
        return int(self.nb_max_episode_steps) if self.nb_max_episode_steps else self.env_time_limit()

    def env_time_limit(self):
        """The env's own time limit (its spec's, or a TimeLimit wrapper's), or None."""
        spec = getattr(self.env, 'spec', None)
        if getattr(spec, 'max_episode_steps', None):
            return int(spec.max_episode_steps)
        env = self.env
        while env is not None:
            if vars(env).get('_max_episode_steps'):
                return int(vars(env)['_max_episode_steps'])
            env = vars(env).get('env')
        return None

    def warmups(self):
        """The agent's warmups by name (DDPG has two, DQN and NAF one)."""
        names = ('nb_steps_warmup_critic', 'nb_steps_warmup_actor', 'nb_steps_warmup')
        return {name: getattr(self.agent, name) for name in names if hasattr(self.agent, name)}


# ---------------------------------------------------------------------------------------------
# Probing an env without disturbing it. Old gym API: reset() -> obs, step -> 4-tuple. Gymnasium:
# reset() -> (obs, info), step -> 5-tuple. Both are accepted; what an env prints is captured.


class CannotProbe(Exception):
    """The env cannot be copied, so the checks that step it are skipped (the env is never touched)."""


def _copy(env, agent=None):
    """A deep copy of ``env`` to probe. An agent it refers to (a wrapper that reports to the agent)
    becomes a shallow copy: TensorFlow's variables cannot be deep-copied, and what a probe sets on
    it stays off the real agent."""
    memo = {id(agent): copy.copy(agent)} if agent is not None else {}
    try:
        try:
            return copy.deepcopy(env, memo)
        except RecursionError:  # a wrapper whose __getattr__ asks for self.env before it exists
            twin = object.__new__(type(env))
            twin.__dict__.update(copy.deepcopy(vars(env), memo))
            return twin
    except Exception as error:  # an env holding a handle (a window, a simulator) that cannot be copied
        raise CannotProbe(f'the env cannot be copied ({type(error).__name__}: {error}), and probing the env '
                          'itself would change it') from None


def _processor_copy(agent):
    """The agent's Processor, copied: a probe must not feed its running statistics."""
    processor = getattr(agent, 'processor', None)
    return copy.deepcopy(processor) if processor is not None else None


def probe_actions(space):
    """Three valid raw actions for probing a space: its low end, its middle, its high end.

    keras-rl hands the env the actor's raw output; probes use -1, 0 and +1 (the range of a tanh
    actor) kept inside the space's bounds. A Discrete space gets its first, middle and last action.
    """
    if hasattr(space, 'n'):
        start = int(getattr(space, 'start', 0))
        return start, start + int(space.n) // 2, start + int(space.n) - 1
    low, high = np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)
    return tuple(np.clip(value * np.ones(space.shape), low, high).astype(space.dtype) for value in (-1, 0, 1))


def random_action(space, rng):
    if hasattr(space, 'n'):
        return int(getattr(space, 'start', 0)) + int(rng.integers(space.n))
    low, _, high = probe_actions(space)
    return rng.uniform(low, high).astype(space.dtype)


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
    observation = probe_reset(_copy(setup.env, setup.agent))
    processor = _processor_copy(setup.agent)
    if processor is not None:
        observation = processor.process_observation(observation)
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
    from rl.memory import EpisodeParameterMemory

    memory = getattr(setup.agent, 'memory', None)
    limit = getattr(memory, 'limit', None)
    if limit is None or isinstance(memory, EpisodeParameterMemory):  # CEM's counts episodes, not steps
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


BOUNDED_ACTIVATIONS = {'tanh': (-1.0, 1.0), 'softsign': (-1.0, 1.0), 'sigmoid': (0.0, 1.0),
                       'hard_sigmoid': (0.0, 1.0)}


"""Output activations that bound an actor, and the range each reaches."""


def _activation_name(layer):
    activation = getattr(layer, 'activation', None)
    return getattr(activation, '__name__', str(activation)) if activation is not None else None


def actor_reach(setup):
    """What the actor's action can reach: ``(low, high, activation)``, or ``None`` if unbounded.

    The last bounded activation (tanh, sigmoid, ...) sets the range; weight-free layers after it
    (a Lambda that scales it, say) are evaluated at its two ends; a copy of the agent's Processor
    then gets its say (``process_action``), as keras-rl applies it before the env sees the action.
    """
    import tf_keras

    actor = setup.actor
    layers = actor.layers
    bounded = [i for i, layer in enumerate(layers) if _activation_name(layer) in BOUNDED_ACTIVATIONS]
    if not bounded or any(layer.weights for layer in layers[bounded[-1] + 1:]):
        return None
    last = layers[bounded[-1]]
    low, high = BOUNDED_ACTIVATIONS[_activation_name(last)]
    ends = np.array([[low] * last.output_shape[-1], [high] * last.output_shape[-1]], dtype=np.float32)
    if last is not layers[-1]:
        ends = np.asarray(tf_keras.backend.function([last.output], [actor.output])([ends])[0])
    ends = ends.reshape(2, -1).astype(np.float64)
    processor = _processor_copy(setup.agent)
    if processor is not None:
        ends = np.array([np.asarray(processor.process_action(row), dtype=np.float64).ravel() for row in ends])
    return np.minimum(ends[0], ends[1]), np.maximum(ends[0], ends[1]), _activation_name(last)


def _interval(low, high):
    pairs = {(round(float(a), 4), round(float(b), 4)) for a, b in zip(np.ravel(low), np.ravel(high))}
    return ', '.join(f'[{a:g}, {b:g}]' for a, b in sorted(pairs))


def scaled_tanh(low, high):
    """The actor output that spans [low, high] exactly, as a formula in the last layer's tanh."""
    pairs = {(float(a), float(b)) for a, b in zip(np.ravel(low), np.ravel(high))}
    if len(pairs) > 1:
        return 'low + (high - low) * (tanh + 1) / 2, per action'
    (a, b), = pairs
    middle, half = (a + b) / 2, (b - a) / 2
    if middle == 0:
        return 'tanh' if half == 1 else f'{half:g} * tanh'
    return f'{middle:g} + {half:g} * tanh'


def _how(low, high):
    if np.allclose(low, -1) and np.allclose(high, 1):
        return ''
    scale, offset = (high - low) / 2, (high + low) / 2
    if np.ptp(scale) or np.ptp(offset):
        return ' (a Rescaling layer after the tanh)'
    return f' (a Rescaling(scale={scale.flat[0]:g}, offset={offset.flat[0]:g}) layer after the tanh)'


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


def check_step_api(setup):
    """The env speaks gym 0.26's API, which keras-rl2's fit cannot drive."""
    env = _copy(setup.env, setup.agent)
    with contextlib.redirect_stdout(io.StringIO()):
        result = env.reset()
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        return []
    return [Finding(
        ERROR, 'gym API', 'the env speaks gym 0.26\'s API (reset returns (obs, info), step returns 5 values); '
        'keras-rl2\'s fit drives the old one and fails at its first step.',
        f'reset() returned a tuple of 2: (observation, info={sorted(result[1])[:4]})',
        'an adapter between the env and fit: reset() -> obs, step -> (obs, reward, terminated or truncated, '
        'info), as shared/old_step_api.py does', see='docs/porting.md#porting-an-old-keras-rl-script')]


def check_actor_output(setup):
    """BUG-6: the actor's reachable output against the action space's actual bounds."""
    if not setup.is_continuous or setup.actor is None:
        return []
    low, high, space = setup.bounds
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        return []
    wanted = scaled_tanh(low, high)
    reach = actor_reach(setup)
    if reach is None:
        return [Finding(
            WARNING, 'actor output', 'the actor\'s output is not bounded: the env clips it, so every action beyond '
            'the bounds looks the same to the env, and the critic learns from actions the env never applied.',
            f'last activation: {_output_activation(setup.actor)}; {space}',
            f'an output that spans the action space: {wanted}{_how(low, high)}', bug=6)]
    reach_low, reach_high, activation = reach
    width = high - low
    covered = (np.minimum(reach_high, high) - np.maximum(reach_low, low)).clip(0) / width
    beyond = (np.maximum(reach_high - high, 0) + np.maximum(low - reach_low, 0)) / width
    if np.all(covered >= 0.9) and np.all(beyond <= 0.1):
        return []
    if np.any(covered < 0.9):
        message = ('the actor\'s output reaches only part of the action space: the rest of it can never be '
                   'chosen, however the agent learns.')
    else:
        message = ('the actor\'s output reaches well beyond the action space: the env clips it, so many actions '
                   'look the same to the env.')
    return [Finding(
        WARNING, 'actor output', message,
        f'{activation} output reaches {_interval(reach_low, reach_high)}; {space} '
        f'({100 * float(np.min(covered)):.0f}% of it reachable)',
        f'an output that spans the action space: {wanted}{_how(low, high)}', bug=6)]


def check_actor_saturation(setup):
    if not setup.is_ddpg:
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


def _applied_values(env, action, nb_actions, agent=None):
    """What the env applied for a raw action, where it tells: ``physical_action`` or a printed line."""
    unwrapped = getattr(env, 'unwrapped', env)
    if hasattr(unwrapped, 'physical_action'):
        return np.asarray(unwrapped.physical_action(action), dtype=np.float64)
    probe = _copy(unwrapped, agent)
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
    """BUG-3: an env that never ends an episode by itself (no success, no time limit of its own)."""
    own_limit = setup.env_time_limit()
    steps = min(own_limit + 1, 5000) if own_limit else probe_steps
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        *_, terminated, truncated, _, _ = probe_step(env, random_action(env.action_space, rng))
        if terminated or truncated:
            return []
    return [Finding(
        WARNING, 'episode end', 'the env never ended an episode by itself in random steps: only the caller\'s '
        'step limit stops it, and nothing marks success as terminal.',
        f'no terminated/truncated in {steps} random steps', 'terminated on success, truncated at a time '
        'limit of the env\'s own', bug=3)]


def check_time_limit(setup):
    if setup.nb_max_episode_steps is None:
        return []
    return [Finding(
        WARNING, 'time limit as terminal', 'fit(nb_max_episode_steps=...) forces done=True and keras-rl stores '
        'it as a terminal state: the critic learns that the value ends at the time limit.',
        f'nb_max_episode_steps={setup.nb_max_episode_steps}', 'a time limit in the env (truncation), stored '
        'as non-terminal', bug=12)]


def noise_within_episode(process, steps):
    """How far keras-rl's Ornstein-Uhlenbeck noise moves within an episode of ``steps`` steps.

    keras-rl2 draws the noise afresh from N(mu, sigma) at each episode's start, then takes
    ``steps`` steps of dx = theta (mu - x) dt + sigma sqrt(dt) N(0, 1). Returns the standard
    deviation of x_end - x_start.
    """
    sigma, theta, dt = float(process.current_sigma), float(process.theta), float(process.dt)
    if theta == 0:
        return sigma * np.sqrt(dt * steps)
    decay = np.exp(-theta * dt * steps)
    return sigma * np.sqrt((1 - decay) ** 2 + (1 - decay ** 2) / (2 * theta))


def check_noise(setup):
    """BUG-11: exploration noise that hardly moves within an episode, measured against its length."""
    process = getattr(setup.agent, 'random_process', None)
    if not setup.is_continuous or process is None or not all(hasattr(process, a) for a in ('dt', 'theta')):
        return []
    steps = setup.episode_length()
    low, high, _ = setup.bounds
    reach = actor_reach(setup) if setup.actor is not None else None
    if reach is not None:  # the noise is added to the actor's output, in its units
        low, high = reach[0], reach[1]
    half_range = float(np.min((high - low) / 2)) if np.all(np.isfinite(high - low)) else 1.0
    if steps is None:
        moved, over = process.current_sigma * np.sqrt(process.dt), 'one step'
    else:
        moved, over = noise_within_episode(process, steps), f'an episode of {steps} steps'
    if moved >= 0.1 * half_range:
        return []
    return [Finding(
        WARNING, 'exploration noise', 'the Ornstein-Uhlenbeck noise hardly moves within an episode: each episode '
        'tries one action, nearly unchanged, so the agent explores few different actions.',
        f'sigma={process.current_sigma}, theta={process.theta}, dt={process.dt}: it moves about {moved:.3f} over '
        f'{over}, {100 * moved / half_range:.0f}% of the action\'s half-range {half_range:g}',
        'at least 10% of the half-range within an episode (a larger sigma or dt, or Gaussian noise)', bug=11)]


def check_observation_space(setup):
    findings = []
    for label, env in (('the env given to fit', setup.env), ('the unwrapped env', setup.unwrapped)):
        space = getattr(env, 'observation_space', None)
        if space is None:
            continue
        observation = probe_reset(_copy(env, setup.agent))
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
    env = _copy(setup.unwrapped, setup.agent)
    if not hasattr(env, 'compute_reward'):
        return []
    probe_reset(env)
    obs, reward, *_, info, _ = probe_step(env, probe_actions(env.action_space)[1])
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
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    _, reward, *_, printed = probe_step(env, probe_actions(env.action_space)[1])
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
    if not setup.is_ddpg:
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
    if not setup.is_ddpg:
        return []
    from rl.agents import DDPGAgent

    findings = []
    agent = setup.agent
    if type(agent).select_action is DDPGAgent.select_action and getattr(agent, 'random_process', None) is not None:
        findings.append(Finding(
            WARNING, 'unclipped actions', 'keras-rl stores actor output plus noise before anything clips it to the '
            'action space.', 'DDPGAgent.select_action not overridden', 'noisy actions clipped before they are '
            'stored', bug=18))
    probe = copy.copy(agent)  # the same agent with a copy of its Processor (a normaliser learns from batches)
    probe.processor = _processor_copy(agent)
    batch = probe.process_state_batch([[np.zeros(1, dtype=np.float32)]])
    if np.asarray(batch).dtype == object:
        findings.append(Finding(
            WARNING, 'object batches', 'every state batch is built as an object array (no Processor converts it): '
            'slow conversion on every training step.', 'process_state_batch dtype=object', 'float32', bug=19))
    return findings


def check_discount(setup):
    gamma = getattr(setup.agent, 'gamma', 0)
    if not gamma:
        return []
    low, _, high = probe_actions(setup.env.action_space)
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    after_low = np.asarray(probe_step(env, low / 2 if setup.is_continuous else low)[0])
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    after_high = np.asarray(probe_step(env, high / 2 if setup.is_continuous else high)[0])
    if after_low.shape == after_high.shape and np.array_equal(after_low, after_high):
        return [Finding(
            WARNING, 'discount', 'the next observation does not depend on the action (a contextual bandit), yet '
            'gamma > 0 asks the critic to bootstrap a discounted sum it does not need.',
            f'gamma={gamma}', 'gamma=0', bug=22)]
    return []


def _joins_after_a_hidden_layer(node):
    """Whether a layer with weights lies between the model's inputs and ``node``'s output."""
    return any(parent.layer.weights or _joins_after_a_hidden_layer(parent) for parent in node.parent_nodes)


def check_critic_inputs(setup):
    """BUG-23: the action concatenated straight beside many raw observation features.

    Every relu unit fed by that layer is then switched on or off by the observation, so Q is
    linear in the action and its maximum sits at an edge. Not flagged where the observation has
    passed a hidden layer before the action joins it (keras-rl2's MuJoCo example, FIX-23's action
    layer), whatever the widths.
    """
    if not setup.is_ddpg:
        return []
    critic = setup.agent.critic
    action = setup.agent.critic_action_input
    action_layer = action._keras_history.layer
    nb_actions = int(action.shape[-1])
    for layer in critic.layers:
        if layer.__class__.__name__ != 'Concatenate':
            continue
        for node in layer._inbound_nodes:
            others = [parent for parent in node.parent_nodes if parent.layer is not action_layer]
            if len(others) == len(node.parent_nodes):
                continue  # the action is not among this node's inputs
            if any(parent.layer.weights or _joins_after_a_hidden_layer(parent) for parent in others):
                continue  # the observation's features went through a hidden layer first
            width = int(layer.output_shape[-1])
            if width > 0 and nb_actions / width < 0.1:
                return [Finding(
                    WARNING, 'critic inputs', 'the action is concatenated straight beside a much larger raw '
                    'observation: every unit after it is switched on or off by the observation, so Q is nearly '
                    'linear in the action and the actor is pushed to an edge of its range.',
                    f'{nb_actions} action inputs of {width}, in the critic\'s first layer', 'the action joining '
                    'after the observation\'s first hidden layer, or through a hidden layer of its own', bug=23)]
    return []


CHECKS = [check_warmups, check_memory, check_step_counter, check_window_length, check_step_api,
          check_actor_output, check_actor_saturation, check_critic_inputs, check_noise, check_policy,
          check_keras_rl_internals, check_discount, check_action_mapping, check_float16, check_episode_end,
          check_time_limit, check_observation_space, check_goal_contract, check_env_step]


def diagnose(agent, env, nb_steps=None, nb_max_episode_steps=None, namespace=None):
    """Run every check on ``agent`` and ``env`` (the env you would pass to ``fit``).

    Returns the findings, errors first. A check that itself fails is reported as a warning
    naming the check, so one odd object never hides the other findings. Nothing is changed: the
    env is probed on copies, the agent's Processor on a copy, and the global random states
    (Python's and numpy's, which keras-rl's noise draws from) are put back as they were.
    """
    setup = Setup(agent, env, nb_steps, nb_max_episode_steps, namespace or {})
    findings, unprobed = [], []
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        for check in CHECKS:
            try:
                findings += check(setup)
            except CannotProbe as reason:
                unprobed.append((check.__name__.removeprefix('check_'), str(reason)))
            except Exception as error:  # noqa: BLE001  (a diagnosis must survive what it diagnoses)
                findings.append(Finding(WARNING, check.__name__.removeprefix('check_'), 'this check could not run '
                                        'on this setup.', f'{type(error).__name__}: {error}', 'a setup it can inspect'))
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    if unprobed:
        findings.append(Finding(WARNING, 'env probes', 'the checks that step the env were skipped: '
                                f'{", ".join(name for name, _ in unprobed)}.', unprobed[0][1],
                                'an env that copy.deepcopy can copy'))
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.bug or 0))
