"""The docs stay true: every bug they name exists in the code and in the tests, and their
Python snippets run and print what the docs say they print."""
import pathlib
import re

import pytest

from command_line import run_code
from stepsignal.catalogue import BUGS

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / 'docs').glob('*.md'))


def text_of(folder, pattern='*.py'):
    return '\n'.join(p.read_text() for p in sorted((ROOT / folder).rglob(pattern)))


def numbers(word, text):
    return {int(n) for n in re.findall(word + r'-(\d+)', text)}


def test_every_bug_in_the_docs_is_marked_in_both_trees_and_tested():
    in_docs = set()
    for page in DOCS:
        in_docs |= numbers('BUG', page.read_text()) | numbers('FIX', page.read_text())
    test_names = set(re.findall(r'def (test_\w+)', text_of('tests')))
    assert in_docs == {bug.number for bug in BUGS}
    for n in sorted(in_docs):
        assert n in numbers('BUG', text_of('original')), f'BUG-{n} is not marked in original/'
        assert n in numbers('FIX', text_of('fixed')), f'FIX-{n} is not marked in fixed/'
        assert any(name.startswith(f'test_bug_{n}_') for name in test_names), f'no test_bug_{n}_*'
        assert any(name.startswith(f'test_fix_{n}_') for name in test_names), f'no test_fix_{n}_*'


def test_tests_named_in_the_docs_exist():
    defined = set(re.findall(r'def (test_\w+)', text_of('tests')))
    named = set()
    for page in DOCS:
        named |= set(re.findall(r'`(test_\w+)`', page.read_text()))
    assert named, 'the docs should name the tests that prove each fix'
    assert named <= defined, f'named in docs/ but not defined: {sorted(named - defined)}'


def test_bug_table_in_docs_matches_the_catalogue():
    rows = re.findall(r'^\| \[(\d+)\]\(#bug-\d+\) \| (.*?) \| (.*) \|$', (ROOT / 'docs' / 'bugs.md').read_text(), re.M)
    assert [(int(n), where, effect) for n, where, effect in rows] == [tuple(bug) for bug in BUGS]


def snippets():
    for page in DOCS:
        # A ```text block after at most a short paragraph is the output the snippet must print.
        blocks = re.findall(r'```python\n(.*?)```(?:\n\n(?:(?!```).){0,300}?```text\n(.*?)```)?', page.read_text(), re.S)
        for index, (code, shown_output) in enumerate(blocks):
            yield pytest.param(code, shown_output, id=f'{page.name}-{index}')


@pytest.mark.parametrize('code, shown_output', list(snippets()))
def test_docs_snippet_runs(code, shown_output, tmp_path):
    finished = run_code(code, cwd=tmp_path, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    if shown_output:
        assert finished.stdout.strip() == shown_output.strip()


def test_every_fault_in_the_table_names_a_test_that_exists():
    defined = set(re.findall(r'def (test_\w+)', text_of('tests')))
    rows = [line for line in (ROOT / 'docs' / 'faults.md').read_text().splitlines()
            if line.startswith('| ') and not line.startswith(('| input ', '| fault ', '|---'))]
    assert len(rows) >= 25
    for row in rows:
        named = re.findall(r'`(test_\w+)`', row.rsplit('|', 2)[-2])
        assert named and set(named) <= defined, row


def test_the_readme_answer_quotes_the_ablation():
    """README opens with three causes and how many seeds learn with each undone: docs/ablation.md's rows."""
    ablation = (ROOT / 'docs' / 'ablation.md').read_text()
    learnt = dict(re.findall(r'^\| (FIX-\d+) \| [^|]* \| (\d+ of 10) ', ablation, re.M))
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    answer = readme[readme.index('**The short answer.**'):readme.index('The fixed setup trains from')]
    causes = re.findall(r'\[BUG-(\d+)\]', answer)
    assert causes == ['4', '6', '1']  # the order the sentence below counts them in
    assert (f'{learnt["FIX-4"]} seeds learn without FIX-4 or without FIX-1, {learnt["FIX-6"]} without FIX-6'
            in answer) and learnt['FIX-1'] == learnt['FIX-4']


def test_the_readme_counts_the_fixed_budget_as_the_run_splits_it():
    """5,000 environment steps: so many training, so many policy checks (the last iterate's included)."""
    from fixed.hyperparameters import HYPERPARAMETERS as hp
    from fixed.keep_best import split_budget

    training, checks = split_budget(hp.nb_steps, hp.check_every, 1)
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    assert f'{hp.nb_steps:,} environment steps ({training:,} of them training' in readme
    assert f'and {checks + 1} policy checks;' in readme and training + checks + 1 == hp.nb_steps


def anchors_of(page):
    """The ids a page offers: ``<a id="...">`` and GitHub's slug of every heading."""
    text = page.read_text()
    ids = set(re.findall(r'<a id="([^"]+)"', text))
    for heading in re.findall(r'^#+ (.+)$', re.sub(r'```.*?```', '', text, flags=re.S), re.M):
        ids.add(re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-'))
    return ids


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in [ROOT / 'README.md', *DOCS]:
        text = re.sub(r'```.*?```', '', page.read_text(), flags=re.S)
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if re.match(r'[a-z]+:', target):
                continue  # a web address
            path, _, anchor = target.partition('#')
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f'{page.name}: {target} (no such file)')
            elif anchor and linked.suffix == '.md' and anchor not in anchors_of(linked):
                broken.append(f'{page.name}: {target} (no such anchor)')
    assert not broken, broken


BENCHMARKS = {'AVX2': ROOT / 'benchmarks' / 'speed' / 'RESULTS.md', 'AVX-512': ROOT / 'benchmarks' / 'speed' / 'RESULTS_AVX512.md'}
"""The full bench on each kind of machine the kit has met (2-core AMD EPYC)."""


def training_throughput(results):
    """(stock rates sorted, fixed rates sorted, median ratio) from a bench results file."""
    text = results.read_text()
    rounds = [tuple(map(int, row)) for row in re.findall(r'^\| \d+ \| (\d+) \| (\d+) \| [\d.]+x \|$', text, re.M)]
    ratio = re.search(r'^\| \*\*median\*\* \| \| \| \*\*([\d.]+)x\*\* \|$', text, re.M).group(1)
    stock, fixed = [sorted(column) for column in zip(*rounds)]
    return stock, fixed, ratio


def scaling(results):
    """{(samples, observation): (env step ms, fit step ms, agent MB)} from a bench results file."""
    rows = re.findall(r'^\| (\d+) \| (compact|raw) \| \d+ \| ([\d.]+) \| [\d.]+ \| ([\d.]+) \| (\d+) \|$',
                      results.read_text(), re.M)
    return {(int(n), kind): (float(env), float(fit), int(memory)) for n, kind, env, fit, memory in rows}


def own_audio_runs(results):
    """{seconds of audio: whole run in s} from a bench results file's own-audio table."""
    rows = re.findall(r'^\| (\d+) \| (?:all of it|excerpts) \| \d+ \| (\d+) \|', results.read_text(), re.M)
    return {int(seconds): int(whole) for seconds, whole in rows}


def span(values, digits=None):
    low, high = min(values), max(values)
    shown = [f'{v:.{digits}f}' if digits is not None else f'{v:g}' for v in (low, high)]
    return shown[0] if shown[0] == shown[1] else f'{shown[0]} to {shown[1]}'


def test_the_throughput_the_docs_quote_is_the_benchmarks():
    """docs/bugs.md and docs/index.md quote each machine's training throughput table."""
    bugs = ' '.join((ROOT / 'docs' / 'bugs.md').read_text().split())
    index = ' '.join((ROOT / 'docs' / 'index.md').read_text().split())
    (s2, f2, r2), (s5, f5, r5) = [training_throughput(path) for path in BENCHMARKS.values()]
    assert (f'with AVX2, stock {s2[0]} to {s2[-1]} steps/s, fixed {f2[0]} to {f2[-1]}, median ratio {r2}' in bugs
            and f'with AVX-512, stock {s5[0]} to {s5[-1]} steps/s, fixed {f5[0]} to {f5[-1]}, median ratio {r5}' in bugs)
    assert (f'at {s2[0]} to {s2[-1]} steps per second on a 2-core AMD EPYC with AVX2' in index
            and f'at {f2[0]} to {f2[-1]}, {r2} times as fast' in index)
    assert f'stock at {s5[0]} to {s5[-1]} steps per second, fixed at {f5[0]} to {f5[-1]}, {r5} times as fast' in index


def test_the_costs_of_long_signals_the_docs_quote_are_the_benchmarks():
    """docs/your_signal.md's step times and memory, and README's minute of audio, span both machines' tables."""
    page = ' '.join((ROOT / 'docs' / 'your_signal.md').read_text().split())
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    tables = [scaling(path) for path in BENCHMARKS.values()]
    long, short, raw = [[table[key] for table in tables] for key in ((144000, 'compact'), (600, 'compact'),
                                                                      (144000, 'raw'))]
    assert (f'an env step takes {span([r[0] for r in long], 1)} ms, a step of `fit` {span([r[1] for r in long], 1)} '
            f'ms and the agent {span([r[2] for r in long])} MB') in page
    assert (f'against {span([r[0] for r in short], 2)} ms, {span([r[1] for r in short], 1)} ms and '
            f'{span([r[2] for r in short])} MB at the question\'s 600 samples') in page
    assert (f'would cost {span([r[1] for r in raw], 0)} ms per step of `fit` and '
            f'{span([r[2] / 1000 for r in raw], 1)} GB') in page
    assert f'5,000 steps of `fit` on 3 s of 48 kHz audio take {span([5 * r[1] for r in long], 0)} s' in page
    # a minute of 48 kHz stereo is 40 times the 144,000 samples
    minute = [40 * r[0] / 1000 for r in long]
    assert (f'An env step on 144,000 samples takes {span([r[0] for r in long], 1)} ms' in page
            and f'about {span(minute, 2)} s, and 5,000 steps on all of it {span([5000 * m / 60 for m in minute], 0)} '
            'minutes' in page)
    assert f'a minute of 48 kHz stereo in {span([own_audio_runs(path)[60] for path in BENCHMARKS.values()])} s' in readme


def test_the_real_speech_numbers_the_docs_quote_are_the_measured_ones():
    """docs/your_signal.md's table and sentences on real speech are benchmarks/your_signal/REAL_SPEECH.json's runs."""
    import json

    runs = json.loads((ROOT / 'benchmarks' / 'your_signal' / 'REAL_SPEECH.json').read_text())
    page = ' '.join((ROOT / 'docs' / 'your_signal.md').read_text().split())

    def between(key, digits, sign=''):
        values = [run[key] for run in runs]
        return f'{min(values):{sign}.{digits}f} to {max(values):{sign}.{digits}f}'

    for label, key, digits in (('the input unchanged', 'input_unchanged', 3), ('the mean removed', 'mean_removed', 4),
                               ("the question's low-pass and offset at their best", 'question_ceiling', 4),
                               ("the chain's ceiling", 'ceiling', 4), ('the agent, 10,000 steps (the default)', 'rms', 4)):
        assert f'| {label} | {between(key, digits)} |' in page, label
    assert f'RMS error against the clean speech, {len(runs)} runs' in page
    close = sum(run['ratio_to_ceiling'] <= 1.1 for run in runs)
    above = [round(100 * (run['ratio_to_ceiling'] - 1)) for run in runs]
    assert f'within 10% of the ceiling in {close} of {len(runs)} runs ({min(above)}% to {max(above)}% above it)' in page
    cut = sum(run['mains_line_cut_db'] >= 20 for run in runs)
    assert (f'by {between("mains_line_cut_db", 1)} dB (at least 20 dB in {cut} of {len(runs)}) and the hum with its '
            f'harmonics by {between("hum_cut_db", 1)} dB') in page
    assert f'within {max(abs(run["speech_band_db"]) for run in runs):.2f} dB of the clean speech' in page
    other = json.loads((ROOT / 'benchmarks' / 'your_signal' / 'REAL_SPEECH_ONEDNN_OFF.json').read_text())
    above = [round(100 * (run['ratio_to_ceiling'] - 1)) for run in other]
    close = sum(run['ratio_to_ceiling'] <= 1.1 for run in other)
    cuts = [run['mains_line_cut_db'] for run in other]
    assert (f'ended within 10% of the ceiling in {close} of {len(other)} runs ({min(above)}% to {max(above)}% above it), '
            f'and cut the error at the mains frequency by {min(cuts):.1f} to {max(cuts):.1f} dB (at least 20 dB in '
            f'{sum(cut >= 20 for cut in cuts)} of {len(other)})') in page
    slower = json.loads((ROOT / 'benchmarks' / 'your_signal' / 'REAL_SPEECH_5000.json').read_text())
    above = [round(100 * (run['ratio_to_ceiling'] - 1)) for run in slower]
    close = sum(run['ratio_to_ceiling'] <= 1.1 for run in slower)
    assert f'ended {min(above)}% to {max(above)}% above the ceiling, within 10% in {close} of {len(slower)}' in page


def percent_above(rows, key='ratio_to_ceiling'):
    """'4% to 35%': how far above their ceilings ``rows`` ended, as the docs quote it."""
    values = [round(100 * (row[key] - 1)) for row in rows]
    return f'{min(values)}% to {max(values)}%'


def clip_family_numbers(runs):
    """What docs/your_signal.md#many-clips quotes of benchmarks/your_signal/CLIP_FAMILY*.json, by placeholder name."""
    from stepsignal.rates import success_rate

    answers = runs['held_out']
    inside = [row for row in answers if not row['outside_training']]
    far = [row for row in answers if row['why'] == 'outside training']

    def rate(count, total):
        return str(success_rate(count, total))

    def kind(*whys):
        return [row for row in answers if row['why'] in whys]

    seconds = sorted({round(family['train_seconds']) for family in runs['families']})
    seeds = {family['seed']: [{'ratio': row['rms'] / row['ceiling']} for row in family['clips']]
             for family in runs['families']}
    return {
        'half': rate(sum(row['rms'] <= 0.5 * row['mean_removed'] for row in answers), len(answers)),
        'hum': rate(sum(row['mains_line_cut_db'] >= 20 for row in answers), len(answers)),
        'close': rate(sum(row['ratio_to_ceiling'] <= 1.1 for row in inside), len(inside)),
        'silent': f"{sum(row['worse_than_input'] and not row['outside_training'] for row in answers)} of {len(answers)}",
        'warned': f"{sum(bool(row['outside_training']) for row in far)} of {len(far)}",
        'above': percent_above(answers),
        **{f'seed{seed}': percent_above(rows, 'ratio') for seed, rows in seeds.items()},
        'seconds': ' to '.join(map(str, seconds)),
        'voices': percent_above(kind('other voice')), 'family': percent_above(kind('other mains', 'other sentence')),
        'man': percent_above([row for row in answers if row['clip'].startswith('numbers')]),
        'woman': percent_above([row for row in answers if row['clip'].startswith('weather')]),
        'kept': rate(sum(row['ratio_to_ceiling'] <= 1.1 or bool(row['outside_training']) or row['far_from_ceiling']
                         for row in answers), len(answers)),
    }


def test_the_chain_speed_choices_page_counts_its_runs():
    """benchmarks/your_signal/CHAIN_SPEED_CHOICES.md: each row's count within 10% of the ceiling and its range
    above it are its runs' in CHAIN_SPEED_CHOICES.json."""
    import json

    from stepsignal.rates import success_rate

    page = (ROOT / 'benchmarks' / 'your_signal' / 'CHAIN_SPEED_CHOICES.md').read_text()
    variants = json.loads((ROOT / 'benchmarks' / 'your_signal' / 'CHAIN_SPEED_CHOICES.json').read_text())
    rows = re.findall(r'^\| (?:one|two) updates? of .* steps \| .*$', page, re.M)  # not the minute's timings
    assert len(rows) == len(variants)
    for variant, row in zip(variants, rows):
        runs = variant['runs']
        close = sum(run['ratio_to_ceiling'] <= 1.1 for run in runs)
        above = [100 * (run['ratio_to_ceiling'] - 1) for run in runs]
        assert f'| {success_rate(close, len(runs))} | {min(above):.0f}% to {max(above):.0f}% |' in row, row
        settings = variant['settings']
        assert f"{settings['batch_size']}, {settings['observed']} values" in row and f"{settings['steps']:,} steps" in row


def test_the_clip_family_numbers_the_docs_quote_are_the_measured_ones():
    """docs/your_signal.md#many-clips: its table and sentences are the runs of benchmarks/your_signal/CLIP_FAMILY*.json."""
    import json

    from stepsignal.rates import success_rate

    def runs(name):
        return json.loads((ROOT / 'benchmarks' / 'your_signal' / f'{name}.json').read_text())

    one, many = clip_family_numbers(runs('CLIP_FAMILY')), clip_family_numbers(runs('CLIP_FAMILY_VOICES'))
    page = ' '.join((ROOT / 'docs' / 'your_signal.md').read_text().split())
    assert f"(10,000 steps, {one['seconds']} s each," in page
    assert f"CLIP_FAMILY_VOICES.md), {many['seconds']} s each)" in page
    for label, key in (('RMS error at most half the mean-removed one', 'half'),
                       ('the mains line cut by at least 20 dB', 'hum'),
                       ("within 10% of that clip's ceiling (clips inside what it trained on)", 'close'),
                       ('worse than the input unchanged without a warning', 'silent'),
                       ('outside training and warned about', 'warned')):
        assert f'| {label} | {one[key]} | {many[key]} |' in page, label
    assert (f"With one voice, its own voice on other mains or in another sentence ended {one['family']} above the "
            f"ceiling, the man's voice it never heard {one['man']}, the woman's {one['woman']}.") in page
    assert (f"With five voices, its own voices on the clips it never held {many['family']}, the unheard man's "
            f"{many['man']}, the unheard woman's {many['woman']}:") in page
    assert f"the policy ended {many['seed0']} (seed 0) and {many['seed1']} (seed 1)" in page
    assert f"in both families: {one['kept']} and {many['kept']}." in page
    warned = runs('CLIP_FAMILY')['held_out']
    quoted = re.search(r'its DC offset \(0\.5\) is outside the [^"*]+ trained on', page).group(0)
    assert any(quoted in row['outside_training'] for row in warned), quoted
    more_one, more_many = runs('CLIP_FAMILY_SEEDS_2_3'), runs('CLIP_FAMILY_VOICES_SEEDS_2_3')
    assert (f"ceiling {clip_family_numbers(more_one)['close']} with one voice, "
            f"{clip_family_numbers(more_many)['close']} with five; over the four seeds,") in page
    own = [{'ratio_to_ceiling': row['rms'] / row['ceiling']} for family in more_many['families'] if family['seed'] == 3
           for row in family['clips']]
    held = [row for row in more_many['held_out'] if row['seed'] == 3]
    assert (f"seed 3's five-voice policy ended {percent_above(own)} above the ceiling on its own clips as they are, "
            f"and {percent_above(held)} on the clips it never held") in page
    longer = clip_family_numbers(runs('CLIP_FAMILY_VOICES_20000'))
    assert (f"CLIP_FAMILY_VOICES_20000.md)) was within 10% on {longer['close']}, the unheard woman's voice "
            f"{longer['woman']} above her ceiling") in page
    for first, more in ((runs('CLIP_FAMILY'), more_one), (runs('CLIP_FAMILY_VOICES'), more_many)):
        inside = [row for row in first['held_out'] + more['held_out'] if not row['outside_training']]
        assert str(success_rate(sum(row['ratio_to_ceiling'] <= 1.1 for row in inside), len(inside))) in page
    for name in ('CLIP_FAMILY_ONEDNN_OFF', 'CLIP_FAMILY_VOICES_ONEDNN_OFF'):
        other = clip_family_numbers(runs(name))
        assert (f"at most half the mean-removed error {other['half']}, the mains line cut by 20 dB or more {other['hum']}, "
                f"within 10% of the ceiling {other['close']}, worse than the input without a warning {other['silent']}, "
                f"outside training and warned about {other['warned']}; the answers ended {other['above']} above") in page
    before_one = clip_family_numbers(runs('CLIP_FAMILY_XEON'))
    before_many = clip_family_numbers(runs('CLIP_FAMILY_VOICES_HUM_ADDED'))
    assert f"was within 10% of the ceiling on {before_many['close']} (" in page
    assert f"was within 10% on {before_one['close']} (" in page
    assert f"its unheard voices {before_one['voices']} above" in page

    def highpass(name):
        values = [row['settings']['highpass'] for row in runs(name)['held_out']
                  if row['why'] in ('other mains', 'other sentence')]
        return f'{min(values):.0f} to {max(values):.0f} Hz'

    assert (f"set its high-pass at {highpass('CLIP_FAMILY_VOICES_HUM_ADDED')} on its own voice's clips (with the hum "
            f"replaced, {highpass('CLIP_FAMILY_VOICES')})") in page


def test_the_counts_in_readme_are_the_codes():
    """README's "each of the 23 bugs" and "(four changes beyond the bugs)" against what the code has."""
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    in_words = {'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6}
    improvements = numbers('IMPROVEMENT', text_of('fixed'))
    said = re.search(r'\((\w+) changes beyond the bugs\)', readme).group(1)
    assert in_words[said] == len(improvements) and improvements == set(range(1, len(improvements) + 1))
    assert f'each of the {len(BUGS)} bugs' in readme


def test_the_main_jobs_time_in_readme_is_the_measured_one():
    """README's wall times for the main job are the range of benchmarks/speed/MAIN_JOB.md's runs."""
    runs = re.findall(r'Wall time: original (\d+) s, fixed \d+ s \(training (\d+) s, (\d+) steps/s\), report [\d.]+ s, '
                      r'in all (\d+) s\.', (ROOT / 'benchmarks' / 'speed' / 'MAIN_JOB.md').read_text())
    assert len(runs) >= 2
    original, training, rate, total = [sorted(int(run[i]) for run in runs) for i in range(4)]
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    walls = sorted(int(wall) for wall in re.findall(r'^\| \d+ \| (\d+) s \|', (ROOT / 'benchmarks' / 'speed' / 'MAIN_JOB.md').read_text(), re.M))
    assert f'About {walls[0]} to {walls[-1]} seconds' in readme
    assert f'{original[0]} to {original[-1]} seconds for the original' in readme
    assert f'{training[0]} to {training[-1]} seconds for the fixed agent' in readme
    assert f'{rate[0]} to {rate[-1]} steps per second' in readme


def test_the_install_size_and_time_in_readme_are_the_measured_ones():
    """README's install size and time are benchmarks/speed/INSTALL.md's runs into a new environment."""
    table = (ROOT / 'benchmarks' / 'speed' / 'INSTALL.md').read_text()
    fresh = re.findall(r'^\| \d \| `[^`]+` (?:\(the main job\'s packages\) )?into a new environment \| (\d+) s \| \d+ s \| ([\d.]+) GB \|$',
                       table, re.M)
    assert len(fresh) >= 2
    walls = sorted(int(wall) for wall, _ in fresh)
    sizes = {size for _, size in fresh}
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    assert len(sizes) == 1 and f'{sizes.pop()} GB in a new virtual environment, {walls[0]} to {walls[-1]} s' in readme


def test_the_figures_run_is_the_one_index_quotes():
    """docs/index.md names the machine and date of the run that drew docs/figures, and quotes its numbers."""
    import json

    run = json.loads((ROOT / 'docs' / 'figures' / 'report.json').read_text())
    fixed = run['fixed']
    index = ' '.join((ROOT / 'docs' / 'index.md').read_text().split())
    kind = 'AVX2 (no AVX-512)' if run['machine'].endswith('AVX2 (no AVX-512)') else 'AVX-512'
    assert f"seed {run['seed']}, on a 2-core AMD EPYC with {kind}, {run['date']}" in index
    assert (f"{fixed['cutoff_hz']:.2g} Hz, offset {fixed['offset']:.4f}, L2 {fixed['l2_distance']:.2g}, first success "
            f"after {fixed['first_success_env_steps']} environment steps") in index
    assert run['original']['distinct_actions'] == 1  # the figures show one applied action, as the page says


def test_each_reverted_alone_line_quotes_the_ablation_table():
    """docs/bugs.md's "Reverted alone" lines are the rows of docs/ablation.md's leave-one-out table."""
    ablation = (ROOT / 'docs' / 'ablation.md').read_text()
    table = ablation[ablation.index('<a id="leave-one-out">'):]
    rows = {match[0]: match[1:] for match in re.findall(
        r'^\| (FIX-\d+|fixed) \| [^|]+ \| (\d+) of 10 \(95% CI (\d+-\d+)%\) \| ([\d.]+) \| ([\d.]+|never) \|', table, re.M)}
    sections = re.split(r'<a id="bug-(\d+)"></a>', (ROOT / 'docs' / 'bugs.md').read_text())
    quoted = 0
    for number, section in zip(sections[1::2], sections[2::2]):
        line = re.search(r'\*\*Reverted alone\*\* \(seeds 0-9, [^)]*\)\): (.*?)\n- \*\*', section, re.S)
        if line is None or f'FIX-{number}' not in rows:
            continue
        text = ' '.join(line.group(1).split())
        successes, interval, l2, steps = rows[f'FIX-{number}']
        assert text.startswith(f'{successes} of 10 seeds succeed (95% CI {interval}%), median final L2 {l2}, '), number
        assert ('the median seed never succeeded' in text if steps == 'never' else
                f'first success after a median {float(steps):,.0f} env steps' in text), (number, steps, text)
        fixed = rows['fixed']
        assert text.endswith(f'with every fix, {fixed[0]} of 10, L2 {fixed[2]}, first success after {fixed[3]}.'), number
        quoted += 1
    assert quoted >= 10


@pytest.mark.parametrize('measured_file', ['HER.json', 'HER_ONEDNN_OFF.json', 'HER_QUESTION_10_19.json'])
def test_the_her_tables_the_docs_quote_are_the_measured_ones(measured_file):
    """docs/her.md: every row of its tables is the measurement's, as the experiment writes them."""
    import json

    from stepsignal.experiments.hindsight import tables

    measured = json.loads((ROOT / 'benchmarks' / 'her' / measured_file).read_text())
    rows = [line for line in tables(measured, measured['seeds'], measured.get('question')) if line.startswith('|')]
    page = (ROOT / 'docs' / 'her.md').read_text().splitlines()
    missing = [row for row in rows if row not in page]
    assert rows and not missing, missing


def test_the_stable_baselines3_rows_the_docs_quote_are_the_benchmarks():
    page = (ROOT / 'docs' / 'her.md').read_text().splitlines()
    kept = (ROOT / 'benchmarks' / 'her' / 'HER_SB3.md').read_text().splitlines()
    rows = [line for line in page if line.startswith(('| fixed DDPG', '| Stable-Baselines3'))]
    assert len(rows) == 4 and all(row in kept for row in rows)


def test_the_sparse_reward_section_is_the_kept_measurement():
    """docs/her.md's sparse half: its tables are the kept runs' (benchmarks/her/sparse/results.json),
    as stepsignal.experiments.sparse_her writes them, and so is how sparse the reward is."""
    import json

    from stepsignal.experiments.sparse_her import tables
    from stepsignal.rates import success_rate

    kept = ROOT / 'benchmarks' / 'her' / 'sparse'
    results = json.loads((kept / 'results.json').read_text())
    seeds = sorted({int(key.split()[-1]) for key in results['runs']})
    budgets = sorted({int(key.split()[1]) for key in results['runs']})
    page = (ROOT / 'docs' / 'her.md').read_text()
    lines = page.splitlines()
    rows = [line for line in tables(results, seeds, budgets) if line.startswith('|') or 'in all.' in line]
    missing = [row for row in rows if row not in lines]
    assert rows and not missing, missing
    assert set((kept / 'report.md').read_text().splitlines()) >= set(rows)
    moves = results['random_moves']
    text = ' '.join(page.split())
    assert (f"{success_rate(moves['touched'], moves['episodes'])} touch success at some step and "
            f"{success_rate(moves['ended'], moves['episodes'])} end in it") in text
    assert f"{moves['rewarded_steps']:,} of their {moves['steps']:,} steps" in text
    assert '](../benchmarks/her/sparse/sparse_her.png)' in page and (kept / 'sparse_her.png').is_file()

    says = ' '.join(page.split('## Where HER helps')[1].split('### What it says')[1].split('## Carry')[0].split())

    def rates(method, steps):
        return [results['runs'][f'{method} {steps} {seed}']['unseen'] for seed in seeds
                if f'{method} {steps} {seed}' in results['runs']]

    for method in ('fixed', 'fixed-her', 'sb3-sac-her'):  # the pooled counts the prose quotes
        for steps in budgets:
            found = rates(method, steps)
            reached = sum(round(one['success_rate'] * one['scenarios']) for one in found)
            assert f"{reached} of {sum(one['scenarios'] for one in found)}" in says, (method, steps)
    plain, her = rates('fixed', 20000), rates('fixed-her', 20000)
    assert all(one['success_rate'] == 1.0 for one in her)  # "every seed reaches all 100"
    assert sum(one['success_rate'] < 0.9 for one in plain) == 4 and 'four of ten seeds below 90%' in says
    ahead = sum(h['success_rate'] > p['success_rate'] for h, p in zip(rates('fixed-her', 2000), rates('fixed', 2000)))
    assert ahead == 7 and 'HER is ahead on 7 of the 10' in says


def test_the_example_pages_quote_their_measurements():
    """docs/your_script.md's and README's rates for examples/question_fixed.py are the kept runs'."""
    import json

    from stepsignal.rates import success_rate

    rates = []
    for name in ('EXAMPLE_SEEDS', 'EXAMPLE_SEEDS_ONEDNN_OFF'):
        seeds = json.loads((ROOT / 'benchmarks' / 'your_script' / f'{name}.json').read_text())['seeds']
        rates.append(str(success_rate(sum(seed.get('success', False) for seed in seeds), len(seeds))))
        assert f'Learnt (L2 < 1.0): {rates[-1]} seeds.' in (ROOT / 'benchmarks' / 'your_script' / f'{name}.md').read_text()
    assert rates == ['10 of 10 (95% CI 72-100%)'] * 2, rates
    page = ' '.join((ROOT / 'docs' / 'your_script.md').read_text().split())
    assert ('10 of 10 seeds (95% CI 72-100%) in the default rounding world and on 10 of 10 with oneDNN off'
            in page)
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    assert '(10 of 10 seeds learn in each of two rounding worlds' in readme


@pytest.mark.parametrize('verb', ['compare', 'train', 'evaluate', 'ablate', 'bench', 'process', 'clips', 'scenarios',
                                  'diagnose', 'original', 'fixed'])
def test_each_help_is_plain_text_and_says_what_the_command_writes_or_does(verb, capsys):
    """--help as a terminal shows it: no reStructuredText markup; the verbs that write name their folder."""
    import importlib

    from stepsignal.__main__ import VERBS

    module = importlib.import_module(VERBS.get(verb, f'{verb}.__main__'))
    with pytest.raises(SystemExit) as stopped:
        module.main(['--help'])
    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert '``' not in text and ':func:' not in text, text
    description = '\n'.join(line for line in text.split('options:')[0].splitlines()[1:]
                            if not line.startswith(' ' * 10))  # the usage lines left out
    if verb != 'diagnose':  # it writes nothing
        assert re.search(r'[Ww]rit', description), description
    if verb in VERBS:  # one command as typed (original's and fixed's take no more than --out DIR)
        assert re.search(rf'^\s+python -m stepsignal {verb} \S', description, re.M), description


def test_the_leave_one_out_of_the_example_is_quoted_as_measured():
    """docs/your_script.md's table of the example's changes undone alone is the kept runs', row by row."""
    import json

    from stepsignal.experiments.example_leave_one_out import UNDONE
    from stepsignal.rates import success_rate

    results = json.loads((ROOT / 'benchmarks' / 'your_script' / 'EXAMPLE_LEAVE_ONE_OUT.json').read_text())['results']
    kept = (ROOT / 'benchmarks' / 'your_script' / 'EXAMPLE_LEAVE_ONE_OUT.md').read_text()
    page = (ROOT / 'docs' / 'your_script.md').read_text()
    for change in UNDONE:
        runs = [run for run in results[change].values() if 'error' not in run]
        rate = success_rate(sum(run['success'] for run in runs), len(runs))
        assert f'| {change} | {rate} |' in page, (change, rate)
        assert f'| {change} | {UNDONE[change][0]} | {rate} |' in kept, (change, rate)
    # what the page's prose says of the table
    learnt = {change: [run['success'] for run in results[change].values() if 'error' not in run] for change in UNDONE}
    assert not any(learnt['FIX-4'] + learnt['FIX-1'] + learnt['FIX-6'])  # "no seed learns"
    stoppers = sorted((change for change in UNDONE if not any(learnt[change])), key=lambda c: int(c.split('-')[1]))
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    assert f'(three: {", ".join(stoppers)}; each undone alone stops every seed)' in readme, stoppers
    for change in ('FIX-17', 'FIX-8'):  # "most seeds still learn and some do not"
        assert len(learnt[change]) / 2 < sum(learnt[change]) < len(learnt[change]), change
    others = set(UNDONE) - {'FIX-1', 'FIX-4', 'FIX-6', 'FIX-17', 'FIX-8'}
    assert all(all(learnt[change]) for change in others)  # "on every seed measured"


def test_the_plain_keras_rl2_update_is_quoted_as_measured():
    """docs/bugs.md's sentence on --plain-keras-rl2 is the two kept evaluations': rates and medians."""
    import json

    found = {name: json.loads((ROOT / 'benchmarks' / 'speed' / f'{name}.json').read_text())
             for name in ('PLAIN_KERAS_RL2', 'FAST_UPDATE')}
    assert found['PLAIN_KERAS_RL2']['plain_keras_rl2'] and not found['FAST_UPDATE']['plain_keras_rl2']
    assert {run['update'] for run in found['PLAIN_KERAS_RL2']['seeds']} == {'keras-rl2'}
    plain, fast = (found[name]['summary'] for name in ('PLAIN_KERAS_RL2', 'FAST_UPDATE'))
    page = ' '.join((ROOT / 'docs' / 'bugs.md').read_text().split())
    assert (f"seeds 0-9, {plain['success_text']}, median first success after {plain['median_first_success_env_steps']:g} "
            f"env steps, against {fast['success_text'].split(' (')[0]} and {fast['median_first_success_env_steps']:g} "
            'on the fast update the same day') in page


def test_the_peers_page_states_the_kept_search_and_its_corner_distances():
    """docs/peers.md's search section: the best trials it names are the kept study's, and the median L2s
    it says most TD3 trials end at are those of a constant policy at a corner of the action square on
    the validation scenarios (within 2%), which most TD3 trials do end at."""
    import json

    import numpy as np

    from fixed.keep_best import policy_outcome
    from shared.scenario import StepRanges
    from stepsignal.experiments.peers import VALIDATION_SCENARIOS, VALIDATION_SEED
    from stepsignal.experiments.tune_peers import best_trial
    from stepsignal.own_signal.scenarios import RandomStepSignal
    from stepsignal.own_signal.any_signal import make_env

    class Corner:  # a constant policy, as the checks ask for an agent
        def __init__(self, action):
            self.action = np.array(action, dtype=np.float32)
            self.processor = self

        def process_observation(self, observation):
            return observation

        def policy_action(self, observation):
            return self.action

    study = json.loads((ROOT / 'benchmarks' / 'peers' / 'tuned' / 'results.json').read_text())
    search = ' '.join((ROOT / 'docs' / 'peers.md').read_text().split('## The search')[1].split('## ')[0].split())
    for algorithm in ('TD3', 'SAC'):
        best = best_trial(study['trials'][algorithm])
        assert f"best (trial {best['number']})" in search
        assert f"{best['row']['validation']['median_l2']:.3g}" in search
    assert f"TD3 {len(study['trials']['TD3'])} trials" in search and f"SAC {len(study['trials']['SAC'])} trials" in search

    corners = []
    for action in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        outcomes = [policy_outcome(Corner(action), make_env(None, seed=VALIDATION_SEED + i, env_class=RandomStepSignal,
                                                            ranges=StepRanges()))
                    for i in range(VALIDATION_SCENARIOS)]
        corners.append(float(np.median([outcome['l2_distance'] for outcome in outcomes])))

    def at_a_corner(l2):
        return min(abs(l2 - corner) / corner for corner in corners) < 0.02

    quoted = search.split('the same few median L2s, ')[1].split(':')[0]  # "42.3, 50.5 and 109"
    values = [float(v) for v in quoted.replace(' and ', ', ').split(', ')]
    assert len(values) == 3 and all(at_a_corner(value) for value in values)
    ends = [trial['row']['validation']['median_l2'] for trial in study['trials']['TD3']]
    assert sum(at_a_corner(l2) for l2 in ends) > len(ends) / 2


def test_the_peers_page_is_the_kept_measurement():
    """docs/peers.md's tables are the kept runs' (benchmarks/peers/scored/results.json), row by row, and
    what its prose says of them holds: every peer succeeds on the question's scenario, later than the
    fixed agent; on never-seen scenarios each peer is below the fixed agent on every seed."""
    import json

    from stepsignal.experiments.peers import summary, tables

    results = json.loads((ROOT / 'benchmarks' / 'peers' / 'scored' / 'results.json').read_text())
    seeds = sorted({int(key.split()[-1]) for key in results['runs']})
    page = (ROOT / 'docs' / 'peers.md').read_text()
    for line in tables(results, seeds):
        assert line in page, line
    assert f'Seeds {seeds[0]}-{seeds[-1]}, each agent on each task' in page

    def runs(agent, task):
        return [results['runs'][f'{agent} {task} {seed}'] for seed in seeds]

    # The random scenarios' budget, as the page states it: the kept runs' training steps, and the
    # checks of CHECK_SCENARIOS scenarios each, the last iterate's included.
    from stepsignal.own_signal.scenarios import CHECK_EVERY, CHECK_SCENARIOS

    trained = {run['training_steps'] for agent in ('fixed', 'TD3', 'SAC') for run in runs(agent, 'scenarios')}
    assert len(trained) == 1
    trained = trained.pop()
    checks = (trained - 1) // CHECK_EVERY + 1
    text = ' '.join(page.split())
    assert (f'{trained:,} training steps and ten checks of {CHECK_SCENARIOS} scenarios make '
            f'{trained + checks * CHECK_SCENARIOS:,} environment steps') in text and checks == 10

    says = ' '.join(page.split('## What it says')[1].split())
    for agent in ('fixed', 'TD3', 'SAC'):  # the prose quotes the tables' medians
        found = summary(runs(agent, 'question'))
        assert f"{found['median_first_success']:,}" in says and f"{found['median_l2']:.3g}" in says

    for agent in ('TD3-zoo', 'SAC-zoo'):  # the zoo-tuned: what the prose quotes, and "ahead of all four"
        question, family = summary(runs(agent, 'question')), summary(runs(agent, 'scenarios'))
        assert f"{question['median_l2']:.3g}" in says and f"{family['unseen']['highest']:.0%}" in says
        assert question['success_text'].startswith(('0 of', '1 of'))
        assert all(peer['unseen']['success_rate'] < mine['unseen']['success_rate']
                   for peer, mine in zip(runs(agent, 'scenarios'), runs('fixed', 'scenarios')))
    assert f"{summary(runs('SAC-zoo', 'scenarios'))['unseen']['median']:.0%}" in says

    fixed = summary(runs('fixed', 'question'))
    for agent in ('TD3', 'SAC'):
        assert all(run['success'] for run in runs(agent, 'question'))
        assert summary(runs(agent, 'question'))['median_first_success'] > fixed['median_first_success']
        assert all(peer['unseen']['success_rate'] < mine['unseen']['success_rate']
                   for peer, mine in zip(runs(agent, 'scenarios'), runs('fixed', 'scenarios')))


def test_readme_quotes_the_latest_measured_duration_of_its_test_command():
    """README's "about N minutes" is the last row of benchmarks/speed/TESTS.md's table, rounded to the minute."""
    section = (ROOT / 'benchmarks' / 'speed' / 'TESTS.md').read_text().split('<a id="readme-command"></a>')[1]
    rows = [line for line in section.split('\n## ')[1].splitlines() if re.match(r'\| \d{4}-\d\d-\d\d \|', line)]
    minutes, seconds = map(int, re.search(r'(\d+) min (\d+) s', rows[-1]).groups())
    readme = ' '.join((ROOT / 'README.md').read_text().split())
    assert f'They take about {round(minutes + seconds / 60)} minutes on two cores' in readme, rows[-1]


def test_the_benchmarks_index_lists_every_measurement_and_every_program_has_a_door():
    """benchmarks/README.md names every file in benchmarks/, each link resolves, and every program under
    stepsignal/experiments/ is a verb or listed in README's maintainers' section with its command."""
    from stepsignal.__main__ import VERBS

    index = (ROOT / 'benchmarks' / 'README.md').read_text()
    linked = set(re.findall(r'\]\(([^)#]+)\)', index))
    for path in sorted((ROOT / 'benchmarks').rglob('*')):
        if path.is_file() and path.name != 'README.md':
            name = path.relative_to(ROOT / 'benchmarks').as_posix()
            assert name in linked, f'benchmarks/{name} is not in benchmarks/README.md'
            assert path.parent != ROOT / 'benchmarks', f'benchmarks/{name}: each measurement in its question\'s folder'
    for link in linked:
        assert (ROOT / 'benchmarks' / link).resolve().exists(), link
    readme = (ROOT / 'README.md').read_text()
    maintainers = readme.split('## For maintainers: the measurement programs')[1]
    helpers = {'__init__', 'child', 'kept_runs', 'machine', 'runner'}  # used by the programs, not run themselves
    for program in sorted((ROOT / 'stepsignal' / 'experiments').glob('*.py')):
        module = f'stepsignal.experiments.{program.stem}'
        if program.stem not in helpers and module not in VERBS.values():
            assert re.search(rf'python3 -m {re.escape(module)}\b', maintainers), module


@pytest.mark.parametrize('program', ['example_seeds', 'example_leave_one_out', 'hindsight', 'real_speech',
                                     'held_out_clips', 'mujoco_envs', 'peak_memory', 'scaling_probe', 'peers',
                                     'tune_peers', 'sparse_her'])
def test_each_measurement_program_answers_help_in_plain_text(program, capsys):
    import importlib

    module = importlib.import_module(f'stepsignal.experiments.{program}')
    with pytest.raises(SystemExit) as stopped:
        module.main(['--help'])
    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith(f'usage: python -m stepsignal.experiments.{program}') and '``' not in text, text[:500]


def documented_commands():
    """Every `python3 -m <kit module> ...` command README and docs/ show, in backticks or in ```sh blocks,
    without the fragments that stand for more (`...`) or are an example's output."""
    commands = set()
    for page in [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]:
        text = page.read_text()
        blocks = re.findall(r'```sh\n(.*?)```', text, re.S)
        candidates = re.findall(r'`(python3? -m [^`]+)`', text) + [line for block in blocks for line in block.splitlines()]
        for candidate in candidates:
            for command in re.findall(r'python3? -m ((?:original|fixed|stepsignal)\S*(?: [^&#]*)?)', candidate):
                command = command.strip()
                if '...' not in command and 'ended with' not in command:
                    commands.add(command)
    return sorted(commands)


REFUSED_AS_DOCUMENTED = {'fixed --steps 40000'}
"""Commands a page shows to say that they are refused (docs/bugs.md, BUG-15)."""


class _Parsed(Exception):
    """Raised by the patched parse_args once a command line parsed: what runs after it is not this test's."""


@pytest.mark.parametrize('command', documented_commands())
def test_every_command_the_docs_show_parses_as_printed(command, tmp_path, monkeypatch):
    """Each command of README and docs/, with its placeholders filled (DIR a new folder, N a number, IN.wav a
    file), gets through its own parser: no option a page names was renamed or removed (the old spellings that
    are answered with the new one are not documented)."""
    import argparse
    import importlib
    import shlex

    from stepsignal.__main__ import VERBS

    wav = tmp_path / 'signal.wav'
    wav.write_bytes(b'RIFF')  # the parsers take paths; what is in them is checked later, by the run
    words = shlex.split(re.sub(r'\[[^\]]*\]', '', command))  # an optional part left out
    fills = {'DIR': str(tmp_path / 'out'), 'N': '0', 'NAME=VALUE': 'TF_ENABLE_ONEDNN_OPTS=0', 'PAGE.md': str(tmp_path / 'page.md'),
             'HOST:6379': '127.0.0.1:6379', 'SAMPLES': '600', 'OBSERVATION': 'compact'}
    words = [fills.get(word, str(tmp_path / word) if re.search(r'\.(wav|npy|py)$|/$|^results/|^runs', word) else word)
             for word in words]
    words = [str(tmp_path / 'out' / word.split('/', 1)[1]) if word.startswith('DIR/') else word for word in words]
    words = ['4' if before == '--revert' and word == '0' else word for before, word in zip([''] + words, words)]
    module, argv = words[0], words[1:]
    if module == 'stepsignal' and argv and argv[0] in VERBS:
        module, argv = VERBS[argv[0]], argv[1:]
    elif module in ('original', 'fixed'):
        module = f'{module}.__main__'
    if module == 'stepsignal' and not argv:
        return  # the verbs' list
    if '--help' in argv:
        return  # each --help is tested above
    real_parse = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        raise _Parsed(real_parse(self, args, namespace))

    def refuse(self, message):
        raise _Parsed(message)

    monkeypatch.setattr(argparse.ArgumentParser, 'parse_args', parse_then_stop)
    monkeypatch.setattr(argparse.ArgumentParser, 'error', refuse)
    with pytest.raises(_Parsed) as parsed:
        importlib.import_module(module).main(argv)
    said = parsed.value.args[0]
    if isinstance(said, str) and command not in REFUSED_AS_DOCUMENTED:  # prose may name a command without its --out
        assert said.startswith('the following arguments are required'), said


def test_the_family_training_table_is_the_kept_runs():
    """docs/generalisation.md's table of training for the family: each row from the kept evaluations
    (benchmarks/generalisation/*.json, each with the options it names) beside the same seed's run with
    the table's settings (the fixed agent's rows of the peers' kept run), and the sentences under it
    from the same numbers."""
    import json

    import numpy as np

    folder = ROOT / 'benchmarks' / 'generalisation'
    kept = {name: json.loads((folder / f'{name}.json').read_text())
            for name in ('EPISODE_STEPS_1', 'GRADIENT_STEPS_4', 'EPISODE_STEPS_1_GRADIENT_STEPS_4')}
    for name, run in kept.items():
        assert run['environment'] == {}
        assert (run['episode_steps'], run.get('gradient_steps')) == ((1 if 'EPISODE' in name else None),
                                                                 (4 if 'GRADIENT' in name else None))
        for seed in run['seeds']:
            assert seed['steps'] == 5000 and seed['hyperparameters']['max_episode_steps'] == (run['episode_steps'] or 10)
            assert seed['hyperparameters']['gradient_steps'] == (run.get('gradient_steps') or 2)
    default = json.loads((ROOT / 'benchmarks' / 'peers' / 'scored' / 'results.json').read_text())['runs']
    page = (ROOT / 'docs' / 'generalisation.md').read_text()
    columns = {'table': [default[f'fixed scenarios {seed}'] for seed in range(10)],
               **{name: run['seeds'] for name, run in kept.items()}}
    rates = {name: [run['unseen']['success_rate'] for run in runs] for name, runs in columns.items()}
    both = columns['EPISODE_STEPS_1_GRADIENT_STEPS_4']
    for seed in range(10):
        cells = ' | '.join(f'{rates[name][seed]:.0%}' for name in columns)
        assert f"| {seed} | {cells} | {'yes' if both[seed]['success'] else 'no'} ({both[seed]['l2_distance']:.3f}) |" in page

    def spread(name):
        return f'{min(rates[name]):.0%} / {np.median(rates[name]):.0%} / {max(rates[name]):.0%}'

    assert f"| lowest / median / highest | {' | '.join(spread(name) for name in columns)} | 10 of 10 |" in page
    assert sum(run['success'] for run in both) == 10 and min(rates['EPISODE_STEPS_1_GRADIENT_STEPS_4']) >= 0.95
    assert min(rates['EPISODE_STEPS_1']) < 0.95 and min(rates['GRADIENT_STEPS_4']) < 0.95  # "alone, neither"
    text = ' '.join(page.split())
    assert f"training took a median {np.median([run['train_seconds'] for run in both]):.0f} s per seed" in text
    assert f"({np.median([run['steps_per_second'] for run in columns['table']]):.0f} steps per second" in text