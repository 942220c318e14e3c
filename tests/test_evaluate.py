"""``python -m stepsignal evaluate``: a rate over seeds with its interval, one rounding world per call."""
import json

import pytest

from command_line import assert_overwrite_keeps_a_file_it_did_not_write, assert_the_kit_wrote_only_what_it_listed, run_command



def test_evaluate_runs_seeds_in_the_world_asked_for_and_draws_their_curves(tmp_path):
    out = tmp_path / 'evaluate'
    finished = run_command('stepsignal', 'evaluate', '--seeds', '0-1', '--steps', '120', '--env', 'TF_ENABLE_ONEDNN_OPTS=0',
                           '--out', out, '--tensorboard', tmp_path / 'tb')
    assert finished.returncode == 0, finished.stderr[-2000:]
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['environment'] == {'TF_ENABLE_ONEDNN_OPTS': '0'}
    assert [r['seed'] for r in summary['seeds']] == [0, 1]
    assert (summary['episode_steps'], summary['gradient_steps']) == (None, None)  # the family options: none given
    rate = summary['summary']['success']
    assert rate['trials'] == 2 and 0 <= rate['ci95_low'] <= rate['rate'] <= rate['ci95_high'] <= 1
    text = (out / 'summary.md').read_text()
    assert 'TF_ENABLE_ONEDNN_OPTS=0' in text and '95% CI' in text
    from stepsignal.experiments.machine import machine

    assert summary['machine'] == machine() and f"on {machine()}." in text
    assert (out / 'learning_curves.png').read_bytes().startswith(b'\x89PNG')
    assert (out / 'seed-1' / 'result.json').is_file()
    # Each seed's event files, sent back from its worker, land in DIR/seed-N and read back.
    from fixed.tensorboard_log import read_scalars

    for seed in (0, 1):
        assert 'episode/reward' in read_scalars(tmp_path / 'tb' / f'seed-{seed}')
    assert not (out / 'seed-0' / 'tensorboard').exists()
    assert_the_kit_wrote_only_what_it_listed(out)
    assert_overwrite_keeps_a_file_it_did_not_write(['stepsignal', 'evaluate', '--seeds', '0-1', '--steps', '120'], out)


@pytest.mark.parametrize('bad, message', [(['--env', 'NO_EQUALS_SIGN'], '--env'), (['--env', '1X=2'], '--env'),
                                          (['--seeds', '3-1'], 'seed'), (['--jobs', '0'], '--jobs'),
                                          (['--tensorboard', __file__], '--tensorboard')])
def test_evaluate_refuses_bad_arguments_before_any_training(bad, message, tmp_path):
    finished = run_command('stepsignal', 'evaluate', '--out', tmp_path / 'e', *bad, timeout=120)
    assert finished.returncode == 2 and message in finished.stderr and 'Traceback' not in finished.stderr
    assert not (tmp_path / 'e').exists()


def test_median_steps_to_success_counts_never_as_never():
    from stepsignal.experiments.evaluate import median_or_never

    assert median_or_never([300, 100, None]) == 300
    assert median_or_never([100, None, None]) is None  # the median seed never succeeded
    assert median_or_never([400, 100, 200, 300]) == 250
