"""The main job: ``python -m stepsignal compare`` writes every figure and the report, repeatably."""
import json
import re

import pytest

from command_line import assert_overwrite_keeps_a_file_it_did_not_write, assert_the_kit_wrote_only_what_it_listed, run_command
from stepsignal.catalogue import BUGS
from stepsignal.experiments.compare import FIGURES


def compare(out, *args):
    return run_command('stepsignal', 'compare', '--out', out, *args, timeout=900)


@pytest.fixture(scope='module')
def two_reports(tmp_path_factory):
    """The same comparison twice, with a small training budget."""
    runs = []
    for name in ('first', 'second'):
        out = tmp_path_factory.mktemp(name)
        finished = compare(out, '--seed', '0', '--steps', '300')
        assert finished.returncode == 0, finished.stderr[-3000:]
        runs.append((out, finished))
    return runs


def test_compare_writes_every_figure_and_the_report(two_reports):
    out, finished = two_reports[0]
    for figure in FIGURES:
        assert (out / figure).read_bytes()[:8] == b'\x89PNG\r\n\x1a\n', figure
    report = (out / 'report.md').read_text()
    for figure in FIGURES:
        assert f']({figure})' in report
    for bug in BUGS:
        assert f'BUG-{bug.number} / FIX-{bug.number}' in report and f'bugs.md#bug-{bug.number})' in report
    links = re.findall(r'\]\(([^)#]+)(?:#[^)]*)?\)', report)
    assert any(link.endswith('results.md') for link in links)
    for link in links:  # every page the report links to is there, from where the report is
        assert (out / link).exists(), link
    numbers = json.loads((out / 'report.json').read_text())
    assert numbers['original']['steps'] == 10 and numbers['original']['episodes'] == 2
    assert numbers['original']['distinct_actions'] <= 2  # stuck in one neighbourhood
    assert numbers['fixed']['steps'] == 300
    assert 'tensorflow' in numbers['versions']
    assert 'Wall time' in report
    from stepsignal.experiments.machine import machine

    assert numbers['machine'] == machine() and f"Measured on {numbers['date']}, on {machine()}." in report
    trained = numbers['fixed']['training_steps']  # 300 env steps less the policy checks (IMPROVEMENT-1)
    assert f'[fixed] fixed seed 0: training step {trained}/{trained}' in finished.stderr  # progress showed


def test_the_report_opens_with_the_causes_measured_in_this_run(two_reports):
    """Before any figure: BUG-4, BUG-6, BUG-1, each with what this run measured and the change, and the example."""
    out, _ = two_reports[0]
    report = (out / 'report.md').read_text()
    numbers = json.loads((out / 'report.json').read_text())['original']
    causes = numbers['causes']
    first_screen = report[:report.index('![')]
    assert [int(n) for n in re.findall(r'^\d\. \*\*[^*]+\*\* \(\[BUG-(\d+)\]', first_screen, re.M)] == [4, 6, 1]
    trace = json.loads((out / 'original' / 'trace.json').read_text())
    raw = [step['action'] for step in trace['steps']]
    assert causes['raw_outside_unit_range'] == sum(any(abs(a) > 1 for a in action) for action in raw) > 0
    assert f"{causes['raw_outside_unit_range']} of {len(raw)} actions" in first_screen
    assert causes['warmups'] == {'critic': 2000, 'actor': 10000} and 'Actor: no, critic: no' in first_screen
    # the rescaled raw actions past a bound are the steps the env applied at that bound
    applied = [(step['cutoff_hz'], step['offset']) for step in trace['steps']]
    for dimension in (0, 1):
        at_high = sum(value[dimension] >= causes['high'][dimension] - 1e-3 for value in applied)
        at_low = sum(value[dimension] <= causes['low'][dimension] + 1e-6 for value in applied)
        assert (causes['past_high'][dimension], causes['past_low'][dimension]) == (at_high, at_low)
    assert sum(causes['past_high']) + sum(causes['past_low']) > 0
    assert 'examples/question_fixed.py' in first_screen and (out / re.search(
        r'\]\(([^)]*examples/question_fixed\.py)\)', first_screen).group(1)).exists()


def test_the_closing_policy_hint_runs_as_printed(two_reports, tmp_path):
    """compare's last words about the saved policy are a command that answers the question's signal with it."""
    import shlex

    out, finished = two_reports[0]
    hint = re.search(r'to answer a signal with it: (python -m .+)$', finished.stderr, re.M).group(1)
    words = shlex.split(hint)
    assert words[:3] == ['python', '-m', 'stepsignal'] and '...' not in hint
    answered = run_command(*words[2:], cwd=tmp_path)
    assert answered.returncode == 0, answered.stderr[-2000:]
    assert (tmp_path / 'answer' / 'processed.csv').exists()
    assert f"L2 {json.loads((out / 'fixed' / 'result.json').read_text())['l2_distance']:.3f}" in answered.stderr


def test_same_seed_gives_the_same_figures_and_numbers(two_reports):
    (first, _), (second, _) = two_reports
    reports = [json.loads((folder / 'report.json').read_text()) for folder in (first, second)]
    assert [report.pop('date') for report in reports]  # the one field that may change (at midnight)
    assert reports[0] == reports[1]
    for figure in FIGURES:
        assert (first / figure).read_bytes() == (second / figure).read_bytes(), figure


def test_compare_lists_what_it_wrote_and_overwrite_keeps_a_file_added_after(two_reports):
    out, _ = two_reports[1]
    assert_the_kit_wrote_only_what_it_listed(out)
    assert_the_kit_wrote_only_what_it_listed(out / 'fixed')  # each variant's run is a kit folder of its own
    assert_overwrite_keeps_a_file_it_did_not_write(['stepsignal', 'compare', '--steps', '300'], out)


def test_compare_refuses_bad_steps_before_any_work(tmp_path):
    finished = compare(tmp_path / 'out', '--steps', '40000')
    assert finished.returncode == 2
    assert '40000' in finished.stderr and 'Traceback' not in finished.stderr
    assert not (tmp_path / 'out' / 'original').exists()
