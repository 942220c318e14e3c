"""A progress display for long keras-rl runs, through logging (no print in library code)."""
import logging
import time

from shared import keras_rl  # noqa: F401  (keras-rl2 loads only after it)
from rl.callbacks import Callback

log = logging.getLogger("fixed.progress")


class ProgressLog(Callback):
    """Log progress about ten times per run: steps done, steps per second, recent successes.

    The step count shown is keras-rl's own counter (``agent.step``), read at the start of the
    next step, once keras-rl has counted the last one. A line that says "step 3000" therefore
    means that a Ctrl-C from then on keeps at least 3,000 steps (``fit`` counts a step only
    after its callbacks have run, so counting in ``on_step_end`` would be one step ahead).

    Args:
        nb_steps: the run's total number of environment steps.
        label: what the run is, shown at the start of every line.
        updates: how many progress lines to log over the run.
    """

    def __init__(self, nb_steps, label="training", updates=10):
        super().__init__()
        self.nb_steps = nb_steps
        self.label = label
        self.every = max(1, nb_steps // updates)
        self.successes = []
        self.last_logged = 0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_step_end(self, step, logs=None):
        info = (logs or {}).get("info", {})
        if "is_success" in info:
            self.successes.append(float(info["is_success"]))

    def on_step_begin(self, step, logs=None):
        done = int(self.model.step)
        if done and done % self.every == 0 and done != self.last_logged:
            self._log(done)

    def on_train_end(self, logs=None):
        done = int(self.model.step)
        if done != self.last_logged:
            self._log(done)

    def _log(self, done):
        self.last_logged = done
        elapsed = time.perf_counter() - self.start
        recent = self.successes[-self.every:]
        rate = f", successes in the last {len(recent)} steps: {sum(recent):.0f}" if recent else ""
        speed = done / max(elapsed, 1e-9)
        log.info("%s: training step %d/%d (%.0f%%), %.0f steps/s, %s elapsed, about %s left%s", self.label, done,
                 self.nb_steps, 100 * done / self.nb_steps, speed, duration(elapsed),
                 duration((self.nb_steps - done) / max(speed, 1e-9)), rate)


def duration(seconds):
    """``42 s``, ``3 min 05 s``: a span of time as a person reads it."""
    seconds = int(round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"
