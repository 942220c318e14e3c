"""Own-signal results beside their baselines (``stepsignal.own_signal.baselines``), on audio the tests make.

The audio: speech-like bursts (a 140 Hz voice with harmonics up to 3 kHz, syllables of 150 ms)
with a DC offset and 50 Hz hum, at 22.05 kHz; the target is the clean bursts. A low-pass cannot
take the hum out without the voice, so the ceiling keeps the voice (a high cutoff) and removes
the offset; a constant output scores the voice's own RMS.
"""
import json

import numpy as np
import pytest
from scipy.io import wavfile

from command_line import run_command
from shared.scenario import speech_with_hum
from stepsignal.own_signal.bands import band_rows, bands, what_is_left
from stepsignal.own_signal.baselines import baselines, verdict

RATE = 22050
OFFSET = 0.2


def speech_like(seconds=2.0, rate=RATE):
    """``(noisy, clean)``: voiced bursts, and the same with OFFSET and 50 Hz hum added."""
    return speech_with_hum(seconds, rate, offset=OFFSET, hum=0.1)


@pytest.fixture(scope='module')
def found():
    noisy, clean = speech_like()
    return baselines(noisy, clean, RATE, cutoff_range=(20.0, 10_900.0), max_offset=2.0)


def test_the_ceiling_keeps_the_voice_and_removes_the_offset(found):
    noisy, clean = speech_like()
    ceiling = found['best_filter']
    assert ceiling['cutoff_hz'] > 2_000 and ceiling['offset'] == pytest.approx(OFFSET, abs=0.01)
    # What is left is the hum (RMS 0.1 / sqrt 2), not the voice.
    assert ceiling['rms'] == pytest.approx(0.1 / np.sqrt(2), rel=0.05)
    assert found['best_constant']['rms'] == pytest.approx(float(np.std(clean)), rel=1e-9)
    assert ceiling['rms'] < found['best_constant']['rms'] < found['input_unchanged']['rms']


def test_a_nearly_constant_output_is_called_what_it_is(found):
    noisy, clean = speech_like()
    flattened = verdict(np.full_like(clean, 0.01) + 1e-4 * noisy, clean, found)
    assert flattened['nearly_constant'] and flattened['text'].startswith('NO BETTER THAN A CONSTANT')


def test_an_output_near_the_ceiling_is_not_flagged(found):
    noisy, clean = speech_like()
    judged = verdict(noisy - OFFSET, clean, found)
    assert not (judged['beaten_by_constant'] or judged['nearly_constant'])
    assert judged['ratio_to_ceiling'] == pytest.approx(1.0, abs=0.05)
    # the hum is what is left, so here the ceiling is the subtraction of the mean, and the text says so
    assert found['mean_removed']['rms'] == pytest.approx(found['best_filter']['rms'], rel=1e-3)
    assert judged['beaten_by_mean_removed'] and judged['text'].startswith('NO BETTER THAN REMOVING THE MEAN')
    assert not verdict(clean + 0.01 * (noisy - clean - OFFSET), clean, found)['beaten_by_mean_removed']


def test_a_flat_target_says_that_it_asks_for_a_constant_output():
    noisy, _ = speech_like()
    flat = np.zeros_like(noisy)
    judged = verdict(noisy - OFFSET, flat, baselines(noisy, flat, RATE, (20.0, 10_900.0), 2.0))
    assert judged['flat_target'] and judged['text'].startswith('The target is flat (0), so what it asks for is a '
                                                               'constant output')
    assert '--target instead' in judged['text']


def test_default_settings_on_speech_report_the_baselines_first(tmp_path):
    noisy, clean = speech_like()
    wavfile.write(tmp_path / 'speech.wav', RATE, noisy.astype(np.float32))
    wavfile.write(tmp_path / 'clean.wav', RATE, clean.astype(np.float32))
    out = tmp_path / 'out'
    finished = run_command('stepsignal', 'process', '--input', tmp_path / 'speech.wav', '--target', tmp_path / 'clean.wav',
                           '--steps', '300', '--out', out)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert 'cutoffs from 20 to 10914.8 Hz, the audible range' in finished.stderr
    result = json.loads((out / 'result.json').read_text())
    assert set(result['baselines']) == {'input_unchanged', 'mean_removed', 'best_constant', 'best_filter'}
    first_line = (out / 'report.md').read_text().splitlines()[2]
    assert first_line.strip('*').startswith(result['verdict']['text'][:40])
    processed = wavfile.read(out / 'processed.wav')[1]
    flattened = result['verdict']['nearly_constant'] or result['verdict']['beaten_by_constant']
    # The bar: the output is not constant, or the report says so in its first line.
    assert np.std(processed) > 0.01 * np.std(clean) or first_line.startswith('**NO BETTER THAN A CONSTANT')
    assert result['success'] is False or not flattened
    # the error of the file as written, measured from the file
    assert result['rms_in_file'] == pytest.approx(np.sqrt(np.mean((processed - clean.astype(np.float32)) ** 2)), rel=1e-4)
    assert set(result['bands']) == {'dc', 'hum', 'mains_line', 'hiss', 'speech_band'}


def test_the_bands_say_the_hum_is_left_when_only_the_offset_went():
    noisy, clean = speech_like()
    offset_only = bands(noisy, noisy - OFFSET, clean, RATE)
    assert offset_only['hum']['mains_hz'] == 50
    assert abs(offset_only['hum']['cut_db']) < 0.1 and offset_only['hum']['after_over_target_db'] > 0
    assert abs(offset_only['dc']['error_before'] - OFFSET) < 1e-3 and abs(offset_only['dc']['error_after']) < 1e-3
    assert abs(offset_only['speech_band']['output_over_target_db']) < 1
    left = what_is_left(offset_only)
    assert len(left) == 1 and left[0].startswith('the hum at 50 Hz and its harmonics is not cut')
    # the hum taken out as a notch would: cut far beyond 20 dB, and nothing said to be left
    t = np.arange(len(noisy)) / RATE
    dehummed = noisy - OFFSET - 0.1 * np.sin(2 * np.pi * 50 * t) + 1e-4 * np.sin(2 * np.pi * 50 * t)
    cleaned = bands(noisy, dehummed, clean, RATE)
    assert cleaned['hum']['cut_db'] > 40 and what_is_left(cleaned) == []
    # a voice made duller: the speech band says so
    assert 'the speech band (200-3400 Hz) is 6.0 dB below' in what_is_left(bands(noisy, 0.5 * clean, clean, RATE))[-1]
    rows = band_rows(cleaned)
    assert rows[3].startswith('| hum, 50 Hz and harmonics') and not any('-0.0 dB' in row for row in band_rows(offset_only))
