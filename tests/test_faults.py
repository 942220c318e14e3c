"""A run killed with SIGKILL, at any moment: every file it wrote is whole or absent, and a rerun works.

SIGKILL cannot be caught: nothing of the kit's runs at the kill. What holds is the way files are
written: each into a hidden temporary file beside its place (``.NAME.XXXX.tmp``), renamed onto
its name once whole (``shared.files``). So a reader finds the earlier file, the new one, or none;
a killed run can leave a temporary file, which the next run with ``--overwrite`` removes.

Two kinds of kill, on the own-signal command (it writes every kind of file: JSON, HDF5 weights,
WAV, PNG, Markdown): 20 at random moments of a whole run, and one in the middle of writing each
kind of file (a child that writes half of it, then kills itself).
"""
import json
import random
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from scipy.io import wavfile

from command_line import run_command


KILLS = 20
STEPS = 600
"""The random kills' run: long enough that a good share of them falls in training."""
TEMPORARY = re.compile(r'^\..+\.tmp(\.h5)?$')
"""A file being written: hidden, beside its final name, removed by the next run's --overwrite."""

HALF_WRITTEN = r'''
import io, os, signal, sys
import shared.files as files

victim = sys.argv.pop(1)  # the name of the file whose writing is cut in half
write_atomic, write_weights = files.write_atomic, files.write_weights


def half_then_die(handle, data):
    handle.write(data[:len(data) // 2])
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def write_atomic_killed(path, write):
    if os.path.basename(str(path)) != victim:
        return write_atomic(path, write)
    buffer = io.BytesIO()
    write(buffer)
    return write_atomic(path, lambda handle: half_then_die(handle, buffer.getvalue()))


class KilledWhileSaving:
    def __init__(self, model):
        self.model = model

    def save_weights(self, path, **kwargs):
        self.model.save_weights(path, **kwargs)
        with open(path, 'rb') as whole:
            data = whole.read()
        with open(path, 'wb') as handle:
            half_then_die(handle, data)


def write_weights_killed(model, path):
    return write_weights(KilledWhileSaving(model) if os.path.basename(str(path)) == victim else model, path)


files.write_atomic, files.write_weights = write_atomic_killed, write_weights_killed  # before anything imports them
from stepsignal.own_signal.process import main

sys.exit(main(sys.argv[1:]))
'''


@pytest.fixture(scope='module')
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp('faults') / 'input.wav'
    t = np.arange(8000) / 8000
    tone = (0.3 * np.sin(2 * np.pi * 3 * t) + 0.2) * 32767
    wavfile.write(path, 8000, np.column_stack([tone, tone]).astype(np.int16))
    return path


def command(wav, out, steps=100):
    return ['stepsignal', 'process', '--input', str(wav), '--target-level', '0', '--steps', str(steps), '--out', str(out), '--overwrite']


def whole_or_absent(out):
    """Check every file in ``out`` opens as what its name says; return the temporary files left."""
    import h5py

    from stepsignal.own_signal.signal_files import read_signal

    left = []
    for path in sorted(p for p in out.rglob('*') if p.is_file()):
        if TEMPORARY.match(path.name):
            left.append(path.name)
        elif path.suffix == '.json':
            json.loads(path.read_text())
        elif path.suffix == '.h5':
            with h5py.File(path, 'r') as weights:
                assert len(weights.keys()) > 0, path
        elif path.suffix == '.png':
            data = path.read_bytes()
            assert data.startswith(b'\x89PNG') and data.endswith(b'IEND\xaeB`\x82'), path
        elif path.suffix == '.wav':
            read_signal(path)
        elif path.suffix == '.md':
            assert path.read_text().endswith('\n'), path
        else:
            raise AssertionError(f'a file the kit does not write: {path}')
    return left


def test_sigkill_at_random_moments_leaves_every_file_whole_or_absent(wav, tmp_path):
    out = tmp_path / 'out'
    started = time.perf_counter()
    first = run_command(*command(wav, out, STEPS))
    assert first.returncode == 0, first.stderr[-2000:]
    duration = time.perf_counter() - started
    first_result = json.loads((out / 'result.json').read_text())
    rng = random.Random(0)
    phases = []
    for moment in sorted(rng.uniform(0.2, 1.05 * duration) for _ in range(KILLS)):
        child = subprocess.Popen([sys.executable, '-m', *command(wav, out, STEPS)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
        time.sleep(moment)
        child.send_signal(signal.SIGKILL)
        _, stderr = child.communicate(timeout=60)
        phases.append('finished' if child.returncode == 0 else
                      'writing' if 'kept the best' in stderr else
                      'training' if 'training step' in stderr else 'starting')
        whole_or_absent(out)
    # Where the kills fell (for the log of this test; the moments are random, the check is not).
    print({phase: phases.count(phase) for phase in sorted(set(phases))})
    rerun = run_command(*command(wav, out, STEPS))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert whole_or_absent(out) == []  # --overwrite took any temporary file a kill left
    timing = {'train_seconds': 0, 'steps_per_second': 0}
    assert json.loads((out / 'result.json').read_text()) | timing == first_result | timing  # the same run again


@pytest.mark.parametrize('victim', ['result.json', 'stepsignal_ddpg_weights_actor.h5', 'processed.wav',
                                    'signals.png'])  # one of each way of writing (report.md as result.json)
def test_sigkill_while_a_file_is_half_written_leaves_it_absent(wav, tmp_path, victim):
    out = tmp_path / 'out'
    killed = subprocess.run([sys.executable, '-c', HALF_WRITTEN, victim, *command(wav, out)[2:]], capture_output=True,
                            text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    left = whole_or_absent(out)
    assert not list(out.rglob(victim))  # not there at all, rather than there in part
    assert len(left) == 1 and left[0].startswith(f'.{victim}.')  # the half is in its temporary file
    rerun = run_command(*command(wav, out))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert whole_or_absent(out) == [] and list(out.rglob(victim))
