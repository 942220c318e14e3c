"""TensorBoard event files of a training run (``--tensorboard DIR``), from a keras-rl callback.

Keras's own ``TensorBoard`` callback never runs under keras-rl, whose ``fit`` is a loop of its own:
``TensorBoardLog`` is a keras-rl callback instead, writing with TensorBoard's own event writer (no
TensorFlow session needed in keras-rl2's graph mode). What it writes, and how to open it:
docs/ecosystem.md; ``read_scalars`` reads it back in Python.
"""
import logging
import time
from pathlib import Path

import numpy as np
from shared import keras_rl  # noqa: F401  (keras-rl2 loads only after it)
from shared.checks import BadInput
from rl.callbacks import Callback
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

log = logging.getLogger(__name__)

EVERY = 10
"""Training steps between two samples of the per-step scalars."""
FLUSH_SECONDS = 5
"""How often the event file is flushed, so that TensorBoard shows a run while it trains."""


def run_folder(tensorboard_dir, out_dir):
    """A new folder for a run's event files, named after its ``--out`` folder: ``NAME``, or ``NAME-2``,
    ``NAME-3``... if that one holds anything (an earlier run's events, or anyone's files: never
    touched, and TensorBoard draws each run as its own curve)."""
    name = Path(out_dir).resolve().name
    for number in range(1, 10_000):
        folder = Path(tensorboard_dir) / (name if number == 1 else f'{name}-{number}')
        if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
            return folder
    raise BadInput(f'--tensorboard {str(tensorboard_dir)!r} holds 9,999 folders named after --out '
                   f'{name!r}; choose another --tensorboard folder')


class TensorBoardLog(Callback):
    """Write a keras-rl training run's scalars as TensorBoard event files in ``folder``.

    Args:
        folder: the run's folder, new or empty (``run_folder``), so that TensorBoard never draws
            two runs as one.
        keep_best: the run's ``fixed.keep_best.KeepBestPolicy``, whose checks give the noise-free
            curve (None: no ``check/`` scalars). Put this callback after it in ``fit``'s list.
        every: training steps between two samples of the per-step scalars.
    """

    def __init__(self, folder, keep_best=None, every=EVERY):
        super().__init__()
        self.folder = Path(folder)
        self.keep_best = keep_best
        self.every = every
        self.writer = None
        self.checks_written = 0
        self.last_info = {}

    def on_train_begin(self, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        self.writer = EventFileWriter(str(self.folder), flush_secs=FLUSH_SECONDS)
        log.info('TensorBoard: event files in %s (tensorboard --logdir %s)', self.folder, self.folder.parent)

    def on_step_end(self, step, logs=None):
        logs = logs or {}
        trained = int(self.model.step) + 1  # keras-rl counts this step after its callbacks
        self.last_info = logs.get('info', {})
        if trained % self.every == 0:
            self._scalar('action/cutoff_hz', self.last_info.get('cutoff_hz'), trained)
            self._scalar('action/offset', self.last_info.get('offset'), trained)
            metrics = dict(zip(self.model.metrics_names, logs.get('metrics', [])))
            self._scalar('train/critic_loss', metrics.get('loss'), trained)
            self._scalar('train/mean_q', metrics.get('mean_q'), trained)
            self._scalar('train/noise_sigma', getattr(self.model.random_process, 'current_sigma', None), trained)
        self._write_new_checks()

    def on_episode_end(self, episode, logs=None):
        logs = logs or {}
        trained = int(logs.get('nb_steps', self.model.step))
        self._scalar('episode/reward', logs.get('episode_reward'), trained)
        self._scalar('episode/l2_distance', self.last_info.get('l2_distance'), trained)
        self._scalar('episode/success', self.last_info.get('is_success'), trained)

    def on_train_end(self, logs=None):
        self._write_new_checks()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _write_new_checks(self):
        checks = self.keep_best.checks if self.keep_best is not None else []
        for check in checks[self.checks_written:]:
            self._scalar('check/l2_distance', check['l2_distance'], check['training_step'])
            self._scalar('check/success', float(check['success']), check['training_step'])
        self.checks_written = len(checks)

    def _scalar(self, tag, value, step):
        if value is None or not np.isfinite(float(value)):  # NaN: no update ran yet
            return
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self.writer.add_event(Event(wall_time=time.time(), step=int(step), summary=summary))


def read_scalars(folder):
    """``{tag: [(step, value), ...]}`` from the event files in ``folder``, read by TensorBoard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={'scalars': 0})  # 0: keep every value
    accumulator.Reload()
    return {tag: [(event.step, event.value) for event in accumulator.Scalars(tag)]
            for tag in accumulator.Tags()['scalars']}
