"""examples/question_fixed.py: the question's script fixed in plain keras-rl2, as a user runs it.

How often it learns at its full budget is measured, not tested (benchmarks/your_script/EXAMPLE_SEEDS*.md);
here: it stands alone, its env keeps the fixes' promises, the doctor finds nothing in it, and a
short run trains and answers in the promised form.
"""
import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from command_line import run_command

EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'question_fixed.py'
PLAIN = {'argparse', 'json', 'logging', 'os', 'random', 'warnings', 'numpy', 'scipy', 'tensorflow', 'tf_keras', 'gymnasium', 'rl'}
"""What a plain keras-rl2 script may import: the standard library's few, the stack, nothing of the kit."""


def fresh_example():
    """The example as a module of its own, loaded anew."""
    spec = importlib.util.spec_from_file_location('question_fixed', EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def example():
    return fresh_example()


def test_it_imports_nothing_of_the_kit():
    tree = ast.parse(EXAMPLE.read_text())
    imported = {alias.name.split('.')[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split('.')[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= PLAIN, imported - PLAIN


def test_its_env_maps_the_whole_action_range_and_keeps_the_goal_contract(example):
    env = example.StepSignal(*example.question_scenario())
    assert env.physical(np.array([-1.0, -1.0])) == pytest.approx((env.low[0], env.low[1]))  # FIX-1
    assert env.physical(np.array([1.0, 1.0])) == pytest.approx((env.high[0], env.high[1]))
    env.reset()
    observation, reward, terminated, truncated, info = env.step(np.array([0.2, -0.3]))
    assert reward == pytest.approx(float(env.compute_reward(observation['achieved_goal'],  # FIX-9
                                                            observation['desired_goal'], info)))
    batch = env.compute_reward(np.stack([observation['achieved_goal']] * 3), np.stack([env.desired_signal] * 3), None)
    assert batch.shape == (3,) and batch == pytest.approx(reward)
    again = env.step(np.array([0.2, -0.3]))[0]['achieved_goal']
    assert np.array_equal(again, observation['achieved_goal'])  # FIX-2: the same action, the same signal
    lowest = env.step(np.array([-1.0, 0.0]))[4]  # FIX-8: at 1e-3 Hz the filtered step is its first level, 4
    assert lowest['cutoff_hz'] == pytest.approx(1e-3) and np.allclose(env.signal + lowest['offset'], 4.0, atol=1e-3)


def test_the_doctor_finds_nothing_in_it(tmp_path):
    finished = run_command('stepsignal', 'diagnose', EXAMPLE, '--seed', '0', cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert '0 errors, 0 warnings' in finished.stdout + finished.stderr


def test_a_short_run_trains_and_answers_in_its_last_line(tmp_path):
    finished = subprocess.run([sys.executable, str(EXAMPLE), '--seed', '0', '--steps', '400', '--history',
                               str(tmp_path / 'history.json')], capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    words = finished.stdout.strip().splitlines()[-1].split()
    assert words[0::2] == ['cutoff', 'offset', 'L2']
    cutoff, offset, l2 = map(float, words[1::2])
    assert 1e-3 <= cutoff <= 0.99 * 15 and -2 <= offset <= 2 and np.isfinite(l2)
    assert (tmp_path / 'history.json').stat().st_size > 0


def test_each_change_the_leave_one_out_undoes_puts_back_the_questions_behaviour():
    """stepsignal.experiments.example_leave_one_out: each patch changes what it names, as the question had it."""
    from stepsignal.experiments.example_leave_one_out import UNDONE

    def env_of(module):
        return module.StepSignal(*module.question_scenario())

    fixed = fresh_example()
    for change, (_, undo) in UNDONE.items():
        module = fresh_example()
        before = {name: value for name, value in vars(module).items() if not name.startswith('__')}
        classes = {name: dict(vars(value)) for name, value in before.items() if isinstance(value, type)}
        undo(module)
        after = {name: value for name, value in vars(module).items() if not name.startswith('__')}
        changed = [name for name in after if after[name] is not before.get(name)]
        changed += [name for name, members in classes.items() if dict(vars(after[name])) != members]
        assert changed, f'{change} undid nothing'
        if change in ('FIX-1', 'FIX-2', 'FIX-8', 'FIX-21'):
            env, reference = env_of(module), env_of(fixed)
            env.reset(), reference.reset()
            steps = [env.step(np.array([-0.9, 0.5]))[4] for _ in range(2)]
            expected = [reference.step(np.array([-0.9, 0.5]))[4] for _ in range(2)]
            if change == 'FIX-1':  # the question's linear map without `low`: -0.9 is a cutoff of 0.75 Hz, not 0.003
                assert steps[0]['cutoff_hz'] == pytest.approx((15 - 0.1 - 1e-3) / 2 * 0.1)
            if change == 'FIX-2':  # the second step filters the first one's output: another signal
                assert steps[0]['l2_distance'] != steps[1]['l2_distance']
                assert expected[0]['l2_distance'] == expected[1]['l2_distance']
            if change == 'FIX-8':  # the (b, a) filter at a low cutoff is another signal
                assert steps[0]['l2_distance'] != pytest.approx(expected[0]['l2_distance'], rel=1e-6)
            if change == 'FIX-21':  # the L2 distance, sqrt(600) times the RMS error
                achieved, desired = env.signal, env.desired_signal
                assert env.compute_reward(achieved, desired, None) == pytest.approx(
                    np.sqrt(600) * reference.compute_reward(achieved, desired, None), rel=1e-5)
