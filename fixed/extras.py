"""What a training run can do beyond the question's script, none of it a fix (the fixes are in the
files that mirror original/): TensorBoard event files (IMPROVEMENT-4), hindsight experience replay
(IMPROVEMENT-5), and the fast update (speed only). ``fixed.train.train`` takes them as one ``Extras``.
"""
import dataclasses
from typing import Any, Optional


@dataclasses.dataclass(frozen=True)
class Extras:
    """The extras of one run; the default is none of them but the fast update."""

    tensorboard: Optional[str] = None
    """IMPROVEMENT-4: a folder for TensorBoard event files, into ``<tensorboard>/<name of the run's folder>``."""
    hindsight: Optional[Any] = None
    """IMPROVEMENT-5: a ``fixed.hindsight.Hindsight`` that relabels goals in the replay memory (None: none)."""
    fast_update: bool = True
    """keras-rl2's DDPG update in one graph call on a float32 memory (fixed/fast_ddpg.py); False: keras-rl2's own."""

    def __post_init__(self):
        if self.hindsight is not None and not self.fast_update:
            raise ValueError('hindsight replay (IMPROVEMENT-5) builds on the fast update\'s memory: '
                             'it needs fast_update=True')

    def callbacks(self, keep_best, out_dir):
        """The keras-rl callbacks they need, after ``keep_best`` (whose checks TensorBoard draws)."""
        if self.tensorboard is None:
            return []
        from .tensorboard_log import TensorBoardLog, run_folder  # late: it loads TensorFlow

        return [TensorBoardLog(run_folder(self.tensorboard, out_dir), keep_best)]

    def record(self):
        """What ``result.json`` says of them: hindsight's settings, only when on (a run without it
        writes what it always wrote)."""
        return {} if self.hindsight is None else {'her': self.hindsight.record()}
