"""The kit's shape: the mirror is the list of fixes, and imports run one way.

``original/`` and ``fixed/`` hold the same files; every block of ``diff -r -U0 original fixed``
carries a tag that says why it is there (``FIX-n``, ``IMPROVEMENT-n`` or ``PORT``). The layers:
``shared/`` (the base) imports neither variant nor a command; the variants import ``shared`` and
themselves, never each other and never ``stepsignal/`` (the commands on top); only a variant's
``__main__.py``, the door Python's ``-m`` opens, hands over to ``stepsignal.run``.
"""
import ast
import difflib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r'\b(FIX|IMPROVEMENT)-\d+\b|\bPORT\b')
LAYERS = {'shared': 0, 'original': 1, 'fixed': 1, 'stepsignal': 2}


def change_blocks(before, after):
    """The change blocks of ``diff -U0 before after``: per block, the lines it adds."""
    blocks = []
    for group in difflib.SequenceMatcher(None, before, after, autojunk=False).get_grouped_opcodes(0):
        blocks.append([line for tag, _, _, j1, j2 in group if tag != 'equal' for line in after[j1:j2]])
    return blocks


def untagged_blocks(before, after):
    """Change blocks none of whose added lines carries a tag (a pure deletion counts as untagged)."""
    return [block for block in change_blocks(before, after) if not any(TAG.search(line) for line in block)]


def mirrored_files():
    return sorted(p.name for p in (ROOT / 'original').glob('*.py'))


def test_original_and_fixed_hold_the_same_files():
    assert mirrored_files() == sorted(p.name for p in (ROOT / 'fixed').glob('*.py'))


@pytest.mark.parametrize('name', mirrored_files())
def test_every_change_from_original_to_fixed_is_tagged(name):
    before = (ROOT / 'original' / name).read_text().splitlines()
    after = (ROOT / 'fixed' / name).read_text().splitlines()
    untagged = untagged_blocks(before, after)
    assert not untagged, f'{len(untagged)} untagged change blocks in {name}; the first:\n' + '\n'.join(untagged[0])


def test_the_tag_count_can_fail():
    """The counter sees an untagged change, a pure deletion, and accepts each kind of tag."""
    before = ['a = 1', 'b = 2', 'c = 3', 'd = 4']
    assert len(untagged_blocks(before, ['a = 10', 'b = 2', 'c = 3', 'd = 4'])) == 1
    assert len(untagged_blocks(before, ['a = 1', 'c = 3', 'd = 4'])) == 1
    for tag in ('# FIX-4: longer', '# IMPROVEMENT-2', '# PORT: gymnasium'):
        assert not untagged_blocks(before, ['a = 10  ' + tag, 'b = 2', 'c = 3', 'd = 4'])
    assert len(untagged_blocks(before, ['a = 10  # FIX-n', 'b = 2', 'c = 3', 'd = 4'])) == 1  # a number is needed


def imported_packages(path):
    """The kit's packages that a module imports, anywhere in it (late imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split('.')[0] for name in names if name.split('.')[0] in LAYERS)
    return found


def upward_imports(package):
    arrows = []
    for path in sorted((ROOT / package).glob('*.py')):
        if package in ('original', 'fixed') and path.name == '__main__.py':
            continue  # the door to the command line (see the module docstring)
        for imported in imported_packages(path):
            sideways = LAYERS[imported] == LAYERS[package] and imported != package
            if LAYERS[imported] > LAYERS[package] or sideways:
                arrows.append(f'{package}/{path.name} imports {imported}')
    return arrows


@pytest.mark.parametrize('package', ['shared', 'original', 'fixed'])
def test_imports_run_one_way(package):
    assert upward_imports(package) == []


def test_the_variants_main_only_hands_over_to_the_command_line():
    for variant in ('original', 'fixed'):
        assert imported_packages(ROOT / variant / '__main__.py') == {'stepsignal'}
    assert (ROOT / 'original' / '__main__.py').read_text() == (ROOT / 'fixed' / '__main__.py').read_text()


def test_the_import_check_can_fail(tmp_path, monkeypatch):
    (tmp_path / 'shared').mkdir()
    (tmp_path / 'shared' / 'bad.py').write_text('def f():\n    from fixed.train import train\n')
    monkeypatch.setattr(__import__(__name__), 'ROOT', tmp_path)
    assert upward_imports('shared') == ['shared/bad.py imports fixed']
