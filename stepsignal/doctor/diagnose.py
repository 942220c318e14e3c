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
import os
import random
import sysconfig
import time
import traceback
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
            if _has_action_space(env) and not _has_action_space(twin):
                raise CannotProbe('the env cannot be copied whole (copy.deepcopy ends in a RecursionError: a '
                                  '__getattr__ that asks for an attribute before it is set), and probing the env '
                                  'itself would change it') from None
            return twin
    except Exception as error:  # an env holding a handle (a window, a simulator) that cannot be copied
        if isinstance(error, CannotProbe):
            raise
        raise CannotProbe(f'the env cannot be copied ({type(error).__name__}: {error}), and probing the env '
                          'itself would change it') from None


def _has_action_space(env):
    try:
        return getattr(env, 'action_space', None) is not None
    except RecursionError:
        return False


def _processor_copy(agent):
    """The agent's Processor, copied: a probe must not feed its running statistics."""
    processor = getattr(agent, 'processor', None)
    return copy.deepcopy(processor) if processor is not None else None


def _action_space(env):
    """The env's action space, which a probe needs to choose actions; keras-rl itself does not need one."""
    space = getattr(env, 'action_space', None)
    if space is None:
        raise CannotProbe('the env has no action_space (keras-rl does not need one), so no action could be chosen '
                          'to step it')
    return space


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
    """The first observation of ``env`` (a copy), for either API; ``CannotProbe`` if reset gives none."""
    with contextlib.redirect_stdout(io.StringIO()):
        result = env.reset()
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
        result = result[0]
    if result is None:
        own = type(getattr(env, 'unwrapped', env))
        old = ' (it defines _reset, which gym before 0.9 called: name it reset)' if hasattr(own, '_reset') else ''
        raise CannotProbe(f'reset() returned None, not an observation{old}')
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
    batch_size = getattr(setup.agent, 'batch_size', 32)
    advised = max(batch_size, min(200, setup.nb_steps // 10))
    rule = 'max(batch_size, min(200, nb_steps // 10))'
    for name, warmup in setup.warmups().items():
        if warmup >= setup.nb_steps:
            expected = (f'{name}={advised}: {rule}, one batch at least and far below nb_steps'
                        if advised < setup.nb_steps // 2 else
                        f'a run of thousands of steps (the question\'s task learns in 5,000) and {name} = {rule}')
            findings.append(Finding(
                ERROR, 'warmups', f'{name} is not below nb_steps: keras-rl trains only after the warmup, '
                'so this part of the agent never takes a gradient step.',
                f'{name}={warmup}, nb_steps={setup.nb_steps}', expected, bug=4))
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
            f'memory limit={limit}, longest warmup={largest}', f'limit >= {largest} (the whole run: limit=nb_steps)', bug=5))
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
    """BUG-20: the network must take the batch keras-rl will hand it, ``(1, window_length) + observation``.

    Judged by a real call of the network on that batch, built as keras-rl builds it (the agent's
    ``process_state_batch``, or CEM's own, with a copy of its Processor): an input layer that reshapes or embeds
    (``Embedding`` + ``Reshape``) passes whatever its declared shape says, if it can take the batch.
    """
    memory = getattr(setup.agent, 'memory', None)
    window = getattr(memory, 'window_length', None)
    model = setup.actor or getattr(setup.agent, 'model', None)
    if window is None or model is None or not hasattr(model, 'predict_on_batch'):
        return []
    try:
        observation = first_observation(setup)
    except CannotProbe as cannot:  # the env cannot be copied: an observation of the space's shape will do
        space = getattr(setup.env, 'observation_space', None)
        if space is None:
            raise CannotProbe(f'{cannot}; and the env has no observation_space (keras-rl does not need one) to '
                              'build an observation from') from None
        observation = np.zeros(space.shape, dtype=np.float32)
    processor = _processor_copy(setup.agent)
    if hasattr(setup.agent, 'process_state_batch'):
        probe = copy.copy(setup.agent)  # the same agent with a copy of its Processor
        probe.processor = processor
        batch = probe.process_state_batch([[observation] * window])
    else:  # CEM builds its batch in select_action, the same way
        batch = np.array([[observation] * window], dtype=object)
        if processor is not None:
            batch = processor.process_state_batch(batch)
    try:
        model.predict_on_batch(batch)
    except Exception as error:  # noqa: BLE001  (any failure here is the one the first step would meet)
        shape = model.input_shape if not isinstance(model.input_shape, list) else model.input_shape[0]
        reason = (str(error).strip().splitlines() or [''])[0][:160]
        return [Finding(ERROR, 'window length', 'the network cannot take the batch keras-rl hands it, (1, '
                        'window_length) + observation shape: the first step will fail.',
                        f'input shape {shape}, memory window_length={window}, a batch of shape '
                        f'{np.shape(batch)} fails: {type(error).__name__}: {reason}',
                        f'an input of shape (None, {window}) + {tuple(np.shape(observation))}', bug=20)]
    return []


def check_output_shape(setup):
    """The network that chooses the action must give one value per action (keras-rl's DQN checks this
    itself when it is built; DDPG and NAF do not, and fail later, inside training)."""
    nb_actions = getattr(setup.agent, 'nb_actions', None)
    model = setup.actor or getattr(setup.agent, 'model', None)
    if nb_actions is None or model is None or isinstance(model.output_shape, list):
        return []
    shape = tuple(model.output_shape)
    if len(shape) == 2 and shape[1] == nb_actions:
        return []
    flatten = (': add Flatten() before the last Dense layer (the output keeps the window dimension)'
               if len(shape) == 3 and shape[-1] == nb_actions else '')
    return [Finding(ERROR, 'output shape', 'the network that chooses the action does not give one value per '
                    'action: the first step or the first update will fail with a shape error.',
                    f'output shape {shape}, nb_actions={nb_actions}', f'output shape (None, {nb_actions}){flatten}')]


def check_q_values(setup):
    """A Q-network's outputs are sums of rewards: an output layer that squeezes them cannot learn them."""
    model = getattr(setup.agent, 'model', None)
    if model is None or not hasattr(setup.agent, 'policy') or not hasattr(model, 'layers'):
        return []  # DQN and SARSA have a Q-network and a policy; DDPG, NAF and CEM do not
    activation = _output_activation(model)
    if activation != 'softmax':
        return []
    return [Finding(WARNING, 'Q-value output', 'the Q-network ends in softmax: its Q-values lie in (0, 1) and sum to '
                    '1 over the actions, but a Q-value is a sum of rewards, so the targets cannot be met and the '
                    'greedy action is whatever the squeeze leaves on top.', f'output activation {activation}',
                    "a linear output: Dense(nb_actions, activation='linear')", see='docs/diagnose.md')]


def check_discrete_start(setup):
    """keras-rl's discrete agents pick action indices 0 to n - 1, whatever the space's ``start``."""
    space = _action_space(setup.env)
    start = int(getattr(space, 'start', 0) or 0)
    if not hasattr(space, 'n') or start == 0:
        return []
    n = int(space.n)
    return [Finding(WARNING, 'discrete action start', f'the action space is Discrete({n}, start={start}): actions '
                    f'{start} to {start + n - 1}, but keras-rl picks action indices 0 to {n - 1} and hands them to '
                    'step as they are, so either the space or step means other actions than the agent takes.',
                    f'Discrete({n}, start={start})',
                    f'Discrete({n}) and step mapping the index itself (action {"+" if start > 0 else "-"} '
                    f'{abs(start)}), or a Processor whose process_action adds the start', see='docs/diagnose.md')]


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


def check_info_values(setup):
    """keras-rl's fit adds up every info value of an episode, asking np.isreal of each: an array fails."""
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    *_, info, _ = probe_step(env, probe_actions(_action_space(env))[1])
    arrays = {key: np.shape(value) for key, value in (info or {}).items() if np.ndim(value) > 0}
    if not arrays:
        return []
    shown = ', '.join(f'info[{key!r}] of shape {shape}' for key, shape in arrays.items())
    return [Finding(
        ERROR, 'info values', 'the env puts arrays in info; keras-rl2\'s fit adds up the info values of each '
        'episode and asks np.isreal of each, which fails on an array at the first step ("The truth value of an '
        'array ... is ambiguous").', shown, 'numbers only in the info that fit sees (a wrapper that leaves the '
        'arrays out)', see='docs/porting.md#porting-an-old-keras-rl-script')]


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
                f'std of first-layer pre-activations = {spread:.1f}', 'about 1: a Processor that centres and scales the observations',
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
            f'-1 -> {np.round(physical_low, 4).tolist()}, +1 -> {np.round(physical_high, 4).tolist()}: '
            'low + (a + 1) / 2 * (high - low)', bug=1))
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


def check_episode_end(setup, probe_steps=1000, probe_seconds=30.0):
    """BUG-3: no episode ended by the env itself (no success, failure or time limit of its own) in random steps.

    Says what was tried and seen, not what the env can do: an env that ends only on failure, which
    random actions did not reach, is flagged too, and the finding says so. It steps past the env's
    own time limit where one is known; otherwise ``probe_steps`` (or as many as ``probe_seconds``
    allow), and the finding says how far it looked.
    """
    own_limit = setup.env_time_limit()
    # past the env's own limit, or as long as the caller's episodes, at least probe_steps
    steps = min(own_limit + 1 if own_limit else max(setup.nb_max_episode_steps or 0, probe_steps), 5000)
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    rng = np.random.default_rng(0)
    started, taken = time.perf_counter(), 0
    while taken < steps and (own_limit or taken < 200 or time.perf_counter() - started < probe_seconds):
        *_, terminated, truncated, _, _ = probe_step(env, random_action(_action_space(env), rng))
        taken += 1
        if terminated or truncated:
            return []
    later = '' if own_limit else f' (an env that ends its episodes only after step {taken} is not seen here)'
    return [Finding(
        WARNING, 'episode end', f'in {taken} steps of random actions after a reset, the env ended no episode by '
        f'itself{later}: if it ends only on success or failure that random actions do not reach, only the caller\'s '
        'step limit (nb_max_episode_steps) stops an episode, and nothing marks success as terminal.',
        f'{taken} random steps from one reset: terminated and truncated were False at every step',
        'terminated on success (or failure), truncated at a time limit of the env\'s own (a TimeLimit wrapper, or '
        'max_episode_steps in its registration)', bug=3)]


def _value_network(agent):
    """What learns the value in this agent, in the agent's own words, or None where nothing bootstraps (CEM)."""
    if hasattr(agent, 'critic'):
        return 'the critic'
    if hasattr(agent, 'V_model'):
        return 'its value network (NAF\'s V)'
    if hasattr(agent, 'model') and hasattr(agent, 'policy'):
        return 'the Q-network'
    return None


def check_time_limit(setup):
    learner = _value_network(setup.agent)
    if learner is None:
        return []
    if setup.nb_max_episode_steps is None:
        return _env_time_limit_as_terminal(setup, learner)
    return [Finding(
        WARNING, 'time limit as terminal', 'fit(nb_max_episode_steps=...) forces done=True and keras-rl stores '
        f'it as a terminal state: {learner} learns that the value ends at the time limit.',
        f'nb_max_episode_steps={setup.nb_max_episode_steps}', 'the env\'s own time limit (truncation), no '
        'nb_max_episode_steps; stock keras-rl2 still stores it as terminal, harmless with gamma 0 (otherwise a '
        'subclass must store it as non-terminal)', bug=12)]


FAR_BEYOND_THE_HORIZON = 10
"""A time limit this many horizons (1 / (1 - gamma) steps) long ends so few episodes, and so late, that
storing it as terminal is not worth a warning."""


def _env_time_limit_as_terminal(setup, learner):
    """BUG-12 without nb_max_episode_steps: the env's own time limit reaches stock keras-rl2 as done=True."""
    limit, gamma = setup.env_time_limit(), float(getattr(setup.agent, 'gamma', 0) or 0)
    if not limit or gamma == 0 or hasattr(setup.agent, 'store_as_terminal'):  # nothing bootstrapped, or handled
        return []
    enough = FAR_BEYOND_THE_HORIZON / (1 - gamma) if gamma < 1 else float('inf')
    if limit >= enough:  # the end's few discounted steps hardly count
        return []
    return [Finding(
        WARNING, 'time limit as terminal', f'the env\'s own time limit ends every episode that lasts {limit} steps '
        'with done=True, and stock keras-rl2 stores it as a terminal state: ' + learner + ' learns that the value '
        'ends there, though the task goes on.', f'a time limit of {limit} steps in the env, gamma={gamma:g}',
        'the time left in the observation (then an end at the limit is part of the task), a time limit of at least '
        f'{FAR_BEYOND_THE_HORIZON} / (1 - gamma) = {enough:.0f} steps, or a subclass '
        'whose backward stores it as non-terminal '
        '(docs/your_script.md)', bug=12)]


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


def noise_spread(process, steps):
    """The standard deviation of keras-rl's Ornstein-Uhlenbeck noise about ``mu`` at each step of an episode.

    At the episode's start x ~ N(mu, sigma); each step multiplies its spread by a = 1 - theta dt and adds
    sigma sqrt(dt) N(0, 1), so the variance goes v -> a**2 v + sigma**2 dt (the steady state is
    sigma**2 dt / (1 - a**2), about sigma**2 / (2 theta)).
    """
    sigma, a, dt = float(process.current_sigma), 1 - float(process.theta) * float(process.dt), float(process.dt)
    variance = np.empty(steps)
    variance[0] = sigma ** 2
    for t in range(1, steps):
        variance[t] = a ** 2 * variance[t - 1] + sigma ** 2 * dt
    return np.sqrt(variance)


def share_beyond(spread, mu, half_range):
    """The mean share of N(mu, spread**2) draws beyond +-half_range: noisy actions clipped to a bound,
    were the actor's own output in the middle of its range."""
    from math import erf, sqrt

    def below(x, s):  # P(N(mu, s**2) < x)
        return 0.5 * (1 + erf((x - mu) / (s * sqrt(2))))
    return float(np.mean([1 - below(half_range, s) + below(-half_range, s) for s in spread]))


def check_noise(setup):
    """BUG-11: Ornstein-Uhlenbeck noise sized against the action range, over the episode's length.

    Too small (it hardly moves within an episode), too large (most noisy actions fall beyond the
    range and are clipped to a bound: bang-bang exploration), or a theta x dt outside (0, 1], where
    the noise does not settle about mu.
    """
    process = getattr(setup.agent, 'random_process', None)
    if not setup.is_continuous or process is None or not all(hasattr(process, a) for a in ('dt', 'theta')):
        return []
    steps = setup.episode_length()
    low, high, _ = setup.bounds
    reach = actor_reach(setup) if setup.actor is not None else None
    if reach is not None:  # the noise is added to the actor's output, in its units
        low, high = reach[0], reach[1]
    half_range = float(np.min((high - low) / 2)) if np.all(np.isfinite(high - low)) else 1.0
    sigma, theta, dt = process.current_sigma, process.theta, process.dt
    setting = f'sigma={sigma}, theta={theta}, dt={dt}'
    findings = []
    if not 0 < theta * dt <= 1:
        behaviour = ('does not return to mu: a random walk whose spread grows with every step' if theta * dt <= 0 else
                     'overshoots mu at every step and swings from side to side' if theta * dt < 2 else
                     'grows without bound')
        findings.append(Finding(
            WARNING, 'exploration noise', f'theta x dt = {theta * dt:g}: the Ornstein-Uhlenbeck noise {behaviour}.',
            setting, 'theta x dt in (0, 1] (keras-rl\'s examples: theta=0.15, dt=0.01)', bug=11))
    if steps is None:
        moved, over = sigma * np.sqrt(dt), 'one step'
    else:
        moved, over = noise_within_episode(process, steps), f'an episode of {steps} steps'
    if moved < 0.1 * half_range:
        findings.append(Finding(
            WARNING, 'exploration noise', 'the Ornstein-Uhlenbeck noise hardly moves within an episode: each '
            'episode tries one action, nearly unchanged, so the agent explores few different actions.',
            f'{setting}: it moves about {moved:.3f} over {over}, {100 * moved / half_range:.0f}% of the action\'s '
            f'half-range {half_range:g}',
            'at least 10% of the half-range within an episode (a larger sigma or dt, or Gaussian noise)', bug=11))
    if 0 < theta * dt <= 1:
        spread = noise_spread(process, min(steps or 200, 5000))
        clipped = share_beyond(spread, float(np.mean(process.mu)), half_range)
        if clipped > 0.5:
            wanted = 0.5 * half_range / float(np.max(spread) / sigma)  # largest spread half the half-range
            findings.append(Finding(
                WARNING, 'exploration noise', 'the Ornstein-Uhlenbeck noise is large for the action range: most '
                'noisy actions fall beyond a bound and are clipped to it, so the agent explores the two ends of '
                'the range and little between them (bang-bang).',
                f'{setting}: its spread grows from {spread[0]:.3g} to {spread.max():.3g} over {over}; the action\'s '
                f'half-range is {half_range:g}; {100 * clipped:.0f}% of noisy actions clipped, with the actor in '
                'the middle of its range',
                f'sigma about {wanted:.2g} with this theta and dt (a largest spread of half the half-range)',
                bug=11))
    return findings


def _described(observation):
    """An observation's shape and dtype (each key's, for a Dict observation)."""
    if isinstance(observation, dict):
        return '{' + ', '.join(f'{key}: {_described(value)}' for key, value in observation.items()) + '}'
    array = np.asarray(observation)
    return f'shape {array.shape}, dtype {array.dtype}'


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
            findings.append(Finding(
                WARNING, 'observation space', f'the first observation of {label} is not inside its observation '
                'space (shape, dtype or values).', f'observation {_described(observation)}', f'inside {space}',
                bug=10))
            break
    return findings


def check_goal_contract(setup):
    env = _copy(setup.unwrapped, setup.agent)
    if not hasattr(env, 'compute_reward'):
        return []
    probe_reset(env)
    obs, reward, *_, info, _ = probe_step(env, probe_actions(_action_space(env))[1])
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
    _, reward, *_, printed = probe_step(env, probe_actions(_action_space(env))[1])
    findings = []
    if printed:
        findings.append(Finding(WARNING, 'print in step', 'the env prints on every step.',
                                f'printed {printed.strip()[:60]!r}', 'logging, and values in info', bug=14))
    if abs(float(reward)) > 10:
        findings.append(Finding(
            WARNING, 'reward scale', 'one step\'s reward is large: value targets of that size train slowly and '
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


SMALLEST_EXPLORATION = 0.05
"""An epsilon below this takes a random action so rarely that a Q-network's first guesses decide what is tried."""


GREEDY_BY_REWARD = 20
"""A Boltzmann temperature this many times below one step's reward spread makes the policy greedy: two
actions whose Q-values differ by that spread are picked in the ratio e^20 (five hundred million to one)."""


def reward_spread(setup, steps=200):
    """``(lowest, highest)`` reward over ``steps`` random steps of a copy of the env (reset when an episode
    ends), as the agent's Processor hands them to the agent."""
    env = _copy(setup.env, setup.agent)
    processor = _processor_copy(setup.agent)
    probe_reset(env)
    rng = np.random.default_rng(0)
    rewards = []
    for _ in range(steps):
        _, reward, terminated, truncated, _, _ = probe_step(env, random_action(_action_space(env), rng))
        rewards.append(float(processor.process_reward(reward) if processor is not None else reward))
        if terminated or truncated:
            probe_reset(env)
    return min(rewards), max(rewards)


def check_exploration(setup):
    """DQN and SARSA explore only through their policy: an epsilon-greedy one with a tiny epsilon hardly does,
    and a Boltzmann one whose temperature is far below the rewards' spread stops once its Q-values learn them."""
    from rl.policy import BoltzmannQPolicy, EpsGreedyQPolicy, LinearAnnealedPolicy

    policy = getattr(setup.agent, 'policy', None)
    if type(policy) is BoltzmannQPolicy:  # MaxBoltzmannQPolicy and the Gumbel one explore otherwise too
        return _boltzmann_exploration(setup, float(policy.tau))
    if isinstance(policy, LinearAnnealedPolicy):
        if policy.attr != 'eps':
            return []
        eps = max(policy.value_max, policy.value_min)
        shown = f'LinearAnnealedPolicy of eps from {policy.value_max:g} to {policy.value_min:g}'
    elif isinstance(policy, EpsGreedyQPolicy):
        eps, shown = policy.eps, f'EpsGreedyQPolicy(eps={policy.eps:g})'
    else:
        return []
    if eps >= SMALLEST_EXPLORATION:
        return []
    return [Finding(
        WARNING, 'exploration', f'the policy takes a random action once in {1 / eps:,.0f} steps at most: what the agent '
        'tries is almost only what its untrained Q-network happens to rank first, and a reward that is the same for '
        'every action (say -1 at every step) gives it nothing to change that ranking.', shown,
        'epsilon well above 0.05 at first: LinearAnnealedPolicy(EpsGreedyQPolicy(), attr=\'eps\', value_max=1.0, '
        'value_min=0.1, value_test=0.05, nb_steps=a tenth of the run)', see='docs/diagnose.md')]


def _boltzmann_exploration(setup, tau):
    lowest, highest = reward_spread(setup)
    spread = highest - lowest
    if spread <= GREEDY_BY_REWARD * tau:
        return []
    return [Finding(
        WARNING, 'exploration', f'BoltzmannQPolicy picks each action with odds exp(Q / tau): with tau={tau:g}, two '
        f'actions whose Q-values differ by one step\'s reward spread ({spread:.3g}) are picked in the ratio '
        f'e^{spread / tau:.0f}, so once the Q-network has learnt that much the policy is greedy and explores no more.',
        f'tau={tau:g}; rewards from {lowest:.3g} to {highest:.3g} in 200 random steps',
        f'tau of the order of the reward spread (BoltzmannQPolicy(tau={spread / GREEDY_BY_REWARD:.3g}) or more), '
        'or an annealed epsilon: LinearAnnealedPolicy(EpsGreedyQPolicy(), attr=\'eps\', value_max=1.0, value_min=0.1, '
        'value_test=0.05, nb_steps=a tenth of the run)', see='docs/diagnose.md')]


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
            'stored: a DDPGAgent subclass whose select_action clips them', bug=18))
    probe = copy.copy(agent)  # the same agent with a copy of its Processor (a normaliser learns from batches)
    probe.processor = _processor_copy(agent)
    batch = probe.process_state_batch([[np.zeros(1, dtype=np.float32)]])
    if np.asarray(batch).dtype == object:
        findings.append(Finding(
            WARNING, 'object batches', 'every state batch is built as an object array (no Processor converts it): '
            'slow conversion on every training step.', 'process_state_batch dtype=object', 'float32', bug=19))
    return findings


def check_discount(setup):
    """BUG-22: gamma > 0 where the next observation does not depend on the action (a contextual bandit).

    Both actions are tried from one state: the env is reset once and copied after the reset, so a
    random start (or an env's random generator made at its first reset) is the same for both.
    """
    gamma = getattr(setup.agent, 'gamma', 0)
    if not gamma:
        return []
    low, _, high = probe_actions(_action_space(setup.env))
    env = _copy(setup.env, setup.agent)
    probe_reset(env)
    twin = _copy(env, setup.agent)
    after_low = np.asarray(probe_step(env, low / 2 if setup.is_continuous else low)[0])
    after_high = np.asarray(probe_step(twin, high / 2 if setup.is_continuous else high)[0])
    if after_low.shape == after_high.shape and np.array_equal(after_low, after_high):
        learner = _value_network(setup.agent) or 'the agent'
        return [Finding(
            WARNING, 'discount', 'the next observation does not depend on the action (a contextual bandit), yet '
            f'gamma > 0 asks {learner} to bootstrap a discounted sum it does not need.',
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


CHECKS = [check_warmups, check_memory, check_step_counter, check_window_length, check_output_shape, check_step_api,
          check_info_values, check_q_values, check_discrete_start, check_actor_output, check_actor_saturation, check_critic_inputs, check_noise,
          check_policy, check_exploration, check_keras_rl_internals, check_discount, check_action_mapping,
          check_float16, check_episode_end, check_time_limit, check_observation_space, check_goal_contract,
          check_env_step]


def diagnose(agent, env, nb_steps=None, nb_max_episode_steps=None, namespace=None):
    """Run every check on ``agent`` and ``env`` (the env you would pass to ``fit``).

    Returns the findings, errors first. A check that itself fails is reported as a warning
    naming the check, so one odd object never hides the other findings. Nothing is changed: the
    env is probed on copies, the agent's Processor on a copy, and the global random states
    (Python's and numpy's, which keras-rl's noise draws from) are put back as they were.
    """
    setup = Setup(agent, env, nb_steps, nb_max_episode_steps, namespace or {})
    findings, unprobed, crashed = [], [], {}  # crashed: {'Error: message': [checks it stopped]}
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        for check in CHECKS:
            try:
                findings += check(setup)
            except CannotProbe as reason:
                unprobed.append((check.__name__.removeprefix('check_'), str(reason)))
            except Exception as error:  # noqa: BLE001  (a diagnosis must survive what it diagnoses)
                where = _where_it_failed(error)
                crashed.setdefault(f'{type(error).__name__}: {error}'[:300] + where, []).append(
                    check.__name__.removeprefix('check_'))
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    if unprobed:
        reason = unprobed[0][1]
        wanted = ('env.action_space set (a gym.spaces Box or Discrete)' if 'no action_space' in reason else
                  'reset() returning the first observation' if 'reset()' in reason else
                  'an env that copy.deepcopy can copy')
        findings.append(Finding(WARNING, 'env probes', 'the checks that step the env were skipped: '
                                f'{", ".join(name for name, _ in unprobed)}.', reason, wanted))
    for failure, names in crashed.items():  # one finding per failure: an env that fails when probed stops many
        findings.append(Finding(WARNING, ', '.join(names), f'{"this check" if len(names) == 1 else "these checks"} '
                                'could not run on this setup.', failure, 'a setup it can inspect'))
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.bug or 0))


def _where_it_failed(error):
    """' (at file.py:LINE)', the innermost frame of the user's code (not the doctor's, the standard
    library's or an installed package's), or ''."""
    outside = (os.path.dirname(__file__), sysconfig.get_paths()['stdlib'])
    where = ''
    for frame, line in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if not (filename.startswith('<') or filename.startswith(outside) or 'site-packages' in filename):
            where = f' (at {os.path.basename(filename)}:{line})'
    return where
