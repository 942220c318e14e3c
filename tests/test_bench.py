"""The benchmark's parts run and measure what they say (speed itself is never asserted)."""
import sys

import importlib.util

import pytest

from command_line import run_command
from stepsignal.experiments import bench


def test_env_throughput_measures_both_envs():
    rates = bench.bench_env(steps=50)
    assert set(rates) == {'original', 'fixed'} and all(rate > 0 for rate in rates.values())


def test_black_box_optimisers_reach_the_success_threshold():
    counts = bench.bench_optimisers(seeds=(0,))
    # Differential evolution samples the whole square: it finds the 0.65% success region.
    assert isinstance(counts['differential evolution'][0], int)
    assert set(counts) == {'differential evolution', 'Nelder-Mead'}


def test_report_says_how_many_seeds_succeeded_with_the_interval():
    from stepsignal.rates import success_rate

    assert bench.summarise([100, None, 300]) == f'median 200, range 100-300; reached by {success_rate(2, 3)} seeds'
    assert bench.summarise([None]) == 'reached by 0 of 1 (95% CI 0-79%) seeds'


def test_bench_refuses_zero_seeds():
    finished = run_command('stepsignal', 'bench', '--seeds', '0', timeout=120)
    assert finished.returncode == 2 and '--seeds' in finished.stderr


def test_scaling_runs_with_the_compact_observation():
    (row,) = bench.bench_scaling(cases=((3000, 'compact'),))
    assert 'error' not in row, row
    assert row['inputs'] == 1200  # 600 block means of each signal, not 6,000 samples
    assert row['env_step_ms'] > 0 and row['train_step_ms'] > 0


def test_peak_memory_runs_a_command_and_reports_its_status_and_peak():
    from stepsignal.experiments.peak_memory import run

    grown = run([sys.executable, '-c', 'import sys; x = bytearray(64 * 2**20); sys.exit(3)'])
    assert grown['status'] == 3 and grown['peak_kib'] > 64 * 1024  # the child's 64 MiB, not this process's


def test_stable_baselines3_is_skipped_with_a_note_when_absent(monkeypatch):
    monkeypatch.setitem(sys.modules, 'stable_baselines3', None)  # makes `import stable_baselines3` fail
    assert bench.bench_sb3() is None
    (note,) = bench.sb3_lines(None)
    assert 'skipped' in note and '.[bench]' in note


def test_bench_refuses_an_unknown_part_naming_what_is_allowed():
    finished = run_command('stepsignal', 'bench', '--only', 'her,speed', timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert "speed is not a part; allowed: env, training, efficiency, her, peers, scaling, audio" in finished.stderr


def test_only_the_chosen_parts_are_measured_and_reported(monkeypatch, capsys):
    measured = []
    monkeypatch.setattr(bench, 'bench_env', lambda steps: measured.append('env') or {'original': 10.0, 'fixed': 20.0})
    monkeypatch.setattr(bench, 'bench_scaling', lambda cases: measured.append('scaling') or [])
    assert bench.main(['--quick', '--only', 'env']) == 0
    text = capsys.readouterr().out
    assert measured == ['env']
    assert '`python -m stepsignal bench --quick --only env`' in text and '| fixed | 20 |' in text
    assert 'Training throughput' not in text and 'Sample efficiency' not in text


def test_hindsight_section_pools_each_methods_seeds_with_the_interval():
    from stepsignal.rates import success_rate

    def run(seed, rate):
        return {'seed': seed, 'unseen': {'success_rate': rate, 'scenarios': 100}, 'steps_per_second': 50.0}

    lines = bench.her_lines({'fixed DDPG --her': [run(0, 0.84), run(1, 0.9)],
                             'Stable-Baselines3 TD3 + HER': [run(0, 0.0), run(1, 0.03)]})
    assert f'| fixed DDPG --her | 84% | 90% | {success_rate(174, 200)} | 50 |' in lines
    assert f'| Stable-Baselines3 TD3 + HER | 0% | 3% | {success_rate(3, 200)} | 50 |' in lines
    assert any('skipped' in line for line in lines) is False


def test_the_peers_tables_put_each_agent_beside_the_fixed_one_with_its_interval():
    """stepsignal.experiments.peers: a row per agent and task, rates with their 95% intervals, a run
    that failed counted as a failure, the never-seen scenarios' spread over seeds."""
    from stepsignal.experiments.peers import tables
    from stepsignal.rates import success_rate

    def row(seed, success, l2, first, unseen=None):
        found = {'seed': seed, 'success': success, 'l2_distance': l2, 'first_success_env_steps': first,
                 'steps_per_second': 100.0 + seed}
        return found if unseen is None else {**found, 'unseen': {'success_rate': unseen}}

    runs = {'fixed question 0': row(0, True, 0.01, 500), 'fixed question 1': row(1, True, 0.03, 700),
            'TD3 question 0': row(0, False, 5.0, None), 'TD3 question 1': {'seed': 1, 'error': 'exit status 1'},
            'fixed scenarios 0': row(0, True, 0.2, 900, 0.91), 'fixed scenarios 1': row(1, True, 0.1, 800, 0.85),
            'TD3-zoo question 0': row(0, False, 24.0, None)}
    text = '\n'.join(tables({'runs': runs}, [0, 1]))
    assert f'| fixed | {success_rate(2, 2)} | 0.02 | 700 | 100 |' in text  # upper median of 500, 700
    assert f'| SB3 TD3 + lessons | {success_rate(0, 2)} | 5 | never | 100 |' in text
    assert f'| fixed | {success_rate(2, 2)} | 0.15 | 900 | 85% / 88% / 91% | 100 |' in text
    assert f'| SB3 TD3 zoo-tuned | {success_rate(0, 1)} | 24 | never | 100 |' in text  # a run missing: its rows only
    assert 'SAC' not in text  # not measured: no row


@pytest.mark.skipif(not importlib.util.find_spec('stable_baselines3'), reason='Stable-Baselines3 comes with the bench extra')
def test_bench_scores_the_kept_studys_best_settings_beside_the_lessons(monkeypatch):
    """bench's peers part: the zoo-tuned agents at the kept study's best settings (tuned_settings of
    benchmarks/peers/tuned) run beside the lessons' agents, and its section says where they come from."""
    from stepsignal.experiments import peers

    ran = []
    monkeypatch.setattr(peers, 'one_run', lambda agent, task, seed, steps, params=None: ran.append((agent, params)) or
                        {'seed': seed, 'success': False, 'l2_distance': 9.0, 'first_success_env_steps': None,
                         'steps_per_second': 50.0, **({'unseen': {'success_rate': 0.1}} if task == 'scenarios' else {})})
    found = peers.bench_peers([0], tasks=('question',))
    kept = peers.tuned_settings(peers.KEPT_TUNING)
    assert set(kept) == {'TD3-zoo', 'SAC-zoo'} and found['tuned'] == kept
    assert ran == [('fixed', None), ('TD3', None), ('SAC', None), ('TD3-zoo', kept['TD3-zoo']), ('SAC-zoo', kept['SAC-zoo'])]
    text = '\n'.join(bench.peers_lines({'peers': found, 'peers_seeds': [0]}))
    assert "with the kit's lessons, and tuned as the zoo tunes (--only peers)" in text
    assert '| SB3 SAC zoo-tuned |' in text and 'benchmarks/peers/tuned/report.md' in text


def test_the_peers_refuse_to_go_on_from_runs_at_other_tuned_settings(tmp_path):
    """A run's key names its agent, not its settings: going on from zoo-tuned runs made at other settings
    than the new study's best would mix them, so it is refused before any work; the same settings go on."""
    import json

    from stepsignal.experiments.peers import main, tuned_settings

    study = tmp_path / 'study.json'
    study.write_text(json.dumps(tuning_numbers([(0.2, 5.0), (0.7, 2.0)])))
    best = tuned_settings(study)['TD3-zoo']
    row = {'seed': 0, 'success': False, 'l2_distance': 9.0, 'first_success_env_steps': None, 'steps_per_second': 50.0}
    earlier = tmp_path / 'earlier.json'
    earlier.write_text(json.dumps({'machine': 'a test machine', 'date': '2026-12-07', 'runs': {'TD3-zoo question 0': row},
                                   'tuned': {'TD3-zoo': {**best, 'gamma': 0.95}}}))
    with pytest.raises(SystemExit) as exit:
        main(['--seeds', '0', '--out', str(tmp_path / 'mixed'), '--start-from', str(earlier), '--tuned', str(study),
              '--page-only'])
    assert exit.value.code == 2 and not (tmp_path / 'mixed').exists()
    earlier.write_text(json.dumps({'machine': 'a test machine', 'date': '2026-12-07', 'runs': {'TD3-zoo question 0': row},
                                   'tuned': {'TD3-zoo': best}}))
    assert main(['--seeds', '0', '--out', str(tmp_path / 'same'), '--start-from', str(earlier), '--tuned', str(study),
                 '--page-only']) == 0
    assert '| SB3 TD3 zoo-tuned |' in (tmp_path / 'same' / 'report.md').read_text()


def test_the_peers_measurement_goes_on_from_an_earlier_one(tmp_path):
    """--start-from reads an earlier run's numbers as measured; --page-only writes the page from them
    (no Stable-Baselines3 needed); a file that is not such numbers is refused before --out is made."""
    import json

    from stepsignal.experiments.peers import main

    earlier = tmp_path / 'earlier.json'
    row = {'seed': 0, 'success': True, 'l2_distance': 0.01, 'first_success_env_steps': 612, 'steps_per_second': 90.0}
    earlier.write_text(json.dumps({'machine': 'a test machine', 'date': '2026-12-07', 'runs': {'fixed question 0': row}}))
    out = tmp_path / 'out'
    assert main(['--seeds', '0', '--out', str(out), '--start-from', str(earlier), '--page-only']) == 0
    assert '| fixed | 1 of 1 (95% CI 21-100%) | 0.01 | 612 | 90 |' in (out / 'report.md').read_text()
    assert json.loads((out / 'results.json').read_text())['runs'] == {'fixed question 0': row}
    earlier.write_text('[]')
    with pytest.raises(SystemExit) as exit:
        main(['--seeds', '0', '--out', str(tmp_path / 'again'), '--start-from', str(earlier), '--page-only'])
    assert exit.value.code == 2 and not (tmp_path / 'again').exists()


def tuning_numbers(trials):
    """tune_peers' numbers holding ``trials`` of TD3: (validation share, median L2) each; None: failed to run;
    'stopped': stopped at the time budget."""
    kept = []
    for number, trial in enumerate(trials):
        params = {'gamma': 0.9, 'learning_rate': 10.0 ** -(number + 2), 'batch_size': 64, 'buffer_size': 10_000,
                  'tau': 0.005, 'train_freq': 1, 'noise_type': None, 'noise_std': 0.1, 'net_arch': 'small'}
        if trial is None:
            row, value = {'seed': 100 + number, 'error': 'exit status 1: diverged'}, None
        elif trial == 'stopped':
            row, value = {'seed': 100 + number, 'error': 'stopped after 10 minutes', 'timed_out': True}, None
        else:
            share, l2 = trial
            row = {'seed': 100 + number, 'training_steps': 4716, 'steps_per_second': 50.0,
                   'validation': {'success_rate': share, 'median_l2': l2, 'success_text': f'{share:.0%}'}}
            value = share - 1e-3 * min(l2, 100.0)
        kept.append({'number': number, 'params': params, 'value': value, 'row': row})
    return {'machine': 'a test machine', 'date': '2026-12-07', 'steps': 5000, 'trial_minutes': 10.0,
            'trials': {'TD3': kept}}


def test_a_tuning_trial_is_scored_by_its_validation_share_then_its_distance():
    """tune_peers: the share of validation scenarios solved decides, the median L2 only breaks ties;
    a run that failed has no value, and the best trial is the highest (the first of equals)."""
    from stepsignal.experiments.tune_peers import best_trial, trial_value

    solved = {'validation': {'success_rate': 0.5, 'median_l2': 3.0}}
    closer = {'validation': {'success_rate': 0.5, 'median_l2': 1.0}}
    more = {'validation': {'success_rate': 0.6, 'median_l2': 100.0}}
    assert trial_value(more) > trial_value(closer) > trial_value(solved)
    assert trial_value({'seed': 1, 'error': 'exit status 1'}) is None
    trials = tuning_numbers([(0.2, 5.0), None, (0.7, 2.0), (0.7, 2.0)])['trials']['TD3']
    assert best_trial(trials)['number'] == 2
    assert best_trial(tuning_numbers([None])['trials']['TD3']) is None


def test_the_tuning_page_shows_the_best_settings_and_every_trial(tmp_path):
    """tune_peers --start-from --page-only writes the page from kept numbers (no Optuna needed): the best trial's
    settings first, then a row per trial, a failed one with its reason; the peers take the best
    settings with --tuned, and a file that is no tuning is refused before any work."""
    import json

    from stepsignal.experiments.peers import tuned_settings
    from stepsignal.experiments.tune_peers import main

    out, earlier = tmp_path / 'tuning', tmp_path / 'earlier.json'
    numbers = tuning_numbers([(0.2, 5.0), None, (0.7, 2.0)])
    earlier.write_text(json.dumps(numbers))
    assert main(['--out', str(out), '--start-from', str(earlier), '--page-only']) == 0
    page = (out / 'report.md').read_text()
    assert '## TD3: 3 trials, 1 failed to run' in page and 'Best: trial 2' in page
    assert '| 1 | 101 | failed: exit status 1: diverged |' in page and '| 2 | 102 | 70% | 2 | 50 |' in page
    assert tuned_settings(out / 'results.json') == {'TD3-zoo': numbers['trials']['TD3'][2]['params']}
    with pytest.raises(SystemExit) as exit:  # other steps than the kept trials': refused, nothing run
        main(['--out', str(tmp_path / 'again'), '--start-from', str(earlier), '--steps', '600', '--page-only'])
    assert exit.value.code == 2 and not (tmp_path / 'again').exists()
    (tmp_path / 'other.json').write_text('{"runs": {}}')
    from stepsignal.experiments.peers import main as peers
    with pytest.raises(SystemExit) as exit:
        peers(['--seeds', '0', '--out', str(tmp_path / 'peers'), '--tuned', str(tmp_path / 'other.json'), '--page-only'])
    assert exit.value.code == 2 and not (tmp_path / 'peers').exists()


@pytest.mark.skipif(not importlib.util.find_spec('optuna'), reason='Optuna comes with the bench extra')
def test_a_trial_stopped_at_the_time_budget_is_pruned_not_failed(tmp_path):
    """A child still running at its time budget is stopped and its row says so; the study counts that
    trial as pruned (the sampler learns from it), a crash as failed, and the page tells them apart and
    names a kept trial that ran longer. A study resumed with another budget is refused before any work."""
    import json

    from optuna.trial import TrialState

    from stepsignal.experiments.kept_runs import row_from_child
    from stepsignal.experiments.tune_peers import main, study_of

    row = row_from_child('stepsignal.experiments.peers', ['TD3-zoo', 'scenarios', 3, 300, 'null', 'false'], 3,
                         timeout=0.001)  # no interpreter starts that fast
    assert row['seed'] == 3 and row['timed_out'] and 'stopped after' in row['error']
    numbers = tuning_numbers([(0.2, 5.0), 'stopped', None])
    numbers['trials']['TD3'][0]['row']['steps_per_second'] = 1.0  # ran before the budget: kept, and said
    states = [trial.state for trial in study_of('TD3', numbers['trials']['TD3']).trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL]
    earlier = tmp_path / 'earlier.json'
    earlier.write_text(json.dumps(numbers))
    assert main(['--out', str(tmp_path / 'tuning'), '--start-from', str(earlier), '--page-only']) == 0
    page = (tmp_path / 'tuning' / 'report.md').read_text()
    assert '## TD3: 3 trials, 1 stopped at the time budget, 1 failed to run' in page
    assert '| 1 | 101 | stopped at 10 minutes |' in page and '| 2 | 102 | failed: exit status 1' in page
    assert 'longer than the budget: trial 0 (79 minutes of training)' in page
    with pytest.raises(SystemExit) as exit:
        main(['--out', str(tmp_path / 'again'), '--start-from', str(earlier), '--trial-minutes', '5', '--page-only'])
    assert exit.value.code == 2 and not (tmp_path / 'again').exists()


@pytest.mark.skipif(not importlib.util.find_spec('optuna'), reason='Optuna comes with the bench extra')
def test_a_resumed_study_draws_new_settings_and_the_page_names_repeats_and_untrained_trials(tmp_path):
    """study_of: a new study is repeatable, and one resumed from its first trial does not draw that
    trial's settings again. The page names a trial whose settings repeat an earlier one's, and a
    trial whose learning_starts lies beyond its training steps (the policy scored never trained)."""
    import json

    from stepsignal.experiments.tune_peers import distributions, main, study_of

    space = distributions('TD3')
    first = study_of('TD3', []).ask(space).params
    assert study_of('TD3', []).ask(space).params == first
    kept = tuning_numbers([(0.0, 50.0)])['trials']['TD3']
    kept[0]['params'] = first
    assert study_of('TD3', kept).ask(space).params != first

    numbers = tuning_numbers([(0.0, 50.0), (0.0, 40.0), (0.0, 30.0)])
    trials = numbers['trials']['TD3']
    trials[2]['params'] = dict(trials[0]['params'])
    trials[1]['params']['learning_starts'] = 10_000  # SAC's kind of setting, beyond 4,716 training steps
    (tmp_path / 'earlier.json').write_text(json.dumps(numbers))
    assert main(['--out', str(tmp_path / 'tuning'), '--start-from', str(tmp_path / 'earlier.json'), '--page-only']) == 0
    page = (tmp_path / 'tuning' / 'report.md').read_text()
    assert 'The same settings on another seed: trial 2 repeats trial 0.' in page
    assert "Never trained (learning_starts at or beyond the run's 4,716 training steps" in page
    assert page.split('Never trained')[1].split('\n')[0].endswith('): trial 1.')


@pytest.mark.skipif(not all(importlib.util.find_spec(name) for name in ('optuna', 'stable_baselines3')),
                    reason='Optuna and Stable-Baselines3 come with the bench extra')
def test_a_short_tuning_samples_the_zoo_space_and_resumes(tmp_path):
    """Two TD3 trials of 300 steps: each samples every parameter of the zoo's space within its range,
    trains on its own seed (100 + n) and is scored on the validation scenarios; the same command
    with --trials 3 keeps both and adds one."""
    import json

    from stepsignal.experiments.tune_peers import ZOO_SPACES, main

    out = tmp_path / 'tuning'
    arguments = ['--algorithms', 'TD3', '--steps', '300', '--out', str(out)]
    assert main(arguments + ['--trials', '2']) == 0
    first = json.loads((out / 'results.json').read_text())['trials']['TD3']
    assert [trial['row']['seed'] for trial in first] == [100, 101]
    for trial in first:
        assert set(trial['params']) == set(ZOO_SPACES['TD3'])
        assert 1e-5 <= trial['params']['learning_rate'] <= 1.0
        assert trial['params']['batch_size'] in ZOO_SPACES['TD3']['batch_size'][1]
        assert 'error' in trial['row'] or trial['row']['validation']['scenarios'] == 30
    assert main(arguments + ['--trials', '3']) == 0
    again = json.loads((out / 'results.json').read_text())['trials']['TD3']
    assert again[:2] == first and len(again) == 3


@pytest.mark.skipif(not importlib.util.find_spec('stable_baselines3'), reason='Stable-Baselines3 comes with the bench extra')
def test_a_peer_run_leaves_no_log_folder_in_the_temporary_directory(tmp_path, monkeypatch):
    """SB3's learn makes an empty SB3-<date> folder in the temporary directory unless its model has a
    logger of its own: a run of the peers leaves nothing there, and still answers."""
    import tempfile

    from stepsignal.experiments.peers import peer_run

    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    row = peer_run('TD3', 'question', 0, steps=300)
    assert row['training_steps'] > 0 and row['l2_distance'] >= 0
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith('SB3-')] == []


def test_a_failed_child_is_named_by_its_error_line_not_its_last_lines():
    """kept_runs.what_went_wrong: a traceback whose message runs on for lines of numbers is named by its
    ``...Error:`` line; without one, the last three lines stand for it."""
    from stepsignal.experiments.kept_runs import what_went_wrong

    stderr = ('Traceback (most recent call last):\n  File "sac.py", line 1, in train\n'
              'ValueError: Expected parameter loc to satisfy the constraint Real(), but found invalid values:\n'
              'tensor([[nan, nan],\n        [nan, nan]])\n')
    assert what_went_wrong(stderr) == ('ValueError: Expected parameter loc to satisfy the constraint Real(), '
                                       'but found invalid values:')
    assert what_went_wrong('one\ntwo\n\nthree\nfour\n') == 'two | three | four'


@pytest.mark.skipif(not importlib.util.find_spec('stable_baselines3'), reason='Stable-Baselines3 comes with the bench extra')
@pytest.mark.parametrize('steps, checked', [(200, [100, 200]), (250, [100, 200, 250])])
def test_the_peers_check_the_last_iterate_once(steps, checked):
    """SB3's keep-best checks every ``every`` steps and the last iterate at the end, unless the last
    step was just checked: a second check of the same policy would spend the budget's steps for nothing."""
    import gymnasium
    from stable_baselines3 import SAC

    from stepsignal.experiments.peers import keep_best_callback, no_log_folder

    class NeverReached:
        def __call__(self, answering):
            return 0.0, 1.0, False

    model = no_log_folder(SAC('MlpPolicy', gymnasium.make('Pendulum-v1'), learning_starts=10_000, seed=0))
    callback = keep_best_callback(object(), NeverReached(), every=100)
    model.learn(total_timesteps=steps, callback=callback)
    assert [c['training_step'] for c in callback.checks] == checked
