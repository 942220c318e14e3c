"""Changes beyond the question's bugs, each tagged ``IMPROVEMENT-n`` in fixed/ and explained in
docs/bugs.md#improvements: what each does, on real runs."""
import pytest


def test_improvement_1_the_policy_checks_are_inside_the_budget():
    from fixed.keep_best import split_budget

    assert split_budget(5000, 50, 1) == (4901, 98)
    for budget in (64, 300, 5000, 15000, 32767):
        for every, steps_per_check in ((50, 1), (250, 10)):
            training, checks = split_budget(budget, every, steps_per_check)
            assert checks == training // every
            assert training + checks * steps_per_check <= budget  # never more than asked for
            assert budget - (training + checks * steps_per_check) <= every + steps_per_check  # and not much less


def test_improvement_1_keeps_the_best_noise_free_policy_seen(fixed_run):
    result, _ = fixed_run
    checks = result['checks']
    assert [c['training_step'] for c in checks] == list(range(50, result['steps_trained'], 50)) + [result['steps_trained']]
    assert result['check_steps'] == len(checks)  # one env step per check on the question's scenario
    assert result['env_steps'] == result['steps_trained'] + result['check_steps'] <= result['steps']
    # The policy the run keeps (and writes, and evaluates) is the best check, not the last iterate.
    best = min(checks, key=lambda c: c['l2_distance'])
    assert result['kept_check'] == best
    assert result['l2_distance'] == pytest.approx(best['l2_distance'], rel=1e-6)


def actor_travel(actor_learning_rate, updates=100, seed=0):
    """How far the noise-free action moves over the actor's first ``updates`` updates.

    Returns the largest distance (over both action coordinates) from where it stood when the
    actor's training began, on the question's scenario.
    """
    import numpy as np
    from rl.callbacks import Callback

    import dataclasses

    from fixed.agent import build_agent
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import make_env
    from shared.seeding import seed_everything

    seed_everything(seed)
    env = make_env()
    hp = dataclasses.replace(HYPERPARAMETERS, actor_learning_rate=actor_learning_rate)
    agent = build_agent(env, hp, training_steps=hp.nb_steps, reference_observation=env.reset())
    observation = agent.processor.process_observation(env.reset())
    start = agent.nb_steps_warmup_actor + 1  # the first step at which the actor is trained
    actions = {}

    class RecordPolicy(Callback):
        def on_step_begin(self, step, logs=None):
            if int(agent.step) in (start, start + updates):
                actions[int(agent.step)] = agent.policy_action(observation)

    agent.fit(env, nb_steps=start + updates + 1, verbose=0, callbacks=[RecordPolicy()])
    return float(np.max(np.abs(actions[start + updates] - actions[start])))


def test_improvement_2_the_actor_no_longer_crosses_the_action_square_before_the_critic_knows_it():
    from fixed.hyperparameters import HYPERPARAMETERS

    # At the DDPG paper's 1e-4 the actor's 1,200 inputs carry its action from the centre to the edge
    # of its range in 100 updates; at IMPROVEMENT-2's rate it moves a tenth of that. Measured over
    # seeds 0-2 in three rounding worlds (oneDNN on, off, AVX2): 0.970-0.978 and 0.091-0.126.
    assert actor_travel(1e-4) > 0.6
    assert actor_travel(HYPERPARAMETERS.actor_learning_rate) < 0.3


def test_improvement_3_two_updates_per_environment_step_each_on_its_own_batch():
    import numpy as np

    from fixed.agent import build_agent
    from fixed.hyperparameters import HYPERPARAMETERS
    from fixed.train import make_env
    from shared.seeding import seed_everything

    seed_everything(0)
    env = make_env()
    agent = build_agent(env, training_steps=300, reference_observation=env.reset())
    batches, per_call = [], []
    train, backward = agent.train_fn, agent.backward

    def counting_train(batch):
        batches.append(batch[1].copy())  # the batch's actions
        return train(batch)

    def counting_backward(*args, **kwargs):
        before = len(batches)
        metrics = backward(*args, **kwargs)
        per_call.append(len(batches) - before)
        return metrics

    agent.train_fn, agent.backward = counting_train, counting_backward
    agent.fit(env, nb_steps=agent.nb_steps_warmup_actor + 11, verbose=0)
    assert HYPERPARAMETERS.gradient_steps == 2
    # Nothing during the warmup; then every call of backward (each env step) makes two updates.
    assert set(per_call[:agent.nb_steps_warmup_actor]) == {0}
    assert per_call[-10:] == [2] * 10
    for first, second in zip(batches[::2], batches[1::2]):  # the two updates of one step
        assert not np.array_equal(first, second)
