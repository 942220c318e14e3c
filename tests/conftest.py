"""Shared fixtures: the question's scenario, its env, and one real run of the original script."""
from shared import keras_rl  # noqa: F401  (tf-keras must be set up before TensorFlow loads)

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


@pytest.fixture(scope="session")
def original_run(tmp_path_factory):
    """``python -m original`` once for the whole session: ``(agent, trace, out_dir)``."""
    from original.train import train

    out = tmp_path_factory.mktemp("original")
    agent, trace = train(out, seed=0)
    return agent, trace, out


@pytest.fixture
def fixed_env(scenario):
    """The corrected StepSignal itself, unwrapped (made fresh for every test)."""
    from fixed.env import StepSignal

    return StepSignal(scenario.input_signal, scenario.sample_rate, scenario.desired_signal)


@pytest.fixture(scope="session")
def fixed_run(tmp_path_factory):
    """``python -m fixed --steps 300`` once for the whole session: ``(agent, result, out_dir)``.

    300 steps is far too short to learn the task; it is long enough to show that training runs.
    """
    import dataclasses

    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import train

    out = tmp_path_factory.mktemp("fixed")
    agent, result = train(out, seed=0, hp=dataclasses.replace(HYPERPARAMETERS, nb_steps=300))
    return agent, result, out


LONGEST_FIRST = ('test_faults.py', 'test_runs.py', 'test_cluster.py', 'test_improvements.py', 'test_compare.py',
                 'test_evaluate.py')
"""The modules that take longest, started first: pytest-xdist (``--dist=loadscope``, setup.cfg) hands
whole modules to its processes in the order they were collected, so a long one collected last
would leave the other processes idle while it runs alone."""


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module, and among the others, is kept
