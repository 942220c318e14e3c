"""A trained policy used again (``--policy DIR``): the same answer in a fresh process, without training."""
import json

import numpy as np
import pytest
from scipy.io import wavfile

from command_line import run_command


RATE = 8000


def run_process(*args, **kwargs):
    """``python -m stepsignal process ARGS``, as a user types it."""
    return run_command('stepsignal', 'process', *args, **kwargs)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A short own-signal run (a tone with hum and an offset; the target, the clean tone) and its folder."""
    folder = tmp_path_factory.mktemp('policy')
    t = np.arange(RATE) / RATE
    clean = 0.3 * np.sin(2 * np.pi * 440 * t)
    noisy = clean + 0.1 + 0.05 * np.sin(2 * np.pi * 3000 * t)
    wavfile.write(folder / 'noisy.wav', RATE, noisy.astype(np.float32))
    wavfile.write(folder / 'clean.wav', RATE, clean.astype(np.float32))
    finished = run_process('--input', folder / 'noisy.wav', '--target', folder / 'clean.wav', '--steps', 300,
                         '--out', folder / 'run')
    assert finished.returncode == 0, finished.stderr[-2000:]
    return folder


def test_every_training_run_saves_a_documented_policy(trained):
    about = json.loads((trained / 'run' / 'policy' / 'policy.json').read_text())
    assert about['format'] == 'stepsignal-policy/1'
    assert about['signal'] == {'sample_rate': RATE, 'samples': RATE, 'excerpts': False}
    assert about['actions']['cutoff_hz'] == [20.0, 0.99 * RATE / 2]  # the audible range at this rate
    from stepsignal.own_signal.chain import CHAIN_OBSERVED_SAMPLES

    assert about['observation']['values_per_key'] == CHAIN_OBSERVED_SAMPLES  # audio's chain reads 200 of each signal
    assert about['observation']['scale'] > 0
    assert (trained / 'run' / 'policy' / 'actor.h5').is_file()


def test_a_saved_policy_gives_the_same_answer_in_a_fresh_process_without_training(trained):
    """The same settings, up to float32 rounding (numpy sums in another order than TensorFlow),
    and the same processed file up to its last bit."""
    finished = run_process('--policy', trained / 'run' / 'policy', '--input', trained / 'noisy.wav', '--target',
                           trained / 'clean.wav', '--out', trained / 'again')
    assert finished.returncode == 0, finished.stderr[-2000:]
    before = json.loads((trained / 'run' / 'result.json').read_text())
    after = json.loads((trained / 'again' / 'result.json').read_text())
    assert after['action'] == pytest.approx(before['action'], abs=1e-6)
    assert after['chain']['settings'] == pytest.approx(before['chain']['settings'], rel=1e-5, abs=1e-7)
    assert after['l2_distance'] == pytest.approx(before['l2_distance'], rel=1e-4)
    assert after['steps_trained'] == 0 and not (trained / 'again' / 'trace.json').exists()
    assert after['baselines'] == before['baselines']
    again, first = (wavfile.read(trained / folder / 'processed.wav')[1] for folder in ('again', 'run'))
    assert np.abs(again.astype(np.float64) - first).max() <= 1e-6  # float32 WAV: a last bit at most


def test_a_saved_policy_reads_its_signals_as_it_was_trained_to(trained, tmp_path, monkeypatch):
    """A policy answers with the view its policy.json records, not today's default, so a policy
    saved before the default changed (audio's chain read 600 values of each signal, now 200)
    still answers, with the same settings."""
    from stepsignal.own_signal import chain
    from stepsignal.own_signal.process import main

    monkeypatch.setattr(chain, 'CHAIN_OBSERVED_SAMPLES', chain.CHAIN_OBSERVED_SAMPLES // 2)  # another default
    status = main(['--policy', str(trained / 'run' / 'policy'), '--input', str(trained / 'noisy.wav'),
                   '--target', str(trained / 'clean.wav'), '--out', str(tmp_path / 'out')])
    assert status == 0
    before = json.loads((trained / 'run' / 'result.json').read_text())
    after = json.loads((tmp_path / 'out' / 'result.json').read_text())
    assert after['chain']['settings'] == pytest.approx(before['chain']['settings'], rel=1e-5, abs=1e-7)


def test_a_saved_policy_answers_without_tensorflow(trained, tmp_path):
    """In a fresh interpreter, an answer never imports TensorFlow (its import alone is seconds and
    hundreds of MB); the numpy forward pass gives Keras' answer to float32 rounding."""
    import subprocess
    import sys

    from command_line import as_a_user_runs

    code = ('import sys; from stepsignal.own_signal.process import main; '
            f'status = main(["--policy", {str(trained / "run" / "policy")!r}, "--input", {str(trained / "noisy.wav")!r}, '
            f'"--target", {str(trained / "clean.wav")!r}, "--out", {str(tmp_path / "out")!r}]); '
            'loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "rl")); '
            'print(status, loaded)')
    finished = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=as_a_user_runs(),
                              timeout=300)
    assert finished.returncode == 0 and finished.stdout.strip() == '0 []', (finished.stdout, finished.stderr[-2000:])


def test_the_numpy_actor_is_the_keras_actor():
    """``stepsignal.own_signal.saved_policy.actor_answer`` on weights read from the HDF5 file is ``build_actor``'s output."""
    import tempfile
    from pathlib import Path

    from fixed.agent import build_actor
    from stepsignal.own_signal.saved_policy import actor_answer, actor_weights
    from shared.files import write_weights
    from types import SimpleNamespace

    from gymnasium import spaces

    # what build_actor reads of an env: the flat observation's shape and the action count (a 3-stage chain)
    env = SimpleNamespace(observation_space=spaces.Box(-1, 1, (1200,)), action_space=spaces.Box(-1, 1, (3,)))
    actor = build_actor(env, window_length=1)
    rng = np.random.default_rng(0)
    actor.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in actor.get_weights()])
    states = rng.normal(0, 1, (5, 1) + env.observation_space.shape).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        write_weights(actor, Path(folder) / 'actor.h5')
        weights = actor_weights(Path(folder) / 'actor.h5')
    np.testing.assert_allclose(actor_answer(weights, states), actor.predict(states, verbose=0), atol=1e-6)


@pytest.mark.parametrize('rate, seconds, message', [(16000, 0.5, '8000 samples at 8000 Hz; the input has 8000 samples '
                                                                 'at 16000 Hz'),
                                                    (RATE, 2.0, 'the input has 16000 samples at 8000 Hz')])
def test_a_policy_refuses_signals_it_was_not_trained_for(trained, tmp_path, rate, seconds, message):
    wavfile.write(tmp_path / 'other.wav', rate, np.zeros(int(rate * seconds), dtype=np.float32) + 0.1)
    finished = run_process('--policy', trained / 'run' / 'policy', '--input', tmp_path / 'other.wav',
                         '--target-level', 0, '--out', tmp_path / 'out')
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert message in finished.stderr and 'serves signals of' in finished.stderr
    assert not (tmp_path / 'out').exists()  # refused before --out was made: the corrected command may use it


def test_a_refused_policy_run_leaves_an_earlier_run_s_results_in_place(trained, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'result.json').write_text('{}')
    (out / '.stepsignal-run.json').write_text('{"writes": ["result.json"]}')  # an earlier run's
    wavfile.write(tmp_path / 'other.wav', 16000, np.zeros(8000, dtype=np.float32) + 0.1)
    finished = run_process('--policy', trained / 'run' / 'policy', '--input', tmp_path / 'other.wav',
                           '--target-level', 0, '--out', out, '--overwrite')
    assert finished.returncode == 2 and 'serves signals of' in finished.stderr
    assert sorted(p.name for p in out.iterdir()) == ['.stepsignal-run.json', 'result.json']
    assert (out / '.stepsignal-run.json').read_text() == '{"writes": ["result.json"]}'


def test_a_folder_without_a_policy_is_refused(trained, tmp_path):
    finished = run_process('--policy', tmp_path, '--input', trained / 'noisy.wav', '--target-level', 0,
                         '--out', tmp_path / 'out')
    assert finished.returncode == 2 and 'holds no policy' in finished.stderr and 'Traceback' not in finished.stderr


def test_a_random_scenarios_policy_answers_a_scenario_it_never_saw(tmp_path):
    from shared.scenario import StepRanges, random_step_scenario

    finished = run_command('stepsignal', 'scenarios', '--steps', 300, '--out', tmp_path / 'family')
    assert finished.returncode == 0, finished.stderr[-2000:]
    scenario = random_step_scenario(np.random.default_rng(123_456_789), StepRanges())
    np.save(tmp_path / 'step.npy', scenario.input_signal)
    answered = run_process('--policy', tmp_path / 'family' / 'policy', '--input', tmp_path / 'step.npy',
                         '--sample-rate', 30, '--target-level', scenario.desired_signal[0], '--out', tmp_path / 'new')
    assert answered.returncode == 0, answered.stderr[-2000:]
    result = json.loads((tmp_path / 'new' / 'result.json').read_text())
    about = json.loads((tmp_path / 'family' / 'policy' / 'policy.json').read_text())
    # The family's ranges, not ones derived from this one scenario: an action means what it meant in training.
    assert about['actions']['offset'] == [-StepRanges().max_offset(), StepRanges().max_offset()]
    assert about['actions']['cutoff_hz'][0] <= result['cutoff_hz'] <= about['actions']['cutoff_hz'][1]
    assert result['policy_trained_on']['mode'] == 'random-scenarios'


@pytest.mark.parametrize('chain, actions', [
    (('lowpass', 'offset'), [[-1.0, 0.0]]),  # 20 Hz, offset 0: the longest ringing
    # the audio chain, applied in the frequency domain with the notches taken from the whole signal:
    # the lowest high- and low-pass, full notches, then a high cutoff with a gain of 2 (1.4e-4 of
    # the spread at worst, where the whole signal's own notched edge is 0.9 s away)
    (('lowpass', 'offset', 'highpass', 'notch', 'gain'), [[-1, 0, -1, 1, 0], [1, 0, -1, 1, 0], [0.3, 0.1, -0.5, 1, 1],
                                                          [-1, 0, 1, 0.5, 0]])])
def test_excerpts_score_what_the_filter_does_inside_the_whole_signal(chain, actions):
    """A long signal trains on excerpts; each is filtered with a margin of the signal around it, so
    the scored part matches the whole signal filtered, even at the lowest audio cutoff."""
    from stepsignal.own_signal.any_signal import EXCERPT_SAMPLES, EXCERPTS, ExcerptSignal

    rate = 48_000
    rng = np.random.default_rng(0)
    t = np.arange(20 * rate) / rate
    signal = np.cumsum(rng.standard_normal(t.size)) * 1e-3 + np.sin(t * rate / 30) + 0.1 * np.sin(2 * np.pi * 50 * t)
    env = ExcerptSignal(signal, rate, np.zeros_like(signal), cutoff_range=(20.0, 20_000.0), max_offset=5.0,
                        chain=chain, mains_hz=50)
    env.reset(seed=0)
    for action in actions:
        observation, *_ = env.step(np.array(action, dtype=np.float32))
        whole = env.chain.apply(signal.astype(np.float32), env.settings)
        expected = np.concatenate([whole[start:start + EXCERPT_SAMPLES] for start in env.excerpt_starts])
        assert observation['achieved_goal'].shape == (EXCERPTS * EXCERPT_SAMPLES,)
        assert np.max(np.abs(observation['achieved_goal'] - expected)) < 1e-3 * np.std(signal), action


def test_a_long_signal_trains_on_excerpts_and_is_judged_on_all_of_it(tmp_path):
    rate = 8000
    t = np.arange(40 * rate) / rate  # 320,000 samples: long enough for excerpts with their margins
    clean = 0.3 * np.sin(2 * np.pi * 200 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.1 * t))
    wavfile.write(tmp_path / 'long.wav', rate, (clean + 0.1 + 0.05 * np.sin(2 * np.pi * 3500 * t)).astype(np.float32))
    wavfile.write(tmp_path / 'clean.wav', rate, clean.astype(np.float32))
    finished = run_process('--input', tmp_path / 'long.wav', '--target', tmp_path / 'clean.wav', '--steps', 300,
                         '--out', tmp_path / 'out')
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert 'training on 8 excerpts' in finished.stderr and 'expect about' in finished.stderr
    result = json.loads((tmp_path / 'out' / 'result.json').read_text())
    processed = wavfile.read(tmp_path / 'out' / 'processed.wav')[1].astype(np.float64)
    # The L2 distance in result.json is the whole signal's, not the excerpts'.
    assert result['l2_distance'] == pytest.approx(float(np.linalg.norm(processed - clean)), rel=1e-4)
    assert 'l2_distance_on_excerpts' in result
    about = json.loads((tmp_path / 'out' / 'policy' / 'policy.json').read_text())
    assert about['signal'] == {'sample_rate': rate, 'samples': len(t), 'excerpts': True}
