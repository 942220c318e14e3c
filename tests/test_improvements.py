"""Changes beyond the question's bugs, each tagged ``IMPROVEMENT-n`` in fixed/ and explained in
docs/bugs.md#improvements: what each does, on real runs."""
import pytest


def test_improvement_1_the_policy_checks_are_inside_the_budget():
    from fixed.best_policy import split_budget

    assert split_budget(5000) == (4901, 98)
    for budget in (64, 300, 5000, 15000, 32767):
        for every, steps_per_check in ((50, 1), (250, 10)):
            training, checks = split_budget(budget, every, steps_per_check)
            assert checks == training // every
            assert training + checks * steps_per_check <= budget  # never more than asked for
            assert budget - (training + checks * steps_per_check) <= every + steps_per_check  # and not much less


def test_improvement_1_keeps_the_best_noise_free_policy_seen(fixed_run):
    _, result, _ = fixed_run
    checks = result['checks']
    assert [c['training_step'] for c in checks] == list(range(50, result['steps_trained'], 50)) + [result['steps_trained']]
    assert result['check_steps'] == len(checks)  # one env step per check on the question's scenario
    assert result['env_steps'] == result['steps_trained'] + result['check_steps'] <= result['steps']
    # The policy the run keeps (and writes, and evaluates) is the best check, not the last iterate.
    best = min(checks, key=lambda c: c['l2_distance'])
    assert result['kept_check'] == best
    assert result['l2_distance'] == pytest.approx(best['l2_distance'], rel=1e-6)
