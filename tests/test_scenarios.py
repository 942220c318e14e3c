"""Random step scenarios (``stepsignal-random-v0``) and the generalisation measurement."""
import numpy as np
import pytest

from stepsignal.own_signal.scenarios import RandomStepSignal
from shared.scenario import StepRanges, question_scenario


def test_every_reset_draws_a_new_scenario_within_the_ranges_and_seeds_repeat_them():
    ranges = StepRanges()
    env = RandomStepSignal()
    drawn = []
    for i in range(20):
        obs, _ = env.reset(seed=7) if i == 0 else env.reset()
        start, end, target = obs['observation'][0], obs['observation'][-1], obs['desired_goal'][0]
        assert ranges.start_level[0] <= start <= ranges.start_level[1]
        assert ranges.end_level[0] <= end <= ranges.end_level[1]
        assert ranges.target_level[0] <= target <= ranges.target_level[1]
        step_at = np.flatnonzero(obs['observation'] != start)[0] / ranges.sample_rate
        assert ranges.step_time_s[0] - 0.1 <= step_at <= ranges.step_time_s[1] + 0.1
        drawn.append((start, end, target))
    assert len(set(drawn)) == 20
    again = RandomStepSignal()
    assert [tuple(again.reset(seed=7)[0]['observation'][[0, -1]])] == [drawn[0][:2]]


def test_the_offset_range_is_the_familys_so_every_scenario_is_solvable():
    """An action means the same in every scenario, and the best action succeeds in each."""
    env = RandomStepSignal()
    env.reset(seed=0)
    for _ in range(50):
        obs, _ = env.reset()
        assert env.physical_high[1] == StepRanges().max_offset()
        needed = obs['observation'][0] - obs['desired_goal'][0]  # the lowest cutoff leaves the start level
        action = np.array([-1.0, needed / env.physical_high[1]])
        *_, info = env.step(action)
        assert info['is_success']


def test_the_question_is_one_member_of_the_family():
    q = question_scenario()
    r = StepRanges()
    assert r.start_level[0] <= q.input_signal[0] <= r.start_level[1]
    assert r.end_level[0] <= q.input_signal[-1] <= r.end_level[1]
    assert r.target_level[0] <= q.desired_signal[0] <= r.target_level[1]
    assert r.length_s * r.sample_rate == len(q.input_signal)


def test_a_random_scenario_run_reports_success_on_never_seen_scenarios(tmp_path):
    import json

    from stepsignal.own_signal.scenarios import UNSEEN_SCENARIOS, main

    assert main(['--out', str(tmp_path / 'run'), '--steps', '300']) == 0  # python -m stepsignal scenarios
    result = json.loads((tmp_path / 'run' / 'result.json').read_text())
    unseen = result['unseen']
    assert unseen['scenarios'] == UNSEEN_SCENARIOS and unseen['seeds'] == '1000000-1000099'
    assert 0.0 <= unseen['success_rate'] <= 1.0 and unseen['median_l2'] <= unseen['worst_l2']
    assert result['reverted'] == [] and (tmp_path / 'run' / 'policy' / 'policy.json').is_file()


def test_the_family_options_reach_the_run_episode_steps_1_a_new_scenario_at_every_step(tmp_path):
    import json

    from stepsignal.own_signal.scenarios import main

    assert main(['--out', str(tmp_path / 'run'), '--steps', '300', '--episode-steps', '1', '--gradient-steps', '3']) == 0
    result = json.loads((tmp_path / 'run' / 'result.json').read_text())
    history = json.loads((tmp_path / 'run' / 'history.json').read_text())
    assert result['hyperparameters']['max_episode_steps'] == 1  # recorded as trained
    assert result['hyperparameters']['gradient_steps'] == 3
    assert len(history['nb_episode_steps']) == result['steps_trained'] and set(history['nb_episode_steps']) == {1.0}
    trace = json.loads((tmp_path / 'run' / 'trace.json').read_text())
    assert [step['episode'] for step in trace['steps'][:20]] == list(range(20))  # each step its own episode


def test_the_family_options_are_refused_where_they_mean_nothing_or_out_of_range(tmp_path, capsys):
    from stepsignal.experiments.evaluate import main as evaluate
    from stepsignal.own_signal.scenarios import main as scenarios

    for run, argv in ((evaluate, ['--seeds', '0', '--episode-steps', '1']),  # the question's run: no family
                      (evaluate, ['--seeds', '0', '--random-scenarios', '--episode-steps', '0']),
                      (evaluate, ['--seeds', '0', '--gradient-steps', '2']),
                      (scenarios, ['--episode-steps', '-3']),
                      (scenarios, ['--gradient-steps', '0'])):
        with pytest.raises(SystemExit) as stopped:
            run(argv + ['--out', str(tmp_path / 'out')])
        assert stopped.value.code == 2 and not (tmp_path / 'out').exists()
        assert argv[-2] in capsys.readouterr().err  # the option named
