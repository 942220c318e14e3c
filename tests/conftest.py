"""Shared fixtures: the question's scenario, its envs, one short run of the fixed setup; how the tests run."""
import os

from command_line import ONE_THREAD

# One TensorFlow thread per process, in this process and in every command and Ray head a test starts:
# two test processes and the runs they start share two cores, and TensorFlow's pools of one thread
# per core each made them fight over them (benchmarks/speed/TESTS.md). The thread count is part of the
# rounding world, so the learning tests take it out again and train as a user does (tests/test_runs.py).
os.environ.update(ONE_THREAD)

from shared import keras_rl  # noqa: E402,F401  (tf-keras must be set up before TensorFlow loads)

import pytest

from shared.scenario import question_scenario


@pytest.fixture(scope="session")
def scenario():
    return question_scenario()


@pytest.fixture
def original_env(scenario):
    """The question's StepSignal itself, unwrapped (made fresh for every test)."""
    from original.env import StepSignal

    return StepSignal(scenario.input_signal, scenario.sample_rate, scenario.desired_signal)


@pytest.fixture
def fixed_env(scenario):
    """The corrected StepSignal itself, unwrapped (made fresh for every test)."""
    from fixed.env import StepSignal

    return StepSignal(scenario.input_signal, scenario.sample_rate, scenario.desired_signal)


@pytest.fixture(autouse=True, scope="module")
def new_keras_graph():
    """Each test module builds its models in a new TensorFlow graph.

    keras-rl2 runs TensorFlow in graph mode, so every model a test builds stays in the process's one
    graph, and every later step of every session slows as it grows (benchmarks/speed/TESTS.md). A fixture
    that lives longer than a module hands on files and numbers, never a model.
    """
    import tf_keras

    tf_keras.backend.clear_session()


@pytest.fixture(scope="module")
def original_run(tmp_path_factory):
    """``python -m original`` once for the module: ``(agent, trace, out_dir)``."""
    from original.train import train

    out = tmp_path_factory.mktemp("original")
    agent, trace = train(out, seed=0)
    return agent, trace, out


def train_fixed_briefly(out):
    """``python -m fixed --steps 300 --out OUT`` in this process: ``(agent, result)``.

    300 steps is far too short to learn the task; it is long enough to show that training runs.
    """
    import dataclasses

    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    return train(out, seed=0, hp=dataclasses.replace(HYPERPARAMETERS, nb_steps=300))


@pytest.fixture(scope="module")
def fixed_agent_run(tmp_path_factory):
    """The fixed setup's 300-step run once for the module, its agent kept: ``(agent, result, out_dir)``."""
    out = tmp_path_factory.mktemp("fixed")
    return (*train_fixed_briefly(out), out)


@pytest.fixture(scope="session")
def fixed_run(tmp_path_factory):
    """The same run once for the whole session, without its agent (see ``new_keras_graph``): ``(result, out_dir)``."""
    out = tmp_path_factory.mktemp("fixed")
    return train_fixed_briefly(out)[1], out


LONGEST_FIRST = ('test_runs.py', 'test_faults.py', 'test_cluster.py', 'test_reverts.py', 'test_compare.py',
                 'test_old_scripts.py', 'test_evaluate.py', 'test_example.py', 'test_bugs.py', 'test_improvements.py')
"""The modules that take longest, started first: pytest-xdist (``--dist=loadscope
--no-loadscope-reorder``, setup.cfg) hands whole modules to its processes in the order they were
collected, so a long one collected last would leave the other processes idle while it runs alone.
(Without ``--no-loadscope-reorder`` xdist orders the modules by their number of tests instead:
test_faults.py, two tests and 73 s, then ran last and alone for a minute.)"""


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module, and among the others, is kept
