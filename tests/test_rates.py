"""Every success rate carries its 95% confidence interval (Wilson's, from scipy)."""
import pytest

from stepsignal.rates import success_rate


def test_ten_of_ten_is_not_a_certainty():
    rate = success_rate(10, 10)
    assert rate.rate == 1.0 and rate.high == 1.0
    assert rate.low == pytest.approx(0.7225, abs=1e-4)  # Wilson's lower bound for 10 of 10
    assert str(rate) == '10 of 10 (95% CI 72-100%)'


def test_interval_narrows_with_more_seeds_and_contains_the_rate():
    few, many = success_rate(9, 10), success_rate(180, 200)
    assert few.low < many.low <= 0.9 <= many.high < few.high
    assert many.as_dict()['rate'] == 0.9


@pytest.mark.parametrize('successes, trials', [(-1, 10), (11, 10), (0, 0)])
def test_impossible_counts_are_refused(successes, trials):
    with pytest.raises(ValueError, match=f'{successes} of {trials}'):
        success_rate(successes, trials)
