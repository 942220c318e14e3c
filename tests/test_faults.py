"""A run killed with SIGKILL, at any moment: every file it wrote is whole or absent, and a rerun works.

SIGKILL cannot be caught: nothing of the kit's runs at the kill. What holds is the way files are
written: each into a hidden temporary file beside its place (``.NAME.XXXX.tmp``), renamed onto
its name once whole (``shared.files``). So a reader finds the earlier file, the new one, or none;
a killed run can leave a temporary file, which the next run with ``--overwrite`` removes.

Two kinds of kill, on the own-signal command (it writes every kind of file: JSON, HDF5 weights,
WAV, PNG, Markdown): 20 at random moments of a whole run, and one in the middle of writing each
kind of file (tests/killed_while_writing.py: a run that writes half of it, then kills itself).
"""
import json
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from command_line import run_command, start_command


KILLS = 20
STEPS = 200
"""The random kills' run: long enough that a good share of them falls in training."""
KILLED_WHILE_WRITING = Path(__file__).with_name('killed_while_writing.py')
TEMPORARY = re.compile(r'^\..+\.tmp(\.h5)?$')
"""A file being written: hidden, beside its final name, removed by the next run's --overwrite."""

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
    first = run_command(*command(wav, out, STEPS))
    assert first.returncode == 0, first.stderr[-2000:]
    duration = first.seconds
    first_result = json.loads((out / 'result.json').read_text())
    rng = random.Random(0)
    phases = []
    for moment in sorted(rng.uniform(0.2, 1.05 * duration) for _ in range(KILLS)):
        child = start_command(*command(wav, out, STEPS))
        time.sleep(moment)
        child.send_signal(signal.SIGKILL)
        finished = child.wait(timeout=60)
        stderr = finished.stderr
        phases.append('finished' if finished.returncode == 0 else
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


VICTIMS = ['result.json', 'stepsignal_ddpg_weights_actor.h5', 'processed.wav', 'signals.png']
"""One file of each way of writing (report.md is written as result.json is)."""


def test_sigkill_while_a_file_is_half_written_leaves_it_absent(wav, tmp_path):
    out = tmp_path / 'out'
    for victim in VICTIMS:  # each run into the folder the previous one was killed in: --overwrite cleans up
        killed = subprocess.run([sys.executable, KILLED_WHILE_WRITING, victim, *command(wav, out)[2:]],
                                capture_output=True, text=True, timeout=600)
        assert killed.returncode == -signal.SIGKILL, (victim, killed.stderr[-2000:])
        left = whole_or_absent(out)
        assert not list(out.rglob(victim)), victim  # not there at all, rather than there in part
        assert len(left) == 1 and left[0].startswith(f'.{victim}.'), (victim, left)  # the half: in its temporary file
    rerun = run_command(*command(wav, out))
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert whole_or_absent(out) == [] and all(list(out.rglob(victim)) for victim in VICTIMS)
