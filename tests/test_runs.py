"""End-to-end runs: the command lines, repeatability, and one seeded learning run."""
import json
import os
import subprocess
import sys

import pytest

from command_line import as_a_user_runs, run_command


START_UP_NOISE = ['cuInit', 'oneDNN custom operations', 'absl::InitializeLog', 'cudart_stub', 'cpu_feature_guard',
                  'Gym has been unmaintained', 'casting to float16', 'Model.state_updates']
"""What TensorFlow, tf-keras and gym print at start-up and the kit holds back (shared/quiet.py)."""


def assert_no_start_up_noise(stderr):
    assert not [marker for marker in START_UP_NOISE if marker in stderr], stderr[-3000:]


run_module = run_command


def test_python_m_original_writes_the_question_files_and_trace(tmp_path):
    out = tmp_path / 'original'
    finished = run_module('original', '--out', str(out), fresh=True)  # a new interpreter: its start-up noise shows
    assert finished.returncode == 0, finished.stderr[-2000:]
    trace = json.loads((out / 'trace.json').read_text())
    assert [s['episode'] for s in trace['steps']] == [0] * 5 + [1] * 5
    assert [s['step'] for s in trace['steps']] == list(range(5)) * 2
    assert trace['actor_weights_changed'] is False and trace['critic_weights_changed'] is False
    assert (out / 'history_dqn_test_mem20k_heaviside_flattening.pickle').is_file()
    assert (out / 'h5f_files' / 'dqn_mem20k_heaviside_flattening_weights_actor.h5f').is_file()
    assert (out / 'h5f_files' / 'dqn_mem20k_heaviside_flattening_weights_critic.h5f').is_file()
    assert sorted(p.name for p in out.iterdir()) == ['.stepsignal-run.json', 'h5f_files',
                                                     'history_dqn_test_mem20k_heaviside_flattening.pickle', 'trace.json']
    assert finished.stdout.count('\n') > 10  # the question's print(cutoff, offset) lines still show
    assert_no_start_up_noise(finished.stderr)
    assert 'deprecated' not in finished.stderr  # the question's Adam(lr=) runs as written, without tf-keras' note


def test_python_m_fixed_rejects_bad_steps_with_a_clear_message(tmp_path):
    finished = run_module('fixed', '--out', str(tmp_path / 'f'), '--steps', '40000')
    assert finished.returncode == 2
    assert '40000' in finished.stderr and '32767' in finished.stderr
    assert 'Traceback' not in finished.stderr


def test_fixed_run_is_repeatable(fixed_run, tmp_path):
    import dataclasses

    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    first, first_out = fixed_run
    _, second = train(tmp_path, seed=0, hp=dataclasses.replace(HYPERPARAMETERS, nb_steps=300))
    timing = {'train_seconds', 'steps_per_second'}
    assert {k: v for k, v in first.items() if k not in timing} == {k: v for k, v in second.items() if k not in timing}
    assert json.loads((first_out / 'trace.json').read_text()) == json.loads((tmp_path / 'trace.json').read_text())


def test_a_command_forked_warm_is_the_command_typed_in_a_shell(tmp_path):
    """The tests' warm start (tests/command_line.py) changes no number of a run."""
    typed = run_command('fixed', '--steps', '100', '--seed', '3', '--out', tmp_path / 'typed', fresh=True)
    forked = run_command('fixed', '--steps', '100', '--seed', '3', '--out', tmp_path / 'forked')
    assert typed.returncode == forked.returncode == 0, typed.stderr[-2000:] + forked.stderr[-2000:]
    timing = {'train_seconds': 0, 'steps_per_second': 0}
    results = [json.loads((tmp_path / name / 'result.json').read_text()) | timing for name in ('typed', 'forked')]
    assert results[0] == results[1]
    assert (tmp_path / 'typed' / 'trace.json').read_bytes() == (tmp_path / 'forked' / 'trace.json').read_bytes()


@pytest.mark.learning
@pytest.mark.parametrize('world', [{}, {'TF_ENABLE_ONEDNN_OPTS': '0'}], ids=['default-kernels', 'onednn-off'])
def test_fixed_agent_learns_the_task_seed_0(world, tmp_path):
    """The default budget, seed 0, in two rounding worlds: the kept noise-free policy succeeds.

    TensorFlow's oneDNN kernels on or off round differently, enough to send a fragile setup to
    another basin (docs/results.md). Each world runs in its own process, as a user would, with
    TensorFlow's default thread count (the other tests run with one thread: tests/conftest.py).
    """
    out = tmp_path / 'fixed'
    finished = run_command('fixed', '--seed', '0', '--out', out, env=as_a_user_runs(world))
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert_no_start_up_noise(finished.stderr)
    result = json.loads((out / 'result.json').read_text())
    assert result['success'] is True
    # Seeds 0-19 in three worlds: the largest kept L2 was well below this (docs/results.md).
    assert result['l2_distance'] < 0.5
    assert result['cutoff_hz'] < 0.02  # the low-cutoff basin, not the local optimum above 0.05 Hz
    assert result['env_steps'] <= result['steps']  # the policy checks are inside the budget


@pytest.mark.parametrize('variant', ['original', 'fixed'])
@pytest.mark.parametrize('bad, message', [(['--seed', '-1'], '--seed'), (['--out-is-a-file'], 'is a file')])
def test_bad_arguments_get_a_clear_message(variant, bad, message, tmp_path):
    a_file = tmp_path / 'taken'
    a_file.write_text('not a folder')
    out = str(a_file) if bad == ['--out-is-a-file'] else str(tmp_path / 'out')
    args = ['--out', out] + ([] if bad == ['--out-is-a-file'] else bad)
    finished = run_module(variant, *args)
    assert finished.returncode == 2 and message in finished.stderr and 'Traceback' not in finished.stderr


@pytest.mark.parametrize('steps', ['1', '64', '99'])
def test_python_m_fixed_refuses_a_budget_in_which_nothing_trains(tmp_path, steps):
    finished = run_module('fixed', '--out', str(tmp_path / 'f'), '--steps', steps)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert f'steps is {steps}: it must be at least 100' in finished.stderr and not (tmp_path / 'f').exists()


def test_python_m_fixed_trains_on_keras_rl2_own_update_when_asked(tmp_path):
    """--plain-keras-rl2: the same fixed agent on keras-rl2's own update and SequentialMemory; result.json
    says which update ran, and the short run still leaves its policy and files."""
    finished = run_module('fixed', '--plain-keras-rl2', '--steps', '300', '--out', str(tmp_path / 'plain'))
    assert finished.returncode == 0, finished.stderr[-3000:]
    result = json.loads((tmp_path / 'plain' / 'result.json').read_text())
    assert result['update'] == 'keras-rl2' and result['steps_trained'] == result['training_steps']
    assert (tmp_path / 'plain' / 'policy' / 'actor.h5').is_file()
    refused = run_module('fixed', '--plain-keras-rl2', '--her', '--out', str(tmp_path / 'her'))
    assert refused.returncode == 2 and 'Traceback' not in refused.stderr and not (tmp_path / 'her').exists()
    assert "--her replays from the fast path's memory (fixed/hindsight.py): drop --plain-keras-rl2" in refused.stderr


@pytest.mark.parametrize('command', [('fixed', '--seed', '4294967296'), ('original', '--seed', '-1'),
                                     ('stepsignal', 'compare', '--seed', '4294967296')])
def test_a_seed_numpy_cannot_take_is_refused_up_front(tmp_path, command):
    module, *arguments = command
    finished = run_module(module, *arguments, '--out', str(tmp_path / 'f'))
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert 'it must be an integer from 0 to 4294967295' in finished.stderr and not (tmp_path / 'f').exists()


def test_compare_into_a_file_is_refused_in_one_line(tmp_path):
    target = tmp_path / 'report.txt'
    target.write_text('mine')
    finished = run_module('stepsignal', 'compare', '--out', str(target))
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert f"--out {str(target)!r} is a file" in finished.stderr and target.read_text() == 'mine'


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, '-c', 'import sys, time; from shared.cli import check_output_folder; '
                               f'check_output_folder({str(tmp_path)!r}); print("locked", flush=True); time.sleep(60)'],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        finished = run_module('fixed', '--out', str(tmp_path), '--steps', '100')
        assert finished.returncode == 2 and 'Traceback' not in finished.stderr
        assert 'is in use by another run' in finished.stderr
    finally:
        holder.kill()
        holder.wait()
    # The lock went with its process (the holder's marker stays: --overwrite replaces it).
    assert run_module('original', '--out', str(tmp_path), '--overwrite').returncode == 0


@pytest.mark.parametrize('old, new', [(['--input', 'x.wav', '--target-level', '0'],
                                       'python -m stepsignal process --input x.wav --target-level 0'),
                                      (['--random-scenarios', '--steps', '300'], 'python -m stepsignal scenarios --steps 300'),
                                      (['--revert', '4,6'], 'python -m stepsignal train --revert 4,6')])
def test_a_removed_spelling_is_answered_with_the_new_command(old, new, tmp_path):
    finished = run_module('fixed', *old, '--out', str(tmp_path / 'out'))
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    (line,) = finished.stderr.strip().splitlines()
    assert 'has moved' in line and new in line and not (tmp_path / 'out').exists()


def test_ablate_answers_its_old_option_name_with_the_new_command(tmp_path):
    finished = run_command('stepsignal', 'ablate', '--fixes=4,6', '--seeds', '0', '--out', tmp_path / 'out')
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    (line,) = finished.stderr.strip().splitlines()
    assert '--fixes is now --revert' in line and 'ablate --revert=4,6 --seeds 0 --out' in line
    assert not (tmp_path / 'out').exists()


def test_held_back_drops_known_noise_and_passes_the_rest(capfd):
    import re

    from shared.quiet import held_back

    with held_back(re.compile('^I0000 .*cudart_stub')):
        os.write(2, b'I0000 00:00:1 cudart_stub.cc:31] Could not find cuda drivers\n')
        os.write(2, b'E0000 something that really failed\n')
        print('a Python warning', file=sys.stderr)
    err = capfd.readouterr().err
    assert 'cudart_stub' not in err
    assert 'E0000 something that really failed' in err and 'a Python warning' in err


@pytest.mark.parametrize('command, answered', [
    (['stepsignal', 'bench', '--seeds', '10'], '--seeds takes the seeds themselves now, like 0-9 or 1,4,7, not a count: '
                                               'for the first 10, --seeds 0-9 (one seed alone: --seeds 10-10)'),
    (['stepsignal', 'bench', '--her-seeds', '5', '--only', 'her'], 'for the first 5, --her-seeds 0-4'),
    (['stepsignal.experiments.real_speech', '--seeds', '0', '1'], '--seeds takes one list now, like 0-9 or 1,4,7: '
                                                                 '--seeds 0,1'),
    (['stepsignal.experiments.held_out_clips', '--seeds', '2', '3', '--steps', '100'], '--seeds 2,3')])
def test_an_old_seed_spelling_is_answered_with_the_list_it_meant(command, answered):
    """--seeds has one grammar everywhere (0-9, 1,4,7, 0-2,5); the old count and space-separated spellings
    are answered with the new one, before any work."""
    finished = run_command(*command, timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    (line,) = finished.stderr.strip().splitlines()
    assert answered in line, line


@pytest.mark.parametrize('program', ['stepsignal bench', 'stepsignal.experiments.example_seeds',
                                     'stepsignal.experiments.example_leave_one_out', 'stepsignal.experiments.hindsight',
                                     'stepsignal.experiments.real_speech', 'stepsignal.experiments.held_out_clips',
                                     'stepsignal.experiments.peers', 'stepsignal.experiments.tune_peers',
                                     'stepsignal.experiments.sparse_her'])
def test_a_page_for_out_is_answered_with_the_folder_to_give(program, tmp_path):
    """--out is the folder a run owns in every command; the measurement programs' old page spelling
    (--out PAGE.md) is answered with the folder, in one line, before any work, and nothing is written."""
    finished = run_command(*program.split(), '--out', tmp_path / 'HER.md', timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    (line,) = finished.stderr.strip().splitlines()
    folder = tmp_path / 'HER'
    assert f'--out is the folder the run owns now, not its page: --out {folder} writes {folder}/report.md' in line, line
    assert not list(tmp_path.iterdir())


def test_seed_lists_are_written_as_they_are_read():
    from shared.cli import seeds_argument, seeds_text

    for text in ('0-9', '1,4,7', '0-2,5', '3', '0-1,3-4,9'):
        assert seeds_text(seeds_argument(text)) == text
