"""A progress display for long keras-rl runs, through logging (no print in library code)."""
import logging
import time

from rl.callbacks import Callback

log = logging.getLogger("stepsignal.progress")


class ProgressLog(Callback):
    """Log progress about ten times per run: steps done, steps per second, recent successes.

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
        self.done = 0
        self.successes = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_step_end(self, step, logs=None):
        self.done += 1
        info = (logs or {}).get("info", {})
        if "is_success" in info:
            self.successes.append(float(info["is_success"]))
        if self.done % self.every == 0 or self.done == self.nb_steps:
            elapsed = time.perf_counter() - self.start
            recent = self.successes[-self.every:]
            rate = f", successes in the last {len(recent)} steps: {sum(recent):.0f}" if recent else ""
            log.info("%s: step %d/%d (%.0f%%), %.0f steps/s%s", self.label, self.done, self.nb_steps,
                     100 * self.done / self.nb_steps, self.done / max(elapsed, 1e-9), rate)
