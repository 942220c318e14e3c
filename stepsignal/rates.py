"""Success rates over seeds, always with their uncertainty.

A rate over ten seeds is a small sample: 10 of 10 is compatible with a true rate of 72%. Every
rate the kit prints or documents goes through ``success_rate`` so that it carries its 95%
confidence interval (Wilson's score interval, from scipy).
"""
from typing import NamedTuple

from scipy.stats import binomtest

CONFIDENCE = 0.95


class SuccessRate(NamedTuple):
    successes: int
    trials: int
    low: float
    """Lower end of the 95% confidence interval of the true rate."""
    high: float
    """Upper end of the 95% confidence interval of the true rate."""

    @property
    def rate(self):
        return self.successes / self.trials

    def __str__(self):
        return (f'{self.successes} of {self.trials} '
                f'(95% CI {100 * self.low:.0f}-{100 * self.high:.0f}%)')

    def as_dict(self):
        return {'successes': self.successes, 'trials': self.trials, 'rate': self.rate,
                'ci95_low': self.low, 'ci95_high': self.high}


def success_rate(successes, trials):
    """``successes`` of ``trials`` with the Wilson 95% interval: ``str()`` gives "9 of 10 (95% CI 60-98%)"."""
    successes, trials = int(successes), int(trials)
    if not 0 <= successes <= trials or trials < 1:
        raise ValueError(f'need 0 <= successes <= trials and trials >= 1, got {successes} of {trials}')
    interval = binomtest(successes, trials).proportion_ci(confidence_level=CONFIDENCE, method='wilson')
    return SuccessRate(successes, trials, float(interval.low), float(interval.high))
