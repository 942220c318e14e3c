"""Numbers several parts of the kit must agree on, importable without loading TensorFlow."""
import numpy as np

MAX_KERAS_RL_STEPS = int(np.iinfo(np.int16).max)
"""keras-rl2 counts steps in np.int16: 32767 is the last step it can count (BUG-15, FIX-15)."""
