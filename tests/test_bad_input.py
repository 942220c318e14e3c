"""Bad input of every kind, refused in one line before ``--out`` is made; the kit's own failures
said as such. docs/faults.md names each case beside its test.

Every refusal here comes before TensorFlow is imported, so the commands run in this process
(``refused_here``); the last tests run commands as a user does.
"""
import errno
import json
import os
import shutil
import wave

import numpy as np
import pytest

from command_line import refused_here, run_command
from shared.checks import BadInput
from shared.cli import checking_input, command_parser, run_reporting_failures
from shared.files import write_atomic

LONG_NAME = 'x' * 300
"""Longer than any file system here allows for one name (255 bytes)."""


@pytest.fixture
def signals(tmp_path):
    """A good 8 kHz WAV and broken copies of it, special files in its place, and CSVs as programs write them."""
    rate = 8000
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate) * 32767).astype('<i2')
    with wave.open(str(tmp_path / 'good.wav'), 'wb') as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes(samples.tobytes())
    whole = (tmp_path / 'good.wav').read_bytes()
    (tmp_path / 'cut-in-header.wav').write_bytes(whole[:20])
    (tmp_path / 'no-data-chunk.wav').write_bytes(whole[:40])
    os.symlink('/dev/zero', tmp_path / 'zero.wav')
    os.symlink('/dev/urandom', tmp_path / 'random.npy')
    os.mkfifo(tmp_path / 'pipe.csv')
    values = np.r_[np.zeros(250), np.ones(250)] + 0.3
    (tmp_path / 'bom.csv').write_text('\ufeff' + '\n'.join(f'{v:g}' for v in values) + '\n', encoding='utf-8')
    (tmp_path / 'quoted.csv').write_text('"value"\n' + '\n'.join(f'"{v:g}"' for v in values) + '\n')
    (tmp_path / 'blank-lines.csv').write_text('\n\n'.join(f'{v:g}' for v in values) + '\n\n')
    return tmp_path


def process(*arguments):
    return ['stepsignal', 'process', *arguments]


INPUT_FILES = {  # file -> what the one line must say
    'cut-in-header.wav': ['cut short or damaged', 'no complete format (fmt) chunk', '20 bytes'],
    'no-data-chunk.wav': ['cut short or damaged', 'no data chunk', '40 bytes'],
    'zero.wav': ['not a regular file but a character device'],
    'random.npy': ['not a regular file but a character device'],
    'pipe.csv': ['not a regular file but a named pipe'],
}


@pytest.mark.parametrize('name', INPUT_FILES)
def test_a_broken_or_special_input_file_is_refused_by_what_it_is(name, signals, capsys):
    out = signals / 'out'
    status, stderr = refused_here(process('--input', signals / name, '--sample-rate', 8000, '--target-level', 0,
                                          '--out', out), capsys)
    line = stderr.strip().splitlines()[-1]
    assert status == 2 and 'Traceback' not in stderr and name in line, stderr[-2000:]
    assert all(said in line for said in INPUT_FILES[name]), line
    assert 'unpack' not in line and 'struct' not in line  # nothing of the reader's insides
    assert not out.exists()


def test_a_file_too_large_for_this_machine_is_refused_by_its_size_before_it_is_read(signals, capsys, monkeypatch):
    import stepsignal.own_signal.signal_files as signal_files

    monkeypatch.setattr(signal_files, 'largest_file', lambda: 1000)  # good.wav holds 16,044 bytes
    status, stderr = refused_here(process('--input', signals / 'good.wav', '--target-level', 0, '--out',
                                          signals / 'out'), capsys)
    line = stderr.strip().splitlines()[-1]
    assert status == 2 and 'good.wav' in line and 'holds 0.00 GiB' in line and 'a quarter of this machine' in line
    assert not (signals / 'out').exists()


@pytest.mark.parametrize('name', ['bom.csv', 'quoted.csv', 'blank-lines.csv'])
def test_every_sample_of_a_csv_is_read_whatever_program_wrote_it(name, signals):
    from stepsignal.own_signal.signal_files import read_signal

    read = read_signal(signals / name, sample_rate=30)
    assert read.samples.shape == (500, 1)
    assert read.samples[0, 0] == pytest.approx(0.3) and read.samples[-1, 0] == pytest.approx(1.3)
    assert read.csv_header == ('"value"' if name == 'quoted.csv' else None)


@pytest.mark.parametrize('option', ['--out', '--input', '--tensorboard'])
def test_a_name_longer_than_the_file_system_allows_is_refused(option, signals, capsys, monkeypatch):
    monkeypatch.chdir(signals)
    arguments = {'--out': ['--input', 'good.wav'], '--input': ['--input', LONG_NAME + '.wav'],
                 '--tensorboard': ['--input', 'good.wav', '--tensorboard', LONG_NAME]}[option]
    out = LONG_NAME if option == '--out' else 'out'
    status, stderr = refused_here(process(*arguments, '--target-level', 0, '--out', out), capsys)
    line = stderr.strip().splitlines()[-1]
    assert status == 2 and 'Traceback' not in stderr, stderr[-2000:]
    assert 'File name too long' in line, line
    assert sorted(os.listdir(signals)) == sorted(['good.wav', *INPUT_FILES, 'bom.csv', 'quoted.csv',
                                                  'blank-lines.csv'])


def broken_policies(policy, folder):
    """Copies of a real saved policy, each broken one way: ``{name: (its folder, what the line must say)}``."""
    about = json.loads((policy / 'policy.json').read_text())
    actor = (policy / 'actor.h5').read_bytes()

    def edited(change):
        copy = json.loads(json.dumps(about))
        change(copy)
        return copy

    cases = {
        'a list': ([about], 'holds a JSON list'),
        'no signal': (edited(lambda a: a.pop('signal')), 'signal.sample_rate missing'),
        'no actions': (edited(lambda a: a.pop('actions')), 'actions.cutoff_hz missing'),
        'a rate in words': (edited(lambda a: a['signal'].update(sample_rate='30')), "signal.sample_rate '30'"),
        'absurd cutoffs': (edited(lambda a: a['actions'].update(cutoff_hz=[0.001, 1e9])), 'the Nyquist frequency'),
        'a cutoff in words': (edited(lambda a: a['actions'].update(cutoff_hz=['a', 3])), "actions.cutoff_hz ['a', 3]"),
        'values_per_key of another run': (edited(lambda a: a['observation'].update(values_per_key=200)),
                                          'do not fit policy.json'),
        'a truncated actor.h5': (about, 'cut short or damaged'),
    }
    made = {}
    for name, (record, message) in cases.items():
        target = folder / name.replace(' ', '-')
        target.mkdir()
        (target / 'policy.json').write_text(json.dumps(record))
        (target / 'actor.h5').write_bytes(actor[:5000] if name == 'a truncated actor.h5' else actor)
        made[name] = (target, message)
    return made


@pytest.fixture(scope='module')
def saved_policy(tmp_path_factory):
    """The policy a short run of ``python -m fixed`` saves."""
    out = tmp_path_factory.mktemp('run') / 'out'
    finished = run_command('fixed', '--steps', 100, '--out', out)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return out / 'policy'


def test_a_broken_saved_policy_is_refused_before_out_is_made(saved_policy, tmp_path, capsys):
    np.save(tmp_path / 'signal.npy', np.r_[np.full(300, 4.0), np.full(300, 5.0)])
    for name, (policy, message) in broken_policies(saved_policy, tmp_path).items():
        out = tmp_path / f'out-{policy.name}'
        status, stderr = refused_here(process('--policy', policy, '--input', tmp_path / 'signal.npy', '--sample-rate',
                                              30, '--target-level', 3, '--out', out), capsys)
        line = stderr.strip().splitlines()[-1]
        assert status == 2 and 'Traceback' not in stderr, (name, stderr[-2000:])
        assert str(policy) in line and message in line, (name, line)
        assert 'Unable to' not in line and 'h5py' not in line  # nothing of HDF5's insides
        assert not out.exists(), name


@pytest.mark.parametrize('seeds, message', [('0-4294967296', 'seed is 4294967296'),
                                            ('0-4294967295', '4,294,967,296 seeds, and at most 1,000'),
                                            ('5-2', 'the range 5-2 runs backwards')])
def test_a_seed_list_is_checked_by_its_bounds_before_any_list_is_made(seeds, message, tmp_path, capsys):
    status, stderr = refused_here(['stepsignal', 'evaluate', '--seeds', seeds, '--out', tmp_path / 'out'], capsys)
    assert status == 2 and message in stderr and 'MemoryError' not in stderr, stderr[-2000:]
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('steps', ['0', '-3', '40000'])
def test_a_step_budget_out_of_range_names_both_ends(steps, tmp_path, capsys):
    status, stderr = refused_here(['fixed', '--steps', steps, '--out', tmp_path / 'out'], capsys)
    assert status == 2 and f'steps is {steps}' in stderr and '100' in stderr and '32767' in stderr, stderr[-2000:]
    assert 'from 1 to' not in stderr


def test_a_marker_that_cannot_be_read_is_not_called_an_earlier_version(tmp_path, capsys):
    out = tmp_path / 'out'
    out.mkdir()
    (out / '.stepsignal-run.json').write_text('{not json')
    (out / 'result.json').write_text('{}')
    status, stderr = refused_here(['fixed', '--steps', 100, '--out', out, '--overwrite'], capsys)
    assert status == 2 and 'cannot be read' in stderr and 'earlier version' not in stderr, stderr[-2000:]
    assert (out / 'result.json').is_file()


def test_an_error_from_inside_the_kit_is_a_defect_not_bad_input(capsys):
    """A library's ValueError during the checks is the kit's defect: exit 1, the traceback in a log;
    only the kit's own checks (``BadInput``) say the input is wrong (exit 2)."""
    parser = command_parser('kit', 'test')
    with pytest.raises(SystemExit) as exit:
        with checking_input(parser):
            np.zeros(0).max()  # numpy's "zero-size array to reduction operation maximum"
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit.value.code == 1 and 'defect of the kit, not of your input' in line, line
    log = line.split('the details are in ')[1].split('. This')[0]
    assert 'zero-size array' in open(log).read()
    os.unlink(log)
    with pytest.raises(SystemExit) as exit:
        with checking_input(parser):
            raise BadInput('--thing 3 is not allowed: it must be 1 or 2')
    assert exit.value.code == 2 and capsys.readouterr().err == 'kit: error: --thing 3 is not allowed: it must be 1 or 2\n'


def test_a_full_disk_is_said_with_the_file_it_could_not_write(tmp_path, capsys):
    def full(handle):
        raise OSError(errno.ENOSPC, 'No space left on device')  # as a write on a full disk, naming no file

    out = tmp_path / 'out'
    out.mkdir()
    status = run_reporting_failures(command_parser('kit', 'test'), out,
                                    lambda: write_atomic(out / 'trace.json', full))
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert status == 1 and f"No space left on device: '{out / 'trace.json'}'" in line and 'defect' not in line
    assert not [p for p in out.iterdir() if p.name.startswith('.trace.json.')]  # no half-written file left


def test_a_child_runs_failure_is_its_own_line(tmp_path):
    """compare runs each variant as a child: its failure is said in the child's words, not as an empty colon."""
    from shared.cli import RunFailed
    from stepsignal.experiments.child import run_module

    with pytest.raises(RunFailed) as failure:
        run_module('fixed', tmp_path / 'child', ['--steps', '0'])
    first = str(failure.value).splitlines()[0]
    assert first.startswith(f'python -m fixed --out {tmp_path / "child"} ended with exit status 2: argument --steps')
    assert 'steps is 0' in first


@pytest.mark.parametrize('rate, seconds', [(384000, 0.25), (48000, 0.05)])
def test_a_short_clip_at_any_rate_finds_its_mains(rate, seconds):
    from stepsignal.own_signal.chain import mains_of

    time = np.arange(int(rate * seconds)) / rate
    for mains in (50, 60):
        hum = 0.05 * sum(np.sin(2 * np.pi * k * mains * time) / k for k in (1, 2, 3))
        assert mains_of(0.3 * np.sin(2 * np.pi * 440 * time) + hum, rate) == mains


def test_a_twentieth_of_a_second_at_48_khz_trains(tmp_path):
    rate = 48000
    time = np.arange(rate // 20) / rate
    with wave.open(str(tmp_path / 'short.wav'), 'wb') as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((0.3 * np.sin(2 * np.pi * 440 * time) * 32767).astype('<i2').tobytes())
    finished = run_command(*process('--input', tmp_path / 'short.wav', '--target-level', 0, '--steps', 100,
                                    '--out', tmp_path / 'out'))
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert json.loads((tmp_path / 'out' / 'result.json').read_text())['steps_trained'] > 0
    shutil.rmtree(tmp_path / 'out')


@pytest.mark.parametrize('verb', ['evaluate', 'ablate'])
@pytest.mark.parametrize('jobs', ['0', '100000000000'])
def test_jobs_out_of_range_are_refused_before_ray_starts(verb, jobs, tmp_path, capsys):
    status, stderr = refused_here(['stepsignal', verb, '--seeds', '0', '--jobs', jobs, '--out', tmp_path / 'out'], capsys)
    assert status == 2 and f"'{jobs}' is not allowed: a whole number from 1 to 256" in stderr, stderr[-2000:]
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('verb', ['evaluate', 'ablate'])
def test_a_failure_while_the_grid_runs_is_one_line_with_its_details_in_error_log(verb, tmp_path, capsys, monkeypatch):
    """Ray that cannot start (a node timed out, say) ends evaluate and ablate in one line, as any run does."""
    import importlib

    module = importlib.import_module(f'stepsignal.experiments.{"evaluate" if verb == "evaluate" else "ablation"}')

    def ray_that_cannot_start(*args, **kwargs):
        raise RuntimeError('The current node timed out during startup.')

    monkeypatch.setattr(module, 'run_all', ray_that_cannot_start)
    out = tmp_path / 'out'
    status, stderr = refused_here(['stepsignal', verb, '--seeds', '0', '--steps', 100, '--out', out], capsys)
    line = stderr.strip().splitlines()[-1]
    assert status == 1 and 'Traceback' not in stderr, stderr[-2000:]
    assert 'the run failed: RuntimeError: The current node timed out during startup.' in line and 'error.log' in line
    assert 'ray_that_cannot_start' in (out / 'error.log').read_text()
