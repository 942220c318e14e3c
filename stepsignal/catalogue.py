"""The kit's list of bugs: number, where it lives, and its effect in one line.

docs/bugs.md has the same table (a test keeps the two equal) and a section per bug; the comparison
report links each row there. ``original/`` marks each bug ``# BUG-n``, ``fixed/`` its fix ``# FIX-n``.
"""
from typing import NamedTuple


class Bug(NamedTuple):
    number: int
    where: str
    """Where it lives in the question's setup (Markdown)."""
    effect: str
    """What it does, in one line (Markdown)."""

    @property
    def anchor(self):
        """The section's anchor in docs/bugs.md."""
        return f'bug-{self.number}'


BUGS = [
    Bug(1, 'env `step`', '-1 maps to 0, not to `low`: from [-1, 1] no negative offset, half of each range unreachable'),
    Bug(2, 'env `_set_action`', 'every step filters the previous output again: the same action gives a different signal'),
    Bug(3, 'env `step`', '`done` is never True: the episode never ends by itself, not even on success'),
    Bug(4, 'agent', 'warmups of 2000/10000 against 10 steps: not one gradient step'),
    Bug(5, 'agent', 'memory of 2000 below the actor warmup of 10000: 80% forgotten before the actor learns'),
    Bug(6, 'actor', 'linear, unbounded output for a [-1, 1] action space'),
    Bug(7, 'env `__init__`', 'float16 bounds round onto Nyquist at audio rates: scipy refuses the cutoff'),
    Bug(8, '`butter_lowpass`', 'the (b, a) filter is numerically wrong at low cutoffs (6.1-6.6 instead of 4.0)'),
    Bug(9, 'env `compute_reward`', 'wrong signature and sign: breaks the GoalEnv contract'),
    Bug(10, 'env `_get_obs`', 'float64 observations in float32 spaces'),
    Bug(11, 'agent', 'OU noise with dt=0.01 barely moves within an episode'),
    Bug(12, '`fit`', 'the time limit is stored as a terminal state'),
    Bug(13, 'agent', 'a discrete-action `BoltzmannQPolicy`, created and never used'),
    Bug(14, 'env `_set_action`', '`print` on every step'),
    Bug(15, 'keras-rl2 `fit`', 'int16 step counter wraps at 32767 under numpy 2: fit never ends, learning stops'),
    Bug(16, 'script', 'history saved with pickle'),
    Bug(17, 'networks', 'raw observations (values 3-5, 1200 inputs): large activations from the start'),
    Bug(18, 'keras-rl2', 'noisy actions stored unclipped'),
    Bug(19, 'keras-rl2', 'every state batch built as an object array'),
    Bug(20, 'networks', "the input shape's leading 1 is typed by hand, apart from `window_length`"),
    Bug(21, 'env `compute_reward`', "the reward grows with the signal's length (-92 to -288 per step here)"),
    Bug(22, 'agent', '`gamma=.99` for a task whose answer is one setting: nothing to discount'),
    Bug(23, 'critic', "the action is 2 of the first layer's 1202 inputs: its effect on Q is drowned"),
]
