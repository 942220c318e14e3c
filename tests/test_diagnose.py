"""stepsignal.doctor.diagnose: each check on a deliberately broken setup and on its healthy twin.

The broken setups are the question's own (original/) or one change away from the fixed one;
the healthy twins are fixed/'s.
"""

from pathlib import Path

import numpy as np
import pytest

from command_line import run_command
from stepsignal.doctor import diagnose as dg


@pytest.fixture(scope='module')
def question():
    """The question's agent and the env it hands to fit, with its script's variables."""
    from original.agent import build_agent
    from original.train import make_env

    env = make_env()
    agent, policy = build_agent(env)
    return dg.Setup(agent, env, nb_steps=10, nb_max_episode_steps=5, namespace={'policy': policy})


@pytest.fixture(scope='module')
def healthy():
    from fixed.agent import build_agent
    from fixed.train import make_env

    env = make_env()
    agent = build_agent(env, training_steps=5000, reference_observation=env.reset())
    return dg.Setup(agent, env, nb_steps=5000)


def bugs(findings):
    return {f.bug for f in findings}


def test_question_setup_reports_each_bug_it_can_see(question):
    findings = dg.diagnose(question.agent, question.env, nb_steps=10, nb_max_episode_steps=5,
                           namespace=question.namespace)
    assert bugs(findings) == {1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 17, 18, 19, 21, 23}
    assert {f.bug for f in findings if f.severity == dg.ERROR} == {4, 9}
    assert findings[0].severity == dg.ERROR  # errors first
    text = str(findings[0])
    assert 'measured:' in text and 'expected:' in text and 'docs/bugs.md#bug-' in text


STEP_IN_YOUR_SCRIPT = {
    1: 'low + (a + 1) / 2 * (high - low)', 4: 'max(batch_size, min(200, nb_steps // 10))', 5: 'limit=nb_steps',
    6: 'tanh', 11: 'Gaussian', 12: "the env's own time limit", 17: 'centres and scales', 18: 'select_action',
    21: 'RMS', 23: 'layer of its own',
}
"""For each finding that touches learning: words its ``expected`` line and docs/your_script.md share."""


def test_each_finding_on_the_question_is_a_step_of_docs_your_script_md(question):
    """What diagnose expects is what docs/your_script.md (and examples/question_fixed.py) does."""
    findings = dg.diagnose(question.agent, question.env, nb_steps=10, nb_max_episode_steps=5,
                           namespace=question.namespace)
    page = ' '.join((Path(__file__).parents[1] / 'docs' / 'your_script.md').read_text().split())
    for finding in findings:
        assert f'bugs.md#bug-{finding.bug}' in page, finding
        words = STEP_IN_YOUR_SCRIPT.get(finding.bug)
        if words is not None:
            assert words in finding.expected and words in page, (words, finding.expected)
    assert set(STEP_IN_YOUR_SCRIPT) <= bugs(findings)


def test_fixed_setup_reports_nothing(healthy):
    assert dg.diagnose(healthy.agent, healthy.env, nb_steps=5000) == []


@pytest.mark.parametrize('check, bug', [
    (dg.check_warmups, 4), (dg.check_memory, 5), (dg.check_actor_output, 6), (dg.check_actor_saturation, 17),
    (dg.check_critic_inputs, 23), (dg.check_noise, 11), (dg.check_policy, 13), (dg.check_keras_rl_internals, 18),
    (dg.check_action_mapping, 1), (dg.check_float16, 7), (dg.check_episode_end, 3),
    (dg.check_observation_space, 10), (dg.check_goal_contract, 9), (dg.check_env_step, 14),
])
def test_check_finds_the_bug_in_the_question_and_nothing_in_the_fix(check, bug, question, healthy):
    assert bug in bugs(check(question))
    assert check(healthy) == []


def test_step_counter_beyond_int16(healthy):
    too_long = dg.Setup(healthy.agent, healthy.env, nb_steps=40000)
    (finding,) = dg.check_step_counter(too_long)
    assert finding.severity == dg.ERROR and finding.bug == 15 and '40000' in finding.measured
    assert dg.check_step_counter(dg.Setup(healthy.agent, healthy.env, nb_steps=32767)) == []


def test_window_length_mismatch(question, healthy):
    from rl.memory import SequentialMemory

    memory = question.agent.memory
    question.agent.memory = SequentialMemory(limit=2000, window_length=2)
    try:
        (finding,) = dg.check_window_length(question)
    finally:
        question.agent.memory = memory
    assert finding.severity == dg.ERROR and finding.bug == 20
    assert dg.check_window_length(healthy) == []


def test_float16_bound_on_nyquist_is_an_error():
    from original.env import FlattenDictWrapper, StepSignal

    rate = 16000
    x = np.linspace(0, 1, rate)
    env = FlattenDictWrapper(StepSignal(0.5 * (np.sign(x - 0.5) + 9), rate, 3 * np.ones(rate)),
                             dict_keys=['observation', 'desired_goal'])
    findings = dg.check_float16(dg.Setup(agent=None, env=env))
    assert [f.severity for f in findings] == [dg.WARNING, dg.ERROR] and {f.bug for f in findings} == {7}


def test_discount_on_a_contextual_bandit(healthy):
    healthy.agent.gamma = 0.99
    try:
        (finding,) = dg.check_discount(healthy)
    finally:
        healthy.agent.gamma = 0.0
    assert finding.bug == 22
    assert dg.check_discount(healthy) == []


def test_time_limit_as_terminal(question, healthy):
    assert 12 in bugs(dg.check_time_limit(question))
    assert 12 not in bugs(dg.check_time_limit(healthy))


def test_the_env_s_own_time_limit_stored_as_terminal_by_stock_keras_rl2(question):
    from types import SimpleNamespace

    class Limited:
        def __init__(self, limit):
            self._max_episode_steps = limit

    def dqn(gamma):
        return SimpleNamespace(model=object(), policy=object(), gamma=gamma)

    (finding,) = dg.check_time_limit(dg.Setup(dqn(0.99), Limited(200)))
    assert finding.bug == 12 and 'a time limit of 200 steps in the env, gamma=0.99' == finding.measured
    assert 'the time left in the observation' in finding.expected and '10 / (1 - gamma) = 1000 steps' in finding.expected
    assert dg.check_time_limit(dg.Setup(dqn(0.0), Limited(200))) == []  # nothing bootstrapped
    assert dg.check_time_limit(dg.Setup(dqn(0.99), Limited(None))) == []


def test_an_epsilon_that_hardly_explores_is_a_warning(question):
    from types import SimpleNamespace

    from rl.policy import EpsGreedyQPolicy, LinearAnnealedPolicy

    def dqn(policy):
        return dg.Setup(SimpleNamespace(model=object(), policy=policy), question.env)

    (finding,) = dg.check_exploration(dqn(EpsGreedyQPolicy(eps=0.001)))
    assert finding.measured == 'EpsGreedyQPolicy(eps=0.001)' and 'once in 1,000 steps' in finding.message
    assert dg.check_exploration(dqn(EpsGreedyQPolicy())) == []  # keras-rl's default, 0.1
    annealed = LinearAnnealedPolicy(EpsGreedyQPolicy(), attr='eps', value_max=1.0, value_min=0.1, value_test=0.05,
                                    nb_steps=1000)
    assert dg.check_exploration(dqn(annealed)) == []
    timid = LinearAnnealedPolicy(EpsGreedyQPolicy(), attr='eps', value_max=0.01, value_min=0.001, value_test=0.0,
                                 nb_steps=1000)
    assert len(dg.check_exploration(dqn(timid))) == 1 and dg.check_exploration(question) == []


def test_an_env_without_an_action_space_skips_the_probes_in_one_warning(healthy):
    """keras-rl needs no env.action_space (2018 scripts wrote plain classes); the probes need one to act."""
    class Plain:
        def __init__(self, env):
            self.env = env

        def reset(self):
            return self.env.reset()

        def step(self, action):
            return self.env.step(action)

    findings = dg.diagnose(healthy.agent, Plain(healthy.env), nb_steps=5000)
    assert [f.check for f in findings] == ['env probes'], [str(f) for f in findings]
    assert 'no action_space' in findings[0].measured and 'episode_end' in findings[0].message


class _Passing:
    """The fixed env behind a wrapper of gym < 0.9's shape, for the probes' failures."""

    def __init__(self, env):
        self.env = env
        self.action_space, self.observation_space = env.action_space, env.observation_space

    def reset(self):
        return self.env.reset()

    def step(self, action):
        return self.env.step(action)


def test_a_reset_that_returns_none_is_said_once_and_draws_no_finding(healthy):
    """A probe that fails says so: no window-length error or object dtype drawn from a None observation."""
    class OldUnderscoreAPI(_Passing):
        def _reset(self):  # gym < 0.9 called this; today's gym calls reset
            return self.env.reset()

        def reset(self):
            self._reset()

    findings = dg.diagnose(healthy.agent, OldUnderscoreAPI(healthy.env), nb_steps=5000)
    assert [f.check for f in findings] == ['env probes'], [str(f) for f in findings]
    assert 'reset() returned None' in findings[0].measured and '_reset' in findings[0].measured
    assert findings[0].expected == 'reset() returning the first observation'


def test_an_env_that_cannot_be_copied_whole_is_not_called_one_without_an_action_space(healthy):
    class Slotted:
        __slots__ = ('inner', '__dict__')  # the copy's fallback copies __dict__ only: inner is lost

        def __init__(self, env):
            self.inner = env

        def __getattr__(self, name):  # asks for self.inner, which a copy under construction lacks
            return getattr(self.inner, name)

        def reset(self):
            return self.inner.reset()

        def step(self, action):
            return self.inner.step(action)

    findings = dg.diagnose(healthy.agent, Slotted(healthy.env), nb_steps=5000)
    probes = [f for f in findings if f.check == 'env probes']
    assert len(probes) == 1 and 'cannot be copied whole' in probes[0].measured, [str(f) for f in findings]
    assert not any('no action_space' in f.measured for f in findings)


def test_an_env_that_ends_its_episodes_after_the_first_hundreds_of_steps_is_seen_to_end(healthy):
    class EndsAt301(_Passing):
        def reset(self):
            self.steps = 0
            return self.env.reset()

        def step(self, action):
            observation, reward, done, info = self.env.step(action)
            self.steps += 1
            return observation, reward, self.steps >= 301, {}

    assert dg.check_episode_end(dg.Setup(healthy.agent, EndsAt301(healthy.env))) == []

    class NeverEnds(EndsAt301):
        def step(self, action):
            return (*super().step(action)[:2], False, {})

    (finding,) = dg.check_episode_end(dg.Setup(healthy.agent, NeverEnds(healthy.env)), probe_steps=400)
    assert 'in 400 steps' in finding.message and 'only after step 400 is not seen here' in finding.message


def test_a_q_network_ending_in_softmax_is_a_warning_and_a_linear_one_is_not(question):
    from types import SimpleNamespace

    from tensorflow.keras.layers import Dense, Flatten
    from tensorflow.keras.models import Sequential

    def dqn(activation):
        model = Sequential([Flatten(input_shape=(1, 4)), Dense(8, activation='relu'), Dense(2, activation=activation)])
        return dg.Setup(SimpleNamespace(model=model, policy=object(), nb_actions=2), question.env)

    (finding,) = dg.check_q_values(dqn('softmax'))
    assert finding.severity == dg.WARNING and "activation='linear'" in finding.expected
    assert dg.check_q_values(dqn('linear')) == [] and dg.check_q_values(question) == []  # DDPG: no Q-network of DQN's


def test_an_output_that_keeps_the_window_dimension_is_told_to_flatten(question):
    from types import SimpleNamespace

    from tensorflow.keras.layers import Dense
    from tensorflow.keras.models import Sequential

    model = Sequential([Dense(8, activation='relu', input_shape=(1, 4)), Dense(2)])  # (None, 1, 2)
    (finding,) = dg.check_output_shape(dg.Setup(SimpleNamespace(nb_actions=2, model=model, actor=None), question.env))
    assert 'output shape (None, 1, 2)' in finding.measured and 'add Flatten() before the last Dense' in finding.expected


def test_an_actor_with_more_outputs_than_actions_is_an_error_that_names_the_shapes(question):
    from types import SimpleNamespace

    from tensorflow.keras.layers import Dense, Flatten
    from tensorflow.keras.models import Sequential

    actor = Sequential([Flatten(input_shape=(1, 4)), Dense(3)])
    (finding,) = dg.check_output_shape(dg.Setup(SimpleNamespace(nb_actions=2, actor=actor), question.env))
    assert finding.severity == dg.ERROR and finding.measured == 'output shape (None, 3), nb_actions=2'
    assert dg.check_output_shape(question) == []  # the question's actor gives its 2 actions


def test_a_check_that_crashes_becomes_a_warning(healthy):
    class Odd:
        pass

    findings = dg.diagnose(Odd(), healthy.env, nb_steps=10)
    assert all(f.severity == dg.WARNING for f in findings)


def diagnose_cli(*args, cwd):
    return run_command('stepsignal', 'diagnose', *args, cwd=cwd)


def test_cli_on_the_question_script_reports_errors_and_does_not_train(tmp_path):
    finished = diagnose_cli('-m', 'original', '--out', str(tmp_path / 'run'), cwd=tmp_path)
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert 'ERROR BUG-4 [warmups]' in finished.stdout and 'WARNING BUG-13 [discrete policy]' in finished.stdout
    assert not (tmp_path / 'run' / 'trace.json').exists()  # stopped before training
    # docs/diagnose.md shows this output: the same findings, worded the same, in the same order
    page = (Path(__file__).parents[1] / 'docs' / 'diagnose.md').read_text()
    shown = page[page.index('## On the question\'s setup, as is'):].split('```text\n', 1)[1].split('```', 1)[0]

    def headlines(text):
        return [line for line in text.splitlines()
                if line.startswith(('ERROR', 'WARNING')) or line.endswith(' warnings')]
    assert headlines(shown) == headlines(finished.stdout)


def test_cli_on_a_script_file_with_continue_trains_afterwards(tmp_path):
    script = tmp_path / 'train.py'
    script.write_text('import sys\nfrom original.train import train\ntrain(sys.argv[1])\n')
    finished = diagnose_cli('--continue', str(script), str(tmp_path / 'run'), cwd=tmp_path)
    assert finished.returncode == 1, finished.stderr[-2000:]
    assert (tmp_path / 'run' / 'trace.json').exists()  # the training went on


def test_cli_on_the_fixed_setup_exits_zero(tmp_path):
    finished = diagnose_cli('-m', 'fixed', '--out', str(tmp_path / 'run'), cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert '0 errors, 0 warnings' in finished.stdout


def test_cli_refuses_a_missing_script(tmp_path):
    finished = diagnose_cli(str(tmp_path / 'nowhere.py'), cwd=tmp_path)
    assert finished.returncode == 2 and 'nowhere.py' in finished.stderr and 'Traceback' not in finished.stderr


@pytest.mark.parametrize('limit, gamma, warned', [(500, 0.99, True), (999, 0.99, True), (1000, 0.99, False),
                                                  (5000, 0.99, False), (5000, 0.9999, True), (200, 0.0, False)])
def test_the_envs_own_time_limit_is_said_only_within_ten_horizons(limit, gamma, warned):
    """A time limit stored as terminal matters when episodes reach it within a few horizons, 1 / (1 - gamma)
    steps; one of at least ten horizons (the finding's own remedy) draws no warning."""
    from types import SimpleNamespace

    setup = SimpleNamespace(env_time_limit=lambda: limit, agent=SimpleNamespace(gamma=gamma))
    findings = dg._env_time_limit_as_terminal(setup, 'the Q-network')
    assert bool(findings) == warned, findings
    if warned:
        assert findings[0].bug == 12 and f'a time limit of {limit} steps in the env' in findings[0].measured


@pytest.mark.parametrize('start, warned', [(-2, True), (1, True), (0, False)])
def test_a_discrete_space_that_does_not_start_at_zero_is_said(start, warned):
    """keras-rl's DQN hands step action indices 0 to n - 1; a space that starts elsewhere disagrees with it."""
    from types import SimpleNamespace

    import gym

    setup = SimpleNamespace(env=SimpleNamespace(action_space=gym.spaces.Discrete(5, start=start)))
    findings = dg.check_discrete_start(setup)
    assert bool(findings) == warned, findings
    if warned:
        assert f'Discrete(5, start={start})' in findings[0].measured and '0 to 4' in findings[0].message


class _Lander:
    """A discrete env whose random steps earn 0, or -100 on a crash (one step in ten), old API."""

    def __init__(self, crash=-100.0):
        import gym

        self.action_space, self.crash, self.t = gym.spaces.Discrete(2), crash, 0
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)

    def reset(self):
        self.t = 0
        return np.zeros(2, np.float32)

    def step(self, action):
        self.t += 1
        return np.zeros(2, np.float32), self.crash if self.t % 10 == 0 else 0.0, self.t % 10 == 0, {}


@pytest.mark.parametrize('tau, crash, warned', [(1.0, -100.0, True), (10.0, -100.0, False), (1.0, -2.0, False)])
def test_a_boltzmann_temperature_far_below_the_rewards_spread_is_said(tau, crash, warned):
    """tau=1 against rewards 100 apart: greedy once learnt (e^100); tau=10, or rewards 2 apart, still explore."""
    from types import SimpleNamespace

    from rl.policy import BoltzmannQPolicy

    agent = SimpleNamespace(model=object(), policy=BoltzmannQPolicy(tau=tau), processor=None)
    findings = dg.check_exploration(dg.Setup(agent, _Lander(crash)))
    assert bool(findings) == warned, findings
    if warned:
        assert 'tau=1; rewards from -100 to 0 in 200 random steps' == findings[0].measured
        assert 'e^100' in findings[0].message and 'BoltzmannQPolicy(tau=5)' in findings[0].expected
