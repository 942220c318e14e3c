"""The benchmark's parts run and measure what they say (speed itself is never asserted)."""
import sys

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
