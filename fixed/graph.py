"""Graph-mode callables without Keras' per-call overhead, for the fixed agent's update (FIX-19).

keras-rl2 turns eager execution off, so every network call is a ``Session.run``. This module
holds the one piece of plumbing that makes those calls cheap; nothing in it changes what is
computed.
"""
from shared import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import config_pb2


def graph_function(inputs, outputs, updates=()):
    """``K.function(inputs, outputs, updates=updates)`` without its per-call overhead.

    keras-rl2 runs in graph mode. Each ``K.function`` call re-checks the session and repacks its
    arguments, and ``Session.run`` (also behind ``Session.make_callable`` when it has feeds)
    rebuilds its feed and fetch lists: about 0.5 ms per call, more than a small network's
    forward pass. A callable made from ``CallableOptions`` (the same one Keras' own graph
    functions use) is set up once and then only hands the arrays to TensorFlow.
    """
    session = tf.compat.v1.keras.backend.get_session()  # also initialises the variables created so far (optimizer slots)
    options = config_pb2.CallableOptions()
    options.feed.extend(tensor.name for tensor in inputs)
    options.fetch.extend(tensor.name for tensor in outputs)
    if updates:
        # keras-rl's soft target updates are (variable, new value) pairs, which K.function turns
        # into assignments; tf.group alone would only read them, and the targets would never move.
        ops = [tf.compat.v1.assign(*update) if isinstance(update, tuple) else update for update in updates]
        options.target.append(tf.group(*ops).name)
    run = session._make_callable_from_options(options)
    dtypes = [tensor.dtype.as_numpy_dtype for tensor in inputs]
    return lambda values: run(*[np.asarray(value, dtype=dtype) for value, dtype in zip(values, dtypes)])
