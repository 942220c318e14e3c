"""A saved policy answering a signal: ``python -m stepsignal process --policy DIR --input IN --out OUT``.

``fixed.policy`` writes the policy (``actor.h5`` and ``policy.json``, its format documented there);
this module reads it back, checks every field it reads, and answers without TensorFlow. It reads
the input and the target, checks that the policy serves them (the same sample rate and number of
samples: a policy reads its signals as a fixed number of block means, so another length or rate
would be another input), builds the env with the policy's ranges, asks the actor once (in numpy:
one env step, no noise, no training) and returns what a training run reports for the signal. Any
number of channels is served: like training, the policy reads their mean and its answer is applied
to each.
"""
import json
import logging
from pathlib import Path

import numpy as np

from fixed.observations import scale_observation
from fixed.policy import ABOUT_FILE, ACTOR_FILE, FORMAT, KEYS
from shared.checks import BadInput

log = logging.getLogger(__name__)


def load_about(folder):
    """``policy.json`` of ``folder``, checked with ``actor.h5`` beside it (``load_policy``)."""
    return load_policy(folder)[0]


def load_policy(folder):
    """``(policy.json's record, the actor's weights)`` of ``folder``, checked field by field against
    what this module reads: a ``BadInput`` names the file, the field, its value and what is allowed."""
    folder = Path(folder)
    path = folder / ABOUT_FILE
    if not path.is_file() or not (folder / ACTOR_FILE).is_file():
        raise BadInput(f'--policy {str(folder)!r} holds no policy: it needs {ABOUT_FILE} and {ACTOR_FILE}, as every '
                       f'training run writes into OUT/policy/')
    try:
        about = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInput(f'--policy {str(folder)!r}: {ABOUT_FILE} cannot be read: {error}') from None
    if not isinstance(about, dict):
        raise BadInput(f'--policy {str(folder)!r}: {ABOUT_FILE} holds a JSON {type(about).__name__}, not the record '
                       f'of a policy this kit wrote')
    if about.get('format') != FORMAT:
        raise BadInput(f'--policy {str(folder)!r} is in format {about.get("format")!r}; this kit reads {FORMAT!r}')
    check_about(about, folder)
    weights = actor_weights_or_refuse(folder)
    check_actor(weights, about, folder)
    return about, weights


def check_about(about, folder):
    """Every field of ``policy.json`` the answer reads, of the right type and range."""
    def field(*keys, allowed, test):
        value = about
        for key in keys:
            value = value.get(key, MISSING) if isinstance(value, dict) else MISSING
        if value is MISSING or not test(value):
            shown = 'missing' if value is MISSING else f'{value!r}'[:80]
            raise BadInput(f'--policy {str(folder)!r}: {ABOUT_FILE} has {".".join(keys)} {shown}; it must be '
                           f'{allowed} (a file this kit wrote, not edited)')
        return value

    rate = field('signal', 'sample_rate', allowed='a number of samples per second above 0', test=positive)
    field('signal', 'samples', allowed='null or a whole number above 0', test=lambda v: v is None or whole(v))
    field('observation', 'keys', allowed=f'{KEYS}', test=lambda v: v == KEYS)
    field('observation', 'values_per_key', allowed='a whole number above 0', test=whole)
    field('observation', 'window_length', allowed='a whole number above 0', test=whole)
    field('observation', 'center', allowed='a finite number', test=finite)
    field('observation', 'scale', allowed='a finite number above 0', test=positive)
    field('actions', 'cutoff_hz', allowed=f'[low, high] with 0 < low < high < {rate / 2:g} Hz (the Nyquist '
          f'frequency of its {rate:g} Hz)', test=lambda v: ordered(v) and 0 < v[0] and v[1] < rate / 2)
    field('actions', 'offset', allowed='[low, high] with low < high', test=ordered)
    if 'chain' in about['actions']:
        field('actions', 'chain', 'stages', allowed='a list of stage names',
              test=lambda v: isinstance(v, list) and len(v) >= 2 and all(isinstance(name, str) for name in v))
    field('trained_on', allowed='a record of the training', test=lambda v: isinstance(v, dict))
    if 'family' in about:  # a policy trained on many clips: the view it reads them with, their span
        field('family', 'view', allowed='the name of a view', test=lambda v: isinstance(v, str))
        field('family', 'features', allowed='{name: [lowest, highest]}', test=lambda v: isinstance(v, dict) and all(
            isinstance(pair, list) and len(pair) == 2 and all(map(finite, pair)) and pair[0] <= pair[1]
            for pair in v.values()))


MISSING = object()


def finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def positive(value):
    return finite(value) and value > 0


def whole(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def ordered(value):
    return isinstance(value, list) and len(value) == 2 and all(map(finite, value)) and value[0] < value[1]


def actor_weights_or_refuse(folder):
    """``actor_weights`` of the policy in ``folder``; a ``BadInput`` naming the file if it cannot be read."""
    path = Path(folder) / ACTOR_FILE
    try:
        return actor_weights(path)
    except Exception as error:  # h5py's and HDF5's many ways to say a file is not what it should be
        log.debug('h5py could not read %s: %r', path, error)
        raise BadInput(f'--policy {str(folder)!r}: {ACTOR_FILE} ({path.stat().st_size:,} bytes) cannot be read as '
                       f'the actor\'s weights: it is cut short or damaged, or not a file this kit wrote; train again, '
                       f'or copy the policy folder whole') from None


def check_actor(weights, about, folder):
    """The actor's layers fit ``policy.json``: they read its observation and answer one value per knob."""
    seen, actions = about['observation'], about['actions']
    inputs = seen['window_length'] * len(KEYS) * seen['values_per_key']
    outputs = len(actions['chain']['stages']) if 'chain' in actions else 2
    shapes = [np.shape(array) for array in weights]
    fits = len(weights) >= 2 and len(weights) % 2 == 0 and all(
        len(kernel) == 2 and bias == kernel[1:] for kernel, bias in zip(shapes[0::2], shapes[1::2]))
    fits = fits and shapes[0][0] == inputs and shapes[-1] == (outputs,) and all(
        after[0] == before[1] for before, after in zip(shapes[0::2], shapes[2::2]))
    if not fits:
        raise BadInput(f'--policy {str(folder)!r}: the layers in {ACTOR_FILE} ({", ".join(map(str, shapes[0::2]))}) '
                       f'do not fit {ABOUT_FILE}, which says the actor reads {inputs} values and sets {outputs} knobs; '
                       f'the two files come from different runs: copy the policy folder whole')
    if not all(np.isfinite(array).all() for array in weights):
        raise BadInput(f'--policy {str(folder)!r}: {ACTOR_FILE} holds weights that are not finite numbers')


def check_serves(about, folder, sample_rate, samples):
    """Refuse signals the policy was not trained for, naming both. A policy trained on a family of
    clips (``samples`` null in its record) serves any length at its rate."""
    wanted = about['signal']
    if wanted['samples'] is None:
        if float(sample_rate) != wanted['sample_rate']:
            raise BadInput(f'--policy {str(folder)!r} serves signals at {wanted["sample_rate"]:g} Hz; the input '
                             f'is at {sample_rate:g} Hz. Resample it (sox IN -r {wanted["sample_rate"]:g} OUT), or '
                             f'train a policy on clips at its rate (python -m stepsignal clips ...)')
        return
    if float(sample_rate) != wanted['sample_rate'] or int(samples) != wanted['samples']:
        raise BadInput(f'--policy {str(folder)!r} serves signals of {wanted["samples"]} samples at '
                         f'{wanted["sample_rate"]:g} Hz; the input has {samples} samples at {sample_rate:g} Hz. '
                         f'Train a policy on signals like this one (python -m stepsignal process --input ...), '
                         f'or on a folder of them (python -m stepsignal clips, docs/your_signal.md)')


def actor_weights(path):
    """The actor's weight arrays from its HDF5 file, in layer order, read with h5py alone.

    Keras' HDF5 layout: the root's ``layer_names`` lists the layers in order, each layer's
    ``weight_names`` its arrays (a Dense layer's kernel, then its bias).
    """
    import h5py

    def text(name):
        return name.decode() if isinstance(name, bytes) else str(name)

    with h5py.File(path, 'r') as stored:
        return [np.asarray(stored[text(layer)][text(name)]) for layer in stored.attrs['layer_names']
                for name in stored[text(layer)].attrs['weight_names']]


def actor_answer(weights, state):
    """``fixed.agent.build_actor``'s forward pass in numpy: its layers, in float32, without TensorFlow.

    Flatten, then Dense layers (``weights`` holds each one's kernel and bias), relu between them
    and tanh after the last. Float32 as TensorFlow computes it; the sums may run in another order,
    so the answer can differ from TensorFlow's in the last bits (about 1e-7).
    """
    values = np.asarray(state, dtype=np.float32).reshape(len(state), -1)
    pairs = list(zip(weights[0::2], weights[1::2]))
    for i, (kernel, bias) in enumerate(pairs):
        values = values @ kernel + bias
        values = np.tanh(values) if i == len(pairs) - 1 else np.maximum(values, 0.0)
    return values


def apply_policy(folder, make_env):
    """Answer with the saved policy in ``folder``, in one step of the env ``make_env(cutoff_range=...,
    max_offset=..., observed_samples=...)`` builds with the policy's ranges and view; return the result.

    No TensorFlow: the actor's weights are read from ``actor.h5`` and its forward pass is
    ``actor_answer``, so an answer costs the env's step, not TensorFlow's import.
    """
    about, weights = load_policy(folder)
    actions, seen = about['actions'], about['observation']
    env = make_env(cutoff_range=tuple(actions['cutoff_hz']), max_offset=actions['offset'][1],
                   observed_samples=seen['values_per_key'],  # as many values as the actor was trained to read
                   **({'chain': tuple(actions['chain']['stages'])} if 'chain' in actions else {}))
    observation = env.reset()
    state = np.zeros((1, seen['window_length']) + env.observation_space.shape, dtype=np.float32)
    state[0, -1] = scale_observation(observation, seen['center'], seen['scale'])  # the training run's (FIX-17)
    action = np.clip(actor_answer(weights, state)[0], -1.0, 1.0)
    _, _, _, info = env.step(action)
    log.info('policy %s: cutoff %.4g Hz, offset %.4f, L2 %.3f', folder, info['cutoff_hz'], info['offset'],
             info['l2_distance'])
    return {
        'variant': 'fixed',
        'policy': str(folder),
        'policy_trained_on': about['trained_on'],
        'action': [float(a) for a in action],
        'cutoff_hz': info['cutoff_hz'], 'offset': info['offset'], 'l2_distance': info['l2_distance'],
        'success': bool(info['is_success']), 'success_threshold': env.unwrapped.distance_threshold,
        'steps': 0, 'steps_trained': 0, 'interrupted': False, 'seed': None,
    }
