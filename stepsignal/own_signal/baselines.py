"""What a result on your own signal should be compared with: four baselines and a verdict.

An RMS error means little alone, so every own-signal result is set beside the input unchanged,
the mean removed, the best constant output and the best filter (scipy's optimum of the same
objective within the same ranges: the ceiling of the question's two knobs; with a longer chain,
``stepsignal.own_signal.chain.ceiling``). docs/your_signal.md says what each one tells.
"""
import numpy as np
from scipy import optimize

from fixed.env import butter_lowpass_filter
from stepsignal.own_signal.chain import ceiling

GRID_POINTS = 24
"""Cutoffs on the log-scale grid that brackets the ceiling before Brent's method refines it."""
NEARLY_CONSTANT = 0.01
"""An output whose spread is below this fraction of the target's is called nearly constant."""


def rms(values):
    values = np.asarray(values, dtype=np.float64).ravel()
    return float(np.sqrt(np.dot(values, values) / values.size))  # no squared copy of a long signal


def filter_error(input_signal, desired_signal, sample_rate, cutoff_hz, max_offset):
    """``(rms, offset)``: the error of the input filtered at ``cutoff_hz`` with the best offset in range."""
    difference = butter_lowpass_filter(input_signal, cutoff_hz, sample_rate / 2)
    difference -= desired_signal  # in place: a minute of 48 kHz audio is 23 MB per copy
    offset = float(np.clip(np.mean(difference), -max_offset, max_offset))
    difference -= offset
    return rms(difference), offset


def best_filter(input_signal, desired_signal, sample_rate, cutoff_range, max_offset):
    """The ceiling: ``{'cutoff_hz', 'offset', 'rms'}`` of the best filter within the ranges."""
    low, high = np.log(cutoff_range[0]), np.log(cutoff_range[1])

    def error(log_cutoff):
        return filter_error(input_signal, desired_signal, sample_rate, float(np.exp(log_cutoff)), max_offset)[0]

    grid = np.linspace(low, high, GRID_POINTS)
    errors = [error(point) for point in grid]
    best = int(np.argmin(errors))
    bracket = (grid[max(best - 1, 0)], grid[min(best + 1, GRID_POINTS - 1)])
    refined = optimize.minimize_scalar(error, bounds=bracket, method='bounded', options={'xatol': 1e-3})
    log_cutoff = refined.x if refined.fun < errors[best] else grid[best]
    cutoff = float(np.exp(log_cutoff))
    value, offset = filter_error(input_signal, desired_signal, sample_rate, cutoff, max_offset)
    return {'name': 'best filter', 'cutoff_hz': cutoff, 'offset': offset, 'rms': value,
            'settings': {'lowpass': cutoff, 'offset': offset}}


def best_chain(chain, input_signal, desired_signal):
    """The ceiling of a chain longer than the question's: as ``best_filter`` returns it, and its settings."""
    found = ceiling(chain, input_signal, desired_signal)
    settings = found['settings']
    return {'name': 'chain at its best', 'cutoff_hz': settings['lowpass'], 'offset': settings['offset'], 'rms': found['rms'],
            'settings': settings}


def baselines(input_signal, desired_signal, sample_rate, cutoff_range, max_offset, chain=None):
    """The four baselines of the module docstring, as ``result.json`` records them; ``chain``: the
    ``stepsignal.own_signal.chain.Chain`` the agent sets, if longer than the question's two."""
    level = float(np.mean(desired_signal))
    difference = input_signal - desired_signal
    unchanged = rms(difference)
    mean_difference = float(np.mean(difference))
    difference -= mean_difference  # in place: the copy is ours
    mean_removed = rms(difference)
    del difference  # before the ceiling's search: a long signal's copy less at its peak
    return {
        'input_unchanged': {'rms': unchanged},
        'mean_removed': {'offset': mean_difference, 'rms': mean_removed},
        'best_constant': {'level': level, 'rms': rms(level - desired_signal)},
        'best_filter': (best_filter(input_signal, desired_signal, sample_rate, cutoff_range, max_offset)
                        if chain is None or chain.is_question else best_chain(chain, input_signal, desired_signal)),
    }


def verdict(achieved, desired_signal, found, trains=True, close_to_ceiling=None):
    """What the agent's result is, beside the baselines ``found``: a dict with a one-line ``text``.

    ``beaten_by_constant``: the best constant output does at least as well; ``nearly_constant``:
    the output barely moves while the target does. Either one means the signal was flattened,
    not processed, and the run is no success whatever its threshold says. ``beaten_by_mean_removed``:
    subtracting the mean does at least as well, which the text says. ``trains``: the advice is for a
    run that trains (else a saved policy answered, and the lever is to train). ``flat_target``: the
    target is itself a constant (``--target-level``), so a constant output is what was asked for;
    the text says so, so that nobody mistakes a silenced recording for a cleaned one. ``headline``:
    the text is one of these cases (or far above the ceiling), which a report opens with in bold.
    """
    agent = rms(achieved - desired_signal)
    constant = found['best_constant']['rms']
    ceiling, best = found['best_filter']['rms'], found['best_filter']['name']
    target_spread = float(np.std(desired_signal))
    level = found['best_constant']['level']
    if target_spread <= 1e-12 * max(1.0, abs(level)):  # flat (up to the mean's rounding): the question's own task
        return {'rms': agent, 'flat_target': True, 'headline': True, 'beaten_by_constant': False, 'nearly_constant': False,
                'ratio_to_ceiling': agent / ceiling if ceiling > 0 else None,
                'text': (f'The target is flat ({level:g}), so what it asks for is a constant '
                         f'output, which a low-pass gives by removing everything that moves (this result: RMS error '
                         f'{agent:.4g}, the {best} {ceiling:.4g}). To keep the signal and remove only part of it '
                         f'(an offset, hum, noise), give the clean signal as --target instead')}
    beaten = agent >= constant
    nearly_constant = float(np.std(achieved)) < NEARLY_CONSTANT * target_spread
    mean_removed, unchanged = found['mean_removed']['rms'], found['input_unchanged']['rms']
    beaten_by_mean_removed = agent >= mean_removed * (1 - 1e-6)
    far_from_ceiling = bool(not trains and close_to_ceiling is not None and ceiling > 0
                            and agent > (1 + close_to_ceiling) * ceiling
                            and not (beaten or nearly_constant or agent > unchanged or beaten_by_mean_removed))
    if not trains:
        lever = ('a saved policy answered without training on this signal: train on it (process without --policy), '
                 'or a policy on a folder of clips like it (python -m stepsignal clips)')
    elif len(found['best_filter']['settings']) == 2:  # the question's two knobs: the cutoffs allowed are the lever
        lever = 'try --cutoff-range (docs/your_signal.md)'
    else:
        lever = 'train longer (--steps) or with another --seed (docs/your_signal.md)'
    no_better_than_constant = (
        f'NO BETTER THAN A CONSTANT: the output {"is nearly constant" if nearly_constant else "varies"} and its '
        f'RMS error {agent:.4g} is {"not below" if beaten else "barely below"} that of the best constant '
        f'output ({constant:.4g}); the {best} reaches {ceiling:.4g}. {lever[0].upper()}{lever[1:]}')
    # A flat output is the question's own symptom: said first. Then an output worse than the input.
    if nearly_constant:
        text = no_better_than_constant
    elif agent > unchanged:
        text = (f'WORSE THAN THE INPUT UNCHANGED: RMS error {agent:.4g}, where the input as it is gives {unchanged:.4g} '
                f'(the mean removed {mean_removed:.4g}); the {best} reaches {ceiling:.4g}. The output is further from '
                f'the target than the input: {lever}')
    elif beaten:
        text = no_better_than_constant
    elif beaten_by_mean_removed:  # equal up to rounding: nothing beyond the subtraction
        text = (f'NO BETTER THAN REMOVING THE MEAN: RMS error {agent:.4g}, where subtracting the mean difference '
                f'alone gives {mean_removed:.4g} (the input unchanged {found["input_unchanged"]["rms"]:.4g}); the {best} '
                f'reaches {ceiling:.4g}. {lever[0].upper()}{lever[1:]}')
    else:
        text = (f'RMS error {agent:.4g}: better than the input unchanged ({found["input_unchanged"]["rms"]:.4g}), the '
                f'mean removed ({mean_removed:.4g}) and the best constant output ({constant:.4g}); the {best} '
                f'reaches {ceiling:.4g}'
                + (f' (the agent\'s error is {100 * (agent / ceiling - 1):.0f}% above it)' if ceiling > 0 else ''))
        if far_from_ceiling:  # a saved policy's answer: the ceiling of this very signal says how far it is
            text = (f"{100 * (agent / ceiling - 1):.0f}% ABOVE THIS CLIP'S CEILING: {text}. A saved policy answers "
                    f"what it learned elsewhere, or in a training run that ended short of the ceiling; train on this "
                    f"signal (process without --policy, more --steps) to come closer, or put clips like it in the "
                    f"family (python -m stepsignal clips)")
    headline = bool(nearly_constant or agent > unchanged or beaten or beaten_by_mean_removed or far_from_ceiling)
    return {'rms': agent, 'flat_target': False, 'headline': headline,
            'beaten_by_constant': bool(beaten), 'nearly_constant': bool(nearly_constant),
            'beaten_by_mean_removed': bool(beaten_by_mean_removed), 'worse_than_input': bool(agent > unchanged),
            'far_from_ceiling': far_from_ceiling,
            'ratio_to_ceiling': agent / ceiling if ceiling > 0 else None, 'text': text}
