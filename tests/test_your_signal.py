"""Your own signal: file formats, the command line on real files, and every bad input.

The bad-input tests run ``python -m fixed`` as a user would and check the three promises: a clear
message that names the file or value, a non-zero exit without a traceback, and nothing written.
They stop before TensorFlow is imported, so each takes about a second.
"""
import json
import re
import signal
import subprocess
import sys
import struct
import time

import numpy as np
import pytest
from scipy.io import wavfile

from command_line import run_command, start_command
from stepsignal.own_signal.signal_files import SignalFile, encode, read_signal, write_encoded

RATE = 8000


def tone(seconds=1.0, rate=RATE, channels=2):
    """A slow sine plus a fast one plus an offset: a low-pass and an offset can clean it up."""
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 3 * t) + 0.05 * np.sin(2 * np.pi * 1500 * t) + 0.1
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)], axis=1)


def run_process(*args, **kwargs):
    """``python -m stepsignal process ARGS``, as a user types it."""
    return run_command('stepsignal', 'process', *args, **kwargs)


@pytest.fixture
def files(tmp_path):
    """A stereo 16-bit WAV input and a mono .npy target, both at 8 kHz, in ``tmp_path``."""
    wavfile.write(tmp_path / 'input.wav', RATE, (tone() * 32767).astype(np.int16))
    np.save(tmp_path / 'target.npy', 0.3 * np.sin(2 * np.pi * 3 * np.arange(RATE) / RATE))
    return tmp_path


def write_signal(path, samples, like):
    """Write float64 ``samples`` to ``path`` in ``like``'s format, all at once: the plain path the
    kit's channel-at-a-time writing must equal; how many samples were clipped."""
    samples = np.asarray(samples)
    values, clipped = encode(samples.reshape(len(samples), -1), like)
    write_encoded(path, values, like)
    return clipped


def through_chain(samples, chain, settings):
    """Every channel of ``samples`` through ``chain.apply``, held whole in float64: the reference."""
    return np.column_stack([chain.apply(samples[:, channel], settings) for channel in range(samples.shape[1])])


# --- formats ---------------------------------------------------------------------------------

@pytest.mark.parametrize('form, dtype, tolerance', [((1, 8), np.uint8, 1 / 64), ((1, 16), np.int16, 1e-4),
                                                    ((1, 24), np.int32, 1e-6), ((1, 32), np.int32, 1e-8),
                                                    ((3, 32), np.float32, 1e-7), ((3, 64), np.float64, 0)])
def test_wav_round_trip_keeps_format_rate_and_channels(tmp_path, form, dtype, tolerance):
    samples = tone(0.1, channels=3)
    like = SignalFile(path=tmp_path / 'x.wav', samples=samples, sample_rate=44100.0, kind='wav', wav_format=form)
    write_signal(tmp_path / 'x.wav', samples, like)
    back = read_signal(tmp_path / 'x.wav')
    assert back.wav_format == form and back.sample_rate == 44100.0 and back.samples.shape == samples.shape
    assert np.abs(back.samples - samples).max() <= tolerance
    assert wavfile.read(tmp_path / 'x.wav')[1].dtype == dtype  # what another program reads back


@pytest.mark.parametrize('dtype, bits', [(np.float32, 32), (np.int16, 16)])
def test_a_wav_is_kept_in_float32_and_processed_to_the_same_bits(tmp_path, dtype, bits):
    """A 32-bit float or 16-bit PCM WAV stays float32 in memory (exact; half of a long file's
    float64 copy); the chain works in float64 from it, one channel at a time, and the file written
    equals the all-float64 path's, bit for bit."""
    from stepsignal.own_signal.chain import AUDIO_CHAIN, Chain
    from stepsignal.own_signal.your_signal import processed_file

    chain = Chain(AUDIO_CHAIN, 44100.0, (20.0, 20000.0), 2.0, 50.0)
    settings = {'lowpass': 1000.0, 'offset': -1.0, 'highpass': 40.0, 'notch': 0.7, 'gain': 1.3}  # some clipped
    samples = 0.5 * tone(1.0, rate=44100) + 0.01 * np.random.default_rng(0).standard_normal((44100, 2))
    if dtype == np.int16:
        samples = np.round(samples * 32768).astype(np.int16)
        as_float64 = samples / 32768.0
    else:
        samples = samples.astype(np.float32)
        as_float64 = samples.astype(np.float64)
    wavfile.write(tmp_path / 'x.wav', 44100, samples)
    read = read_signal(tmp_path / 'x.wav')
    assert read.wav_format == (1 if bits == 16 else 3, bits)
    assert read.samples.dtype == np.float32 and np.array_equal(read.samples, as_float64)
    expected = through_chain(as_float64, chain, settings)
    values, clipped = processed_file(read.samples, chain, settings, like=read)
    write_encoded(tmp_path / 'y.wav', values, like=read)
    write_signal(tmp_path / 'z.wav', expected, like=read)
    assert (tmp_path / 'y.wav').read_bytes() == (tmp_path / 'z.wav').read_bytes()
    beyond_full_scale = int(np.count_nonzero((expected < -1) | (expected >= 1)))
    assert beyond_full_scale > 0
    if bits == 16:  # PCM is clipped at full scale, and says how often
        assert clipped == beyond_full_scale
    else:  # a float WAV holds values beyond full scale as they are
        assert clipped == 0 and np.array_equal(wavfile.read(tmp_path / 'y.wav')[1], expected.astype(np.float32))


def riff_to_rifx(riff):
    """The same 16-bit PCM WAV, big-endian (RIFX): every header number and every sample byte-swapped."""
    out = bytearray(b'RIFX') + struct.pack('>I', struct.unpack('<I', riff[4:8])[0]) + riff[8:12]
    position = 12
    while position + 8 <= len(riff):
        chunk, size = riff[position:position + 4], struct.unpack('<I', riff[position + 4:position + 8])[0]
        body = riff[position + 8:position + 8 + size]
        if chunk == b'fmt ':
            body = struct.pack('>HHIIHH', *struct.unpack('<HHIIHH', body[:16])) + body[16:]
        elif chunk == b'data':
            body = np.frombuffer(body, dtype='<i2').astype('>i2').tobytes()
        out += chunk + struct.pack('>I', size) + body
        position += 8 + size + (size % 2)
    return bytes(out)


def test_big_endian_rifx_wav_reads_as_its_little_endian_twin(tmp_path):
    samples = (tone(channels=2) * 20000).astype(np.int16)
    wavfile.write(tmp_path / 'riff.wav', RATE, samples)
    (tmp_path / 'rifx.wav').write_bytes(riff_to_rifx((tmp_path / 'riff.wav').read_bytes()))
    riff, rifx = read_signal(tmp_path / 'riff.wav'), read_signal(tmp_path / 'rifx.wav')
    assert rifx.sample_rate == RATE and rifx.wav_format == (1, 16)
    np.testing.assert_array_equal(rifx.samples, riff.samples)


def test_a_wav_rate_given_again_is_accepted_when_it_agrees(tmp_path):
    wavfile.write(tmp_path / 'a.wav', RATE, (tone(channels=1) * 1000).astype(np.int16))
    assert read_signal(tmp_path / 'a.wav', sample_rate=RATE).sample_rate == RATE


def test_npy_and_csv_round_trip(tmp_path):
    samples = tone(0.1, channels=1)
    np.save(tmp_path / 'x.npy', samples[:, 0].astype(np.float32))
    (tmp_path / 'x.csv').write_text('value\n' + ''.join(f'{v}\n' for v in samples[:, 0]))
    for name in ('x.npy', 'x.csv'):
        read = read_signal(tmp_path / name, sample_rate=RATE)
        write_signal(tmp_path / ('out-' + name), read.samples * 2, like=read)
        again = read_signal(tmp_path / ('out-' + name), sample_rate=RATE)
        np.testing.assert_allclose(again.samples, samples * 2, rtol=1e-6, atol=1e-7)
    assert np.load(tmp_path / 'out-x.npy').dtype == np.float32 and np.load(tmp_path / 'out-x.npy').ndim == 1
    assert (tmp_path / 'out-x.csv').read_text().startswith('value\n')


def test_integer_npy_is_rounded_and_clipped_not_wrapped(tmp_path):
    np.save(tmp_path / 'x.npy', np.array([0, 100, -100], dtype=np.int16))
    read = read_signal(tmp_path / 'x.npy', sample_rate=RATE)
    clipped = write_signal(tmp_path / 'out.npy', np.array([2.6, 40000.0, -40000.0]), like=read)
    assert clipped == 2
    assert np.load(tmp_path / 'out.npy').tolist() == [3, 32767, -32768]  # astype alone gives [2, -25536, 25536]


# --- bad input -------------------------------------------------------------------------------

def write_bad(folder, case):
    """Make the files for one bad-input case; return the command-line arguments after --out."""
    good_wav = folder / 'input.wav'
    if case == 'missing file':
        return ['--input', folder / 'nowhere.wav', '--target-level', 0]
    if case == 'a folder':
        (folder / 'folder.wav').mkdir()
        return ['--input', folder / 'folder.wav', '--target-level', 0]
    if case == 'not a WAV':
        (folder / 'noise.wav').write_bytes(b'this is not audio' * 10)
        return ['--input', folder / 'noise.wav', '--target-level', 0]
    if case == 'unknown extension':
        (folder / 'input.mp3').write_bytes(good_wav.read_bytes())
        return ['--input', folder / 'input.mp3', '--target-level', 0]
    if case == 'empty signal':
        np.save(folder / 'empty.npy', np.zeros(0))
        return ['--input', folder / 'empty.npy', '--sample-rate', RATE, '--target-level', 0]
    if case == 'NaN sample':
        values = tone(channels=1)[:, 0]
        values[123] = np.nan
        np.save(folder / 'nan.npy', values)
        return ['--input', folder / 'nan.npy', '--sample-rate', RATE, '--target-level', 0]
    if case == 'inf sample':
        (folder / 'inf.csv').write_text('0.1\n0.2\ninf\n' + '0.3\n' * 100)
        return ['--input', folder / 'inf.csv', '--sample-rate', RATE, '--target-level', 0]
    if case == 'lengths differ after resampling':
        wavfile.write(folder / 'long.wav', 16000, np.zeros(int(1.2 * 16000), dtype=np.int16))
        return ['--input', good_wav, '--target', folder / 'long.wav']
    if case == 'sample rate 0 given':
        return ['--input', folder / 'target.npy', '--sample-rate', 0, '--target-level', 0]
    if case == 'sample rate 0 in the WAV header':
        data = bytearray(good_wav.read_bytes())
        data[24:28] = (0).to_bytes(4, 'little')
        (folder / 'rate0.wav').write_bytes(bytes(data))
        return ['--input', folder / 'rate0.wav', '--target-level', 0]
    if case == 'truncated WAV':  # its header promises more samples than the file holds
        (folder / 'cut.wav').write_bytes(good_wav.read_bytes()[:-1000])
        return ['--input', folder / 'cut.wav', '--target-level', 0]
    if case == 'sample rate that contradicts the WAV':
        return ['--input', good_wav, '--sample-rate', 44100, '--target-level', 0]
    if case == 'cutoff range reaching Nyquist':
        return ['--input', good_wav, '--target-level', 0, '--cutoff-range', 10, RATE / 2]
    if case == 'cutoff range from 0':
        return ['--input', good_wav, '--target-level', 0, '--cutoff-range', 0, 3000]
    if case == 'negative cutoff':
        return ['--input', good_wav, '--target-level', 0, '--cutoff-range', -5, 3000]
    if case == 'NaN cutoff':
        return ['--input', good_wav, '--target-level', 0, '--cutoff-range', 'nan', 3000]
    if case == 'cutoff below what the filter applies':
        return ['--input', good_wav, '--target-level', 0, '--cutoff-range', 0.01, 3000]
    raise AssertionError(case)


BAD_INPUTS = {  # case -> what the message must contain (besides the file or value)
    'missing file': ['nowhere.wav', 'cannot read'],
    'a folder': ['folder.wav', 'is a folder; process takes one file', 'python -m stepsignal clips'],
    'not a WAV': ['noise.wav', 'not a WAV'],
    'unknown extension': ['input.mp3', '.wav, .npy, .csv'],
    'empty signal': ['empty.npy', 'no samples'],
    'NaN sample': ['nan.npy', 'NaN', 'sample 123'],
    'inf sample': ['inf.csv', 'inf', 'sample 2'],
    'lengths differ after resampling': ['long.wav', '8000 samples', '9600', 'after resampling from 16000 Hz'],
    'sample rate 0 given': ['--sample-rate', 'above 0'],
    'sample rate 0 in the WAV header': ['rate0.wav', '0 Hz', 'above 0'],
    'cutoff range reaching Nyquist': ['--cutoff-range 10 4000 is not allowed', '0 < LOW_HZ < HIGH_HZ < 4000 Hz'],
    'cutoff range from 0': ['--cutoff-range 0 3000 is not allowed', '0 < LOW_HZ < HIGH_HZ < 4000 Hz'],
    'negative cutoff': ['--cutoff-range -5 3000 is not allowed', '0 < LOW_HZ'],
    'NaN cutoff': ['--cutoff-range nan 3000 is not allowed', '0 < LOW_HZ'],
    'cutoff below what the filter applies': ['--cutoff-range 0.01 3000 is not allowed', 'at least 0.08 Hz'],
    'truncated WAV': ['cut.wav', 'cut short', 'promises 32,000 bytes', 'holds 31,000'],
    'sample rate that contradicts the WAV': ['--sample-rate 44100', 'input.wav', '8000 Hz in its header'],
}


@pytest.mark.parametrize('case', BAD_INPUTS)
def test_bad_input_is_refused_clearly_and_nothing_is_written(files, case):
    out = files / 'out'
    finished = run_process('--out', out, *write_bad(files, case))
    assert finished.returncode == 2, finished.stderr[-2000:]
    assert 'Traceback' not in finished.stderr
    for expected in BAD_INPUTS[case]:
        assert expected in finished.stderr, (expected, finished.stderr)
    assert not out.exists()


def test_an_output_folder_that_cannot_be_written_is_refused(files):
    blocker = files / 'a-file'
    blocker.write_text('in the way')
    finished = run_process('--out', blocker / 'out', '--input', files / 'input.wav', '--target-level', 0)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert 'cannot be written' in finished.stderr and 'a-file' in finished.stderr
    assert blocker.read_text() == 'in the way'


def test_an_output_folder_with_results_is_refused_without_overwrite(files):
    out = files / 'out'
    out.mkdir()
    (out / 'result.json').write_text('{"earlier": true}')
    (out / '.stepsignal-run.json').write_text('{"writes": ["result.json"]}')
    finished = run_process('--out', out, '--input', files / 'input.wav', '--target-level', 0)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert 'already holds results' in finished.stderr and '--overwrite' in finished.stderr
    assert sorted(p.name for p in out.iterdir()) == ['.stepsignal-run.json', 'result.json']
    assert (out / 'result.json').read_text() == '{"earlier": true}'


# --- real runs -------------------------------------------------------------------------------

def test_a_stereo_wav_is_processed_into_the_same_format_and_the_run_repeats(files):
    """Input 16-bit stereo WAV at 8 kHz; target a mono .npy given at 16 kHz, so it is resampled."""
    target = np.load(files / 'target.npy')
    np.save(files / 'target16k.npy', np.repeat(target, 2))  # the same curve at twice the rate
    args = ['--input', files / 'input.wav', '--target', files / 'target16k.npy', '--target-sample-rate', 16000,
            '--steps', 300, '--seed', 3]
    first = run_process('--out', files / 'first', *args)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_process('--out', files / 'second', *args)
    assert second.returncode == 0, second.stderr[-3000:]

    result = json.loads((files / 'first' / 'result.json').read_text())
    again = json.loads((files / 'second' / 'result.json').read_text())
    wall_times = {'train_seconds', 'steps_per_second'}
    assert {k: v for k, v in result.items() if k not in wall_times} == {k: v for k, v in again.items()
                                                                        if k not in wall_times}
    assert result['input']['channels'] == 2 and result['input']['trained_on'] == 'the mean of its 2 channels'
    assert 'resampled to 8000 Hz' in result['input']['target'] and result['env_steps'] == 300

    rate, processed = wavfile.read(files / 'first' / 'processed.wav')
    assert rate == RATE and processed.dtype == np.int16 and processed.shape == (RATE, 2)
    # Each channel is the input's own channel through the chain (audio's default) with the settings found.
    from stepsignal.own_signal.chain import AUDIO_CHAIN, Chain

    chain = result['chain']
    assert chain['stages'] == list(AUDIO_CHAIN) and chain['settings']['lowpass'] == result['cutoff_hz']
    expected = through_chain(read_signal(files / 'input.wav').samples,
                                Chain(AUDIO_CHAIN, RATE, chain['ranges']['lowpass'][:2], chain['ranges']['offset'][1],
                                      chain['mains_hz']), chain['settings'])
    assert np.abs(processed / 32768 - expected).max() < 1e-4
    for name in ('report.md', 'signals.png', 'learning.png', 'trace.json', 'history.json'):
        assert (files / 'first' / name).is_file(), name
    assert f"{result['cutoff_hz']:.6g}" in (files / 'first' / 'report.md').read_text()


def test_ctrl_c_during_training_leaves_complete_results(files):
    out = files / 'out'
    child = start_command('stepsignal', 'process', '--out', out, '--input', files / 'input.wav', '--target-level', '0',
                          '--steps', '3000')  # its first progress line after 300 steps; Ctrl-C well before the end
    logged, deadline = None, time.monotonic() + 300
    while logged is None:  # wait until training is under way
        assert time.monotonic() < deadline, child.stderr_text()[-3000:]
        # the first progress line: it says how many steps keras-rl has counted
        logged = re.search(r': training step (\d+)/', child.stderr_text())
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    finished = child.wait(timeout=300)
    stderr = finished.stderr
    assert finished.returncode == 130, stderr[-3000:]
    assert 'Traceback' not in stderr and 'interrupted' in stderr
    result = json.loads((out / 'result.json').read_text())
    # Every step the progress line announced is kept (it once ran one step ahead of keras-rl).
    assert result['interrupted'] is True and int(logged.group(1)) <= result['steps_trained'] < result['training_steps']
    assert 'interrupted' in (out / 'report.md').read_text()
    assert wavfile.read(out / 'processed.wav')[1].shape == (RATE, 2)
    assert not [p.name for p in out.rglob('*.tmp')]  # no half-written file left behind


# --- audio-length signals: the compact observation ----------------------------------------------

def test_the_agent_sees_block_averages_of_a_long_signal_and_the_env_the_full_one():
    from stepsignal.own_signal.view import MAX_OBSERVED_SAMPLES
    from shared.scenario import Scenario
    from stepsignal.own_signal.any_signal import make_env

    n = 144_000  # 3 s at 48 kHz
    t = np.arange(n) / 48_000
    scenario = Scenario(time=t, input_signal=np.sin(2 * np.pi * t) + 0.01 * np.sin(2 * np.pi * 5000 * t),
                        desired_signal=np.zeros(n), sample_rate=48_000)
    env = make_env(scenario)
    observation = env.reset()
    assert observation.shape == (2 * MAX_OBSERVED_SAMPLES,)  # not 288,000 inputs to the networks
    blocks = scenario.input_signal.reshape(MAX_OBSERVED_SAMPLES, -1).mean(axis=1)
    np.testing.assert_allclose(observation[:MAX_OBSERVED_SAMPLES], blocks, atol=1e-6)
    _, reward, _, info = env.step(np.array([0.0, 0.0]))
    achieved = env.unwrapped.signal
    assert achieved.shape == (n,)  # the env filters and rewards every sample
    assert reward == pytest.approx(-np.sqrt(np.mean((achieved - scenario.desired_signal) ** 2)), rel=1e-5)


def test_short_signals_are_seen_sample_by_sample(scenario):
    from stepsignal.own_signal.any_signal import make_env

    observation = make_env(scenario).reset()
    np.testing.assert_array_equal(observation[:600], scenario.input_signal.astype(np.float32))


def test_overwrite_lets_a_run_replace_earlier_results(files):
    from stepsignal.own_signal.your_signal import prepare

    out = files / 'out'
    out.mkdir()
    (out / 'result.json').write_text('{}')
    (out / 'processed.wav').write_bytes(b'stale')
    (out / '.stepsignal-run.json').write_text('{"writes": ["result.json", "processed.wav"]}')  # an earlier run's
    with pytest.raises(ValueError, match='already holds results'):
        prepare(files / 'input.wav', out, target_level=0.0)
    job = prepare(files / 'input.wav', out, target_level=0.0, overwrite=True)
    assert job.scenario.input_signal.shape == (RATE,) and job.input.channels == 2
    assert sorted(p.name for p in out.iterdir()) == ['.stepsignal-run.json']  # nothing of the earlier run


def test_a_target_one_sample_off_after_resampling_is_taken_and_said(tmp_path, caplog):
    """sox exports 22,051 samples at 22.05 kHz as 16,001 at 16 kHz, which resample back to 22,052."""
    from stepsignal.own_signal.your_signal import prepare

    wavfile.write(tmp_path / 'input.wav', 22050, np.linspace(-0.5, 0.5, 22051).astype(np.float32))
    wavfile.write(tmp_path / 'target.wav', 16000, np.zeros(16001, dtype=np.float32))
    with caplog.at_level('INFO'):
        job = prepare(tmp_path / 'input.wav', tmp_path / 'out', target_path=tmp_path / 'target.wav')
    assert job.scenario.desired_signal.shape == job.scenario.input_signal.shape == (22051,)
    assert '22052 samples after resampling from 16000 Hz, the input 22051: its last sample dropped' in caplog.text


def test_overwrite_never_deletes_the_input_it_reads(files):
    from stepsignal.own_signal.your_signal import prepare

    out = files  # the input lies inside --out, listed as an earlier run's output
    (out / '.stepsignal-run.json').write_text('{"writes": ["input.wav", "target.npy"]}')
    with pytest.raises(ValueError, match='lies inside --out'):
        prepare(files / 'input.wav', out, target_level=0.0, overwrite=True)
    assert (files / 'input.wav').is_file()


def test_checks_run_before_tensorflow_is_imported():
    """A bad input costs about a second, not TensorFlow's import."""
    finished = subprocess.run([sys.executable, '-c', 'import sys, stepsignal.own_signal.process, stepsignal.own_signal.your_signal; '
                               'print("tensorflow" in sys.modules)'], capture_output=True, text=True, timeout=120)
    assert finished.stdout.strip() == 'False', finished.stderr[-2000:]


@pytest.mark.parametrize('length', [1, 5, 1000, 2 ** 18, 2 ** 18 + 1, 600_000])
def test_the_zoom_windows_running_energy_is_numpys_cumulative_sum_to_the_bit(length):
    from stepsignal.own_signal.your_signal import running_energy

    values = np.random.default_rng(length).normal(0.2, 1.0, size=length)
    whole = np.concatenate([[0.0], np.cumsum(np.square(values - np.mean(values)))])
    np.testing.assert_array_equal(running_energy(values), whole)
    np.testing.assert_array_equal(running_energy(values, stretch=7), whole)
