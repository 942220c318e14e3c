"""One switch per fix (``python -m stepsignal train --revert N``): each switch brings back its bug, and only while it is on.

Each ``test_revert_*`` asserts, through the switch, what that bug's ``test_bug_n_*`` asserts on
the original. The ablation over seeds is ``python -m stepsignal ablate`` (docs/ablation.md); its
tiny grid runs on a Ray head in tests/test_cluster.py.
"""
import dataclasses
import json

import numpy as np
import pytest

from command_line import run_command
from stepsignal.catalogue import BUGS
from stepsignal.reverts import NOT_SWITCHABLE, REVERTS, parse_fix_list, reverted, reverted_hyperparameters


def fixed_env(scenario, **kwargs):
    from fixed.env import StepSignal

    return StepSignal(scenario.input_signal, scenario.sample_rate, scenario.desired_signal, **kwargs)


def agent_for(fixes, training_steps=300):
    """The agent ``fixed.train`` would build with ``fixes`` reverted, and its env."""
    import fixed.train
    from fixed.hyperparameters import HYPERPARAMETERS
    from shared.seeding import seed_everything

    hp = reverted_hyperparameters(HYPERPARAMETERS, fixes)
    seed_everything(0)
    env = fixed.train.make_env()
    with reverted(fixes):
        agent = fixed.train.build_agent(env, hp, training_steps, reference_observation=env.reset())
    return agent, env


def test_every_fix_has_a_switch_or_a_reason():
    fixes = {f'FIX-{bug.number}' for bug in BUGS}
    assert fixes == {key for key in set(REVERTS) | set(NOT_SWITCHABLE) if key.startswith('FIX-')}
    assert not set(REVERTS) & set(NOT_SWITCHABLE)


def test_fix_lists_are_read_as_tags_and_bad_ones_refused_by_name():
    assert parse_fix_list('23, 4,FIX-6,i2') == ('FIX-4', 'FIX-6', 'FIX-23', 'IMPROVEMENT-2')
    assert parse_fix_list('') == ()
    with pytest.raises(ValueError, match='FIX-13 has no switch: .*never used'):
        parse_fix_list('13')
    with pytest.raises(ValueError, match="'99' is not a fix with a switch; those are FIX-1, "):
        parse_fix_list('4,99')


def test_a_switch_holds_only_while_its_run_lasts(scenario):
    import fixed.agent
    import fixed.env
    import fixed.keras_rl2_fixes
    import fixed.train

    before = {(owner, name): getattr(owner, name) for owner, name in [
        (fixed.env.StepSignal, 'physical_action'), (fixed.env.StepSignal, 'step'), (fixed.env, 'butter_lowpass_filter'),
        (fixed.agent, 'build_actor'), (fixed.train, 'build_agent'), (fixed.keras_rl2_fixes.FixedDDPGAgent, 'select_action')]}
    with reverted(tuple(REVERTS)):
        assert fixed.env.StepSignal.physical_action is not before[(fixed.env.StepSignal, 'physical_action')]
    assert {key: getattr(*key) for key in before} == before


def test_revert_1_the_offset_is_never_negative(scenario):
    with reverted(('FIX-1',)):
        env = fixed_env(scenario)
        offsets = [env.physical_action([0.0, raw])[1] for raw in np.linspace(-1, 1, 21)]
    assert min(offsets) == 0.0 and max(offsets) == pytest.approx(2.0)  # as test_bug_1: half the range lost


def test_revert_2_the_same_action_twice_gives_two_signals(scenario):
    with reverted(('FIX-2',)):
        env = fixed_env(scenario)
        env.reset()
        first, *_ = env.step(np.array([-0.5, -0.9]))
        second, *_ = env.step(np.array([-0.5, -0.9]))
    assert not np.allclose(first['achieved_goal'], second['achieved_goal'])
    np.testing.assert_array_equal(second['observation'], second['achieved_goal'])  # it sees its own output


def test_revert_3_success_does_not_end_the_episode(scenario):
    with reverted(('FIX-3',)):
        env = fixed_env(scenario)
        env.reset()
        best = [-1.0, 1.0 / env.physical_high[1]]  # the lowest cutoff, offset 1.0: success
        for step in range(1, env.max_episode_steps + 1):
            _, _, terminated, truncated, info = env.step(np.array(best))
            assert info['is_success'] and not terminated  # as test_bug_3: success ends nothing
            assert truncated == (step == env.max_episode_steps)  # only the caller's step limit does


def test_revert_4_a_short_fit_changes_no_weight(tmp_path):
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    with reverted(('FIX-4',)):
        agent, _ = train(tmp_path, seed=0, hp=dataclasses.replace(HYPERPARAMETERS, nb_steps=300))
    trace = json.loads((tmp_path / 'trace.json').read_text())
    assert (agent.nb_steps_warmup_critic, agent.nb_steps_warmup_actor) == (2000, 10000)
    assert trace['actor_weights_changed'] is False and trace['critic_weights_changed'] is False


def test_revert_5_6_11_17_22_23_build_the_questions_pieces():
    from rl.random import OrnsteinUhlenbeckProcess

    agent, env = agent_for(('FIX-5', 'FIX-6', 'FIX-11', 'FIX-17', 'FIX-22', 'FIX-23'))
    assert agent.memory.limit == 2000  # BUG-5
    assert agent.actor.layers[-1].get_config()['activation'] == 'linear' and agent.saturation_penalty == 0.0  # BUG-6
    assert isinstance(agent.random_process, OrnsteinUhlenbeckProcess) and agent.random_process.theta == 0.6  # BUG-11
    observation = env.reset()
    np.testing.assert_array_equal(agent.processor.process_observation(observation), observation)  # BUG-17: raw
    assert (agent.gamma, agent.target_model_update) == (0.99, 1e-3)  # BUG-22
    first_dense = next(layer for layer in agent.critic.layers if layer.name.startswith('dense'))
    assert first_dense.kernel.shape[0] == 1202  # BUG-23: the action is 2 of 1,202 inputs


def test_revert_7_the_bounds_are_rounded_through_float16(scenario):
    with reverted(('FIX-7',)):
        env = fixed_env(scenario)
    assert env.physical_high[0] == 14.8984375  # 14.9, the question's Nyquist - 0.1, rounded to float16
    assert env.physical_low[0] == float(np.float16(1e-3)) != 1e-3


def test_revert_8_the_lowest_cutoff_gives_a_level_no_low_pass_can(scenario):
    with reverted(('FIX-8',)):
        env = fixed_env(scenario)
        env.reset()
        _, _, _, _, info = env.step(np.array([-1.0, 0.0]))
    assert info['cutoff_hz'] == pytest.approx(1e-3) and env.signal.mean() > 5.5  # as test_bug_8: above the input's 5


def test_revert_12_time_limits_are_stored_as_terminal(scenario):
    from fixed.agent import build_agent
    from fixed.hyperparameters import HYPERPARAMETERS
    from stepsignal.own_signal.any_signal import make_env

    assert REVERTS['FIX-12'].patch is None  # the switch is the table's values, nothing else
    hp = reverted_hyperparameters(HYPERPARAMETERS, ('FIX-12',))
    assert (hp.max_episode_steps, hp.time_limit_is_terminal) == (5, True)  # the question's, from its table
    env = make_env(scenario, distance_threshold=1e-9, time_limit=hp.max_episode_steps)  # never succeeds
    agent = build_agent(env, hp, training_steps=30, reference_observation=env.reset())
    agent.fit(env, nb_steps=30, verbose=0)
    terminals = agent.memory.terminals1[:agent.memory.nb_entries]
    assert terminals.sum() == 6 and terminals[4::5].all()  # as test_bug_12: each time limit, as terminal


def test_revert_18_actions_beyond_the_range_are_stored():
    agent, env = agent_for(('FIX-18',), training_steps=200)
    with reverted(('FIX-18',)):
        agent.fit(env, nb_steps=200, verbose=0)
    assert np.abs(agent.memory.actions[:agent.memory.nb_entries]).max() > 1.0  # sigma 0.6 noise, unclipped


def test_revert_21_the_reward_grows_with_the_signals_length(scenario):
    with reverted(('FIX-21',)):
        env = fixed_env(scenario)
        env.reset()
        _, reward, _, _, info = env.step(np.array([0.0, 0.0]))
    assert reward == pytest.approx(-info['l2_distance'])


def test_revert_improvements_take_the_originals_numbers():
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.keep_best import split_budget

    hp = reverted_hyperparameters(HYPERPARAMETERS, ('IMPROVEMENT-1', 'IMPROVEMENT-2', 'IMPROVEMENT-3'))
    assert (hp.check_every, hp.actor_learning_rate, hp.gradient_steps) == (None, 1e-3, 1)
    assert split_budget(5000, hp.check_every, 1) == (4999, 0)  # one check, of the last iterate


def test_reverting_nothing_is_the_fixed_run(fixed_run, tmp_path):
    from stepsignal.experiments.train import main

    result, out = fixed_run
    assert main(['--out', str(tmp_path), '--steps', '300']) == 0
    again = json.loads((tmp_path / 'result.json').read_text())
    assert again.pop('reverted') == []
    timing = {'train_seconds', 'steps_per_second'}
    assert {k: v for k, v in again.items() if k not in timing} == {k: v for k, v in result.items() if k not in timing}
    assert (tmp_path / 'trace.json').read_text() == (out / 'trace.json').read_text()


def test_train_refuses_a_fix_without_a_switch(tmp_path):
    finished = run_command('stepsignal', 'train', '--out', tmp_path / 'x', '--revert', '4,16', timeout=120)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr
    assert 'FIX-16 has no switch' in finished.stderr and not (tmp_path / 'x').exists()


def test_resume_keeps_only_runs_that_match_the_grid(tmp_path):
    from stepsignal.experiments.ablation import finished_as_planned
    from stepsignal.experiments.runner import Run

    run = Run('runs/x/seed-3', ('stepsignal', 'train'), ('--seed', '3', '--revert', 'FIX-6,FIX-4'))
    (tmp_path / 'result.json').write_text(json.dumps({'seed': 3, 'steps': 5000, 'reverted': ['FIX-4', 'FIX-6']}))
    assert finished_as_planned(tmp_path, run, None)
    assert not finished_as_planned(tmp_path, run, 300)  # another budget
    assert not finished_as_planned(tmp_path, run._replace(arguments=('--seed', '3')), None)  # other fixes
    assert not finished_as_planned(tmp_path / 'missing', run, None)
