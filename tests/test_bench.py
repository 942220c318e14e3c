"""The benchmark's parts run and measure what they say (speed itself is never asserted)."""
import sys

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
            'fixed scenarios 0': row(0, True, 0.2, 900, 0.91), 'fixed scenarios 1': row(1, True, 0.1, 800, 0.85)}
    text = '\n'.join(tables({'runs': runs}, [0, 1]))
    assert f'| fixed | {success_rate(2, 2)} | 0.02 | 700 | 100 |' in text  # upper median of 500, 700
    assert f'| SB3 TD3 + lessons | {success_rate(0, 2)} | 5 | never | 100 |' in text
    assert f'| fixed | {success_rate(2, 2)} | 0.15 | 900 | 85% / 88% / 91% | 100 |' in text
    assert 'SAC' not in text  # not measured: no row


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
