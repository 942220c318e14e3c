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
