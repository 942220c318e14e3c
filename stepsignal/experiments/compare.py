"""The main job: run the original and the fixed setup on the question's scenario, side by side,
and write a report a newcomer reads top to bottom.

Each variant runs in its own process, exactly as ``python -m original`` and ``python -m fixed``
would (TensorFlow keeps one graph per process, so a shared process would change the seeds'
effect). The report is built from the files they write, plus a replay of their final actions
through their own envs to draw the processed signals.

Written into the output folder:

- ``original/``, ``fixed/``: each variant's own files (``trace.json`` and the rest);
- ``scenario.png``, ``actions.png``, ``learning.png``, ``signals.png``: the figures;
- ``report.md``: the report, linking the figures and docs/bugs.md;
- ``report.json``: every number in the report (wall times apart, the same for the same seed).
"""
import collections
import contextlib
import io
import json
import logging
import os
import platform
import time
from importlib import metadata

import numpy as np

from shared.checks import seed_number, training_budget
from shared.cli import (KIT_ROOT, add_output_options, check_output_folder, checking_input, command_parser,
                        run_reporting_failures, seed_argument, setup_logging, steps_argument)
from shared.files import save_figure, write_atomic, write_json
from shared.scenario import question_scenario
from shared.trace import episodes
from stepsignal.catalogue import BUGS
from stepsignal.experiments.child import run_module
from stepsignal.experiments.machine import machine, today

log = logging.getLogger(__name__)

DOCS = KIT_ROOT / 'docs'
"""The kit's docs/ folder, which the report links to (relative to the report where it can)."""
WALL_TIMES = ('train_seconds', 'steps_per_second')
"""The fields of the fixed run's result.json that change from run to run: kept out of report.json."""
FIGURES = ('scenario.png', 'actions.png', 'learning.png', 'signals.png')
VERSIONED = ('tensorflow', 'tf-keras', 'keras-rl2', 'gym', 'gymnasium', 'numpy', 'scipy', 'matplotlib')


def final_signals(original_trace, fixed_result, scenario):
    """Replay each variant's last actions through its own env and return the processed signals.

    The original compounds (BUG-2), so its final signal is the whole last episode replayed; the
    fixed env filters the input once, so one step with the trained policy's action is enough.
    """
    import original.env
    import fixed.env

    env = original.env.StepSignal(scenario.input_signal, scenario.sample_rate, scenario.desired_signal)
    env.reset()
    last_episode = max(step['episode'] for step in original_trace['steps'])
    with contextlib.redirect_stdout(io.StringIO()):  # the original env prints every step (BUG-14)
        for step in original_trace['steps']:
            if step['episode'] == last_episode:
                obs, *_ = env.step(np.array(step['action']))
    original_signal = obs['achieved_goal']

    env = fixed.env.StepSignal(scenario.input_signal, scenario.sample_rate, scenario.desired_signal)
    env.reset()
    obs, *_ = env.step(np.array(fixed_result['action'], dtype=np.float32))
    return original_signal, obs['achieved_goal'].astype(np.float64)


def draw_figures(out, scenario, original_trace, fixed_trace, fixed_result, signals):
    """Write the four figures into ``out``."""
    import matplotlib

    matplotlib.use('Agg')  # no screen needed
    import matplotlib.pyplot as plt

    plt.rcParams.update({'figure.autolayout': True, 'axes.grid': True, 'grid.alpha': 0.3})

    figure, axis = plt.subplots(figsize=(8, 3.2))
    axis.plot(scenario.time, scenario.input_signal, label='input: the step')
    axis.plot(scenario.time, scenario.desired_signal, label='desired: flat 3')
    axis.set(xlabel='time (s)', ylabel='value', ylim=(2.5, 5.5), title='The question\'s scenario')
    axis.legend()
    save_figure(figure, out / 'scenario.png')
    plt.close(figure)

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True)
    steps = original_trace['steps']
    for episode in sorted({s['episode'] for s in steps}):
        mine = [s for s in steps if s['episode'] == episode]
        left.plot([s['cutoff_hz'] for s in mine], [s['offset'] for s in mine], 'o-', alpha=0.7,
                  label=f'episode {episode + 1} ({len(mine)} steps)', markersize=12 - 4 * episode)
    # Steps that applied the same values fall on one dot: say how many each dot is.
    repeats = collections.Counter((round(s['cutoff_hz'], 6), round(s['offset'], 6)) for s in steps)
    for (cutoff, offset), count in repeats.items():
        if count > 1:
            left.annotate(f'{count} steps, all the same:\n{cutoff:.3g} Hz, offset {offset:.3g}', (cutoff, offset),
                          xytext=(-150, 60), textcoords='offset points', fontsize='small',
                          arrowprops={'arrowstyle': '->', 'color': '0.3'})
    left.set(title='Original: what the env applied, every step', xlabel='cutoff (Hz)', ylabel='offset',
             xscale='log', xlim=(5e-4, 30))
    steps = fixed_trace['steps']
    cutoffs = [s['cutoff_hz'] for s in steps]
    offsets = [s['offset'] for s in steps]
    points = right.scatter(cutoffs, offsets, c=np.arange(len(steps)), cmap='viridis', s=6, alpha=0.6)
    right.plot(fixed_result['cutoff_hz'], fixed_result['offset'], 'r*', markersize=16, label='trained policy (kept)')
    right.set(title='Fixed: applied actions over training', xlabel='cutoff (Hz)', xscale='log', xlim=(5e-4, 30))
    figure.colorbar(points, ax=right, label='training step')
    for axis in (left, right):
        axis.plot(1e-3, 1.0, 'k+', markersize=14, markeredgewidth=2, label='optimum (0.001 Hz, offset 1.0)')
        axis.legend(loc='upper center', bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize='small', frameon=False)
    save_figure(figure, out / 'actions.png')
    plt.close(figure)

    rows = episodes(fixed_trace)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.2), sharex=True)
    x = [r['first_step'] for r in rows]
    top.plot(x, [r['return'] for r in rows], '.', color='tab:blue', alpha=0.35, label='episode return (with noise)')
    top.set(ylabel='return (sum of -RMS)', title='Fixed agent: learning curves')
    bottom.plot(x, [r['l2_distance'] for r in rows], '.', color='tab:blue', alpha=0.3,
                label='episodes: L2 at episode end, exploring with noise')
    checks = fixed_result.get('checks') or []
    bottom.plot([c['training_step'] for c in checks], [c['l2_distance'] for c in checks], '-', color='k',
                linewidth=1.6, label='the policy itself, without noise (checks, IMPROVEMENT-1)')
    kept = fixed_result.get('kept_check')
    if kept:
        bottom.plot(kept['training_step'], kept['l2_distance'], 'r*', markersize=14,
                    label=f"kept: the final result (L2 {kept['l2_distance']:.3g})")
    bottom.axhline(1.0, color='r', linestyle='--', label='success threshold (L2 = 1.0)')
    bottom.set(yscale='log', xlabel='training step (episode start)', ylabel='L2 distance to the goal')
    top.legend(loc='lower right', fontsize='small')
    bottom.legend(loc='upper center', bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize='small', frameon=False)
    save_figure(figure, out / 'learning.png')
    plt.close(figure)

    original_signal, fixed_signal = signals
    figure, (whole, zoom) = plt.subplots(2, 1, figsize=(8, 6.2), sharex=True, height_ratios=(3, 2))
    whole.plot(scenario.time, scenario.desired_signal, 'k--', label='desired: flat 3')
    whole.plot(scenario.time, scenario.input_signal, color='0.6', label='input')
    whole.plot(scenario.time, original_signal, color='tab:blue', label='original, end of its last episode')
    whole.plot(scenario.time, fixed_signal, color='tab:orange', label='fixed, trained policy')
    whole.set(ylabel='value', title='Final processed signals')
    whole.legend(loc='center right', fontsize='small')
    # At this scale the fixed output and the flat 3 are one line: the lower panel shows what is left,
    # the output minus the target, on its own scale (plotting the values themselves would make
    # matplotlib write them as small ticks beside a "+3" in the corner).
    residual = fixed_signal - scenario.desired_signal
    error = float(np.sqrt(np.mean(residual ** 2)))
    spread = max(float(np.max(np.abs(residual))), 1e-4)
    level = float(np.mean(scenario.desired_signal))
    zoom.axhline(0.0, color='k', linestyle='--', label=f'desired: exactly {level:g}')
    zoom.plot(scenario.time, residual, color='tab:orange', label=f'fixed, trained policy (RMS error {error:.2g})')
    zoom.set(xlabel='time (s)', ylabel=f'output minus {level:g}', ylim=(-3 * spread, 3 * spread),
             title=f'Zoomed: the fixed output minus the target {level:g}')
    zoom.legend(loc='lower right', fontsize='small')
    save_figure(figure, out / 'signals.png')
    plt.close(figure)


def versions():
    found = {'python': platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = 'not installed'
    return found


def kept_text(fixed_numbers):
    kept = fixed_numbers.get('kept_check')
    return 'no check ran' if kept is None else f"kept from training step {kept['training_step']}"


def first_success_text(fixed_numbers):
    first = fixed_numbers.get('first_success_env_steps')
    if first is None:
        return 'no check succeeded.'
    return f'the first check that succeeded came after {first} environment steps.'


def docs_link(out, anchor='', page='bugs.md', folder=DOCS):
    """A link from the report's folder to a page of docs/ (or of another ``folder`` of the kit), relative where possible."""
    target = folder / page
    try:
        link = os.path.relpath(target, out.resolve())
    except ValueError:  # another drive on Windows
        link = target.as_uri()
    return f'{link}#{anchor}' if anchor else link


def yes_no(flag):
    return 'yes' if flag else 'no'


def original_causes(original_trace, scenario):
    """What kept the original from learning in this run, measured in its trace (report.json's ``causes``).

    Its raw actions (actor plus noise) against [-1, 1] (BUG-6), and where the question's rescaling
    ``(high - low) / 2 * (a + 1)`` sends them: past which end of the env's bounds (BUG-1), where
    the env clips them onto that bound.
    """
    import original.env

    with contextlib.redirect_stdout(io.StringIO()):
        space = original.env.StepSignal(scenario.input_signal, scenario.sample_rate,
                                        scenario.desired_signal).action_space
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    raw = np.array([step['action'] for step in original_trace['steps']], dtype=np.float64)
    rescaled = (high - low) / 2 * (raw + 1)
    hp = original_trace['hyperparameters']
    return {
        'nb_steps': original_trace['nb_steps'],
        'warmups': {'critic': hp['nb_steps_warmup_critic'], 'actor': hp['nb_steps_warmup_actor']},
        'raw_actions': len(raw),
        'raw_outside_unit_range': int(np.sum(np.any(np.abs(raw) > 1, axis=1))),
        'raw_range': [float(raw.min()), float(raw.max())],
        'past_low': [int(n) for n in np.sum(rescaled < low, axis=0)],
        'past_high': [int(n) for n in np.sum(rescaled > high, axis=0)],
        'low': low.tolist(), 'high': high.tolist(),
    }


def causes_text(out, o, f):
    """The report's first section: the three causes measured in this run, each with its change."""
    c = o['causes']
    steps = c['raw_actions']
    ends = []
    for name, unit, low, high, low_value, high_value in zip(('cutoff', 'offset'), (' Hz', ''), c['past_low'],
                                                            c['past_high'], c['low'], c['high']):
        if high:
            ends.append(f'the {name} above its highest, {high_value:.4g}{unit}, in {high} of {steps}')
        if low:
            ends.append(f'the {name} below its lowest, {low_value:.4g}{unit}, in {low} of {steps}')
    example = docs_link(out, page='question_fixed.py', folder=KIT_ROOT / 'examples')
    return [
        '## Why the original does not learn, and what to change',
        '',
        f"1. **Not one gradient step** ([BUG-4]({docs_link(out, 'bug-4')})): warmups of {c['warmups']['critic']:,} "
        f"(critic) and {c['warmups']['actor']:,} (actor) steps against `fit(nb_steps={c['nb_steps']})`; did any "
        f"weight change? Actor: {yes_no(o['actor_weights_changed'])}, critic: {yes_no(o['critic_weights_changed'])}. "
        "Change: a run of thousands of steps and warmups of `max(batch_size, min(200, nb_steps // 10))`.",
        f"2. **The actor's raw outputs beyond the bounds** ([BUG-6]({docs_link(out, 'bug-6')})): "
        f"{c['raw_outside_unit_range']} of {steps} actions (actor plus noise) left [-1, 1], from "
        f"{c['raw_range'][0]:.2f} to {c['raw_range'][1]:.2f}: a linear output layer. Change: a `tanh` output "
        'with small initial weights.',
        f"3. **The rescaling maps them past both ends** ([BUG-1]({docs_link(out, 'bug-1')})): "
        f"`(high - low) / 2 * (a + 1)` put {'; '.join(ends) or 'no action past a bound'}. The env clips each "
        f"onto that bound: {o['distinct_actions']} distinct (cutoff, offset) "
        f"{'pair' if o['distinct_actions'] == 1 else 'pairs'} applied in {o['steps']} steps. Change: "
        "`low + (a + 1) / 2 * (high - low)`, the cutoff on a log scale.",
        '',
        f"With these and the other fixes, the fixed agent's noise-free policy reached L2 = {f['l2_distance']:.3f} "
        f"({'success' if f['success'] else 'not a success'}: the threshold is L2 < 1.0). The same changes in one "
        f"file of plain keras-rl2, to carry to your own script: [examples/question_fixed.py]({example}) "
        f"([how]({docs_link(out, page='your_script.md')})).",
        '',
    ]


def write_report(out, numbers, wall):
    """Write ``report.md`` from the numbers, the figures beside it and the bug catalogue.

    ``wall`` holds the wall times, which change from run to run (and so stay out of report.json).
    """
    o, f = numbers['original'], numbers['fixed']
    lines = [
        '# Original vs fixed: the question\'s DDPG setup, side by side',
        '',
        f"Seed {numbers['seed']}. Original: the question's `fit(nb_steps={o['nb_steps']}, "
        f"nb_max_episode_steps=5)`. Fixed: {f['steps']:,} environment steps, {f['training_steps']:,} of them "
        f"training and {f['check_steps']} policy checks (one step each of its noise-free policy). Both on the question's "
        'scenario. Everything here comes from `original/` and `fixed/` in this folder.',
        '',
        *causes_text(out, o, f),
        '## The scenario',
        '',
        'A 20 s step signal at 30 Hz, 4 until t = 5 s and 5 after, that should become a flat 3. '
        'The agent picks a low-pass cutoff and an offset; the env computes `filter(input) - offset`.',
        '',
        '![input and desired signals](scenario.png)',
        '',
        '## What each agent did',
        '',
        f"The original applied **{o['distinct_actions']} distinct (cutoff, offset) "
        f"{'pair' if o['distinct_actions'] == 1 else 'pairs'} in {o['steps']} steps** over "
        f"{o['episodes']} episodes: the asker's \"stuck in the same neighbourhood\". Did fit change "
        f"any weight? Actor: {yes_no(o['actor_weights_changed'])}, critic: "
        f"{yes_no(o['critic_weights_changed'])}. Its closest approach to the goal was L2 = {o['best_l2']:.1f}.",
        '',
        f"The fixed agent explored the whole range (colour: training step, dark to light); its trained, "
        f"noise-free policy applies cutoff {f['cutoff_hz']:.4g} Hz and offset {f['offset']:.4f}, L2 = {f['l2_distance']:.3f} "
        f"({'success' if f['success'] else 'not a success'}: the threshold is L2 < 1.0). It is the best of the "
        f"policy checks made during training ([IMPROVEMENT-1]({docs_link(out, 'improvement-1')}): "
        f"{kept_text(f)}); {first_success_text(f)}",
        '',
        f"One seed is one sample. Over seeds 0-19, in four rounding worlds (CPU kernels), the fixed setup "
        f"succeeded at the rates in [docs/results.md]({docs_link(out, page='results.md')}), each "
        'with its 95% confidence interval; exact numbers differ from one CPU to another.',
        '',
        '![applied actions](actions.png)',
        '',
        '## Learning curves of the fixed agent',
        '',
        '![learning curves](learning.png)',
        '',
        '## The final processed signals',
        '',
        f"Original, end of its last episode: L2 = {o['final_l2']:.1f}. Fixed, trained policy: "
        f"L2 = {f['l2_distance']:.3f}.",
        '',
        '![final signals](signals.png)',
        '',
        '## Every bug and its fix',
        '',
        f"Each is marked `# BUG-n` in `original/` and `# FIX-n` in `fixed/`; [docs/bugs.md]({docs_link(out)}) "
        'has its symptom, cause, fix and tests. Which of them matter for learning, measured over seeds with '
        f"each fix reverted alone and the fixes added back one at a time: [docs/ablation.md]({docs_link(out, page='ablation.md')}). "
        "The question's GoalEnv was built for hindsight experience replay, which keras-rl never had; what it buys "
        f"on this task, measured with and without it: [docs/her.md]({docs_link(out, page='her.md')}).",
        '',
        '| n | where | effect in the original |',
        '|---|---|---|',
    ]
    lines += [f'| [BUG-{b.number} / FIX-{b.number}]({docs_link(out, b.anchor)}) | {b.where} | {b.effect} |'
              for b in BUGS]
    lines += [
        '',
        '## Reproduce',
        '',
        f"Measured on {numbers['date']}, on {numbers['machine']}. "
        f"`python3 -m stepsignal compare --out DIR --seed {numbers['seed']} --steps {f['steps']}` "
        'gives the same figures and numbers (`report.json`) on this machine; only the times below change. '
        'Another CPU or core count rounds differently, and the details of the run differ '
        f"([rounding worlds]({docs_link(out, 'rounding-worlds', 'results.md')})).",
        '',
        '| package | version |',
        '|---|---|',
        *[f'| {name} | {version} |' for name, version in numbers['versions'].items()],
        '',
        f"Wall time: original {wall['original']:.0f} s, fixed {wall['fixed']:.0f} s "
        f"(training {wall['train_seconds']:.0f} s, {wall['steps_per_second']:.0f} steps/s), "
        f"report {wall['report']:.1f} s, in all {wall['total']:.0f} s.",
        '',
    ]
    text = '\n'.join(lines)
    write_atomic(out / 'report.md', lambda handle: handle.write(text.encode('utf-8')))


def compare(out, seed=0, steps=None):
    """Run both variants with ``seed`` (and ``steps`` for the fixed one) and write the report into
    ``out``, a folder ``shared.cli.check_output_folder`` made ready.

    Returns the numbers written to ``report.json``.
    """
    seed = seed_number(seed)
    steps = None if steps is None else training_budget(steps)
    started = time.perf_counter()
    wall = {
        'original': run_module('original', out / 'original', ['--seed', str(seed)]),
        'fixed': run_module('fixed', out / 'fixed',
                             ['--seed', str(seed)] + ([] if steps is None else ['--steps', str(steps)])),
    }
    log.info('report: drawing figures')
    report_started = time.perf_counter()
    original_trace = json.loads((out / 'original' / 'trace.json').read_text())
    fixed_trace = json.loads((out / 'fixed' / 'trace.json').read_text())
    fixed_result = json.loads((out / 'fixed' / 'result.json').read_text())
    scenario = question_scenario()
    signals = final_signals(original_trace, fixed_result, scenario)
    draw_figures(out, scenario, original_trace, fixed_trace, fixed_result, signals)

    applied = {(s['cutoff_hz'], s['offset']) for s in original_trace['steps']}
    numbers = {
        'seed': seed,
        'original': {
            'nb_steps': original_trace['nb_steps'],
            'steps': len(original_trace['steps']),
            'episodes': len({s['episode'] for s in original_trace['steps']}),
            'distinct_actions': len(applied),
            'actor_weights_changed': original_trace['actor_weights_changed'],
            'critic_weights_changed': original_trace['critic_weights_changed'],
            'best_l2': min(s['l2_distance'] for s in original_trace['steps']),
            'final_l2': float(np.linalg.norm(scenario.desired_signal - signals[0])),
            'causes': original_causes(original_trace, scenario),
        },
        'fixed': {key: fixed_result[key] for key in ('steps', 'training_steps', 'check_steps', 'cutoff_hz', 'offset',
                                                      'l2_distance', 'success', 'action', 'kept_check',
                                                      'first_success_env_steps')},
        'versions': versions(),
        'machine': machine(),
        'date': today(),
    }
    wall['report'] = time.perf_counter() - report_started
    wall['total'] = time.perf_counter() - started
    write_report(out, numbers, {**wall, **{key: fixed_result[key] for key in WALL_TIMES}})
    write_json(out / 'report.json', numbers)
    log.info('wrote %s', out / 'report.md')
    return numbers


def main(argv=None):
    """``python -m stepsignal compare --out DIR [--seed N] [--steps N]``: the README's main job."""
    parser = command_parser('python -m stepsignal compare', 'Run the original and the fixed setup side by side and '
                            'write a report (DIR/report.md, with four figures).\n\nExample:\n'
                            '  python -m stepsignal compare --out results/compare')
    add_output_options(parser, 'the comparison')
    parser.add_argument('--seed', type=seed_argument, default=0, help='seed for both variants (default 0)')
    parser.add_argument('--steps', type=steps_argument, default=None,
                        help="the fixed agent's training steps (default: its own, 5000)")
    args = parser.parse_args(argv)
    setup_logging()
    with checking_input(parser):  # a bad --out, found before any work
        out = check_output_folder(args.out, overwrite=args.overwrite)

    def run():
        compare(out, seed=args.seed, steps=args.steps)
        return 0

    return run_reporting_failures(parser, out, run)
