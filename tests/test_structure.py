"""The kit's shape: the mirror is the list of fixes, the folders are the layers, imports run one way.

- ``original/`` and ``fixed/`` hold the same setup files (``MIRRORED``); every block of ``diff -r -U0
  original fixed`` in them carries a tag that says why it is there (``FIX-n``, ``IMPROVEMENT-n``
  or ``PORT``). Each variant's ``__main__.py`` is its own command line; ``fixed/`` also holds the
  fixed setup's own machinery (``diff -r`` names those files "Only in fixed").
- ``shared/`` (the base) holds what both variants import, and the adapters today's stack needs;
  it imports neither variant nor a command.
- The variants import ``shared`` and themselves, never ``stepsignal/`` (the commands on top), nor
  each other: the switches that put the original's behaviour back for a run live above both
  (``stepsignal/reverts.py``).
- ``stepsignal/`` is grouped by concern; its subpackages import each other one way, and the
  keras-rl doctor imports no variant.
"""
import ast
import difflib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAG = re.compile(r'\b(FIX|IMPROVEMENT)-\d+\b|\bPORT\b')
LAYERS = {'shared': 0, 'original': 1, 'fixed': 1, 'stepsignal': 2}
MIRRORED = ('__init__.py', 'agent.py', 'env.py', 'hyperparameters.py', 'train.py')
"""The setup's files, in both variants: ``diff -u original/X fixed/X`` is the list of X's changes."""
ADAPTERS = {'keras_rl', 'quiet', 'old_step_api'}
"""Modules of ``shared/`` that adapt today's stack (keras-rl2 on tf-keras, its noise, the old step API)."""
SUBPACKAGES = {'experiments': {'own_signal'}, 'own_signal': set(), 'doctor': set()}
"""What each part of ``stepsignal/`` may import of the others (none imports one that imports it back)."""


def change_blocks(before, after):
    """The change blocks of ``diff -U0 before after``: per block, the lines it adds."""
    blocks = []
    for group in difflib.SequenceMatcher(None, before, after, autojunk=False).get_grouped_opcodes(0):
        blocks.append([line for tag, _, _, j1, j2 in group if tag != 'equal' for line in after[j1:j2]])
    return blocks


def untagged_blocks(before, after):
    """Change blocks none of whose added lines carries a tag (a pure deletion counts as untagged)."""
    return [block for block in change_blocks(before, after) if not any(TAG.search(line) for line in block)]


def test_both_variants_hold_the_setup_files_and_their_command_line():
    for variant in ('original', 'fixed'):
        names = {p.name for p in (ROOT / variant).glob('*.py')}
        assert set(MIRRORED) | {'__main__.py'} <= names, variant
    assert {p.name for p in (ROOT / 'original').glob('*.py')} == set(MIRRORED) | {'__main__.py'}


@pytest.mark.parametrize('name', MIRRORED + ('__main__.py',))
def test_every_change_from_original_to_fixed_is_tagged(name):
    before = (ROOT / 'original' / name).read_text().splitlines()
    after = (ROOT / 'fixed' / name).read_text().splitlines()
    untagged = untagged_blocks(before, after)
    assert not untagged, f'{len(untagged)} untagged change blocks in {name}; the first:\n' + '\n'.join(untagged[0])


def lesson_diff_lines(original_dir, fixed_dir):
    """The length of ``diff -ru original fixed`` over the files both have (a header line per file)."""
    total = 0
    for name in MIRRORED + ('__main__.py',):
        before = (original_dir / name).read_text().splitlines()
        after = (fixed_dir / name).read_text().splitlines()
        lines = list(difflib.unified_diff(before, after, f'original/{name}', f'fixed/{name}', lineterm=''))
        total += len(lines) + (1 if lines else 0)
    return total


def test_the_lesson_diff_is_short_enough_to_read():
    """The mirrored files differ by the fixes only; machinery lives in fixed/'s other modules. A reader
    takes in about 600 lines; the fixes fit in that."""
    assert lesson_diff_lines(ROOT / 'original', ROOT / 'fixed') <= 600


def test_the_lesson_diff_count_can_fail(tmp_path):
    for variant in ('original', 'fixed'):
        (tmp_path / variant).mkdir()
        for name in MIRRORED + ('__main__.py',):
            (tmp_path / variant / name).write_text('a = 1\n')
    assert lesson_diff_lines(tmp_path / 'original', tmp_path / 'fixed') == 0
    (tmp_path / 'fixed' / 'agent.py').write_text('a = 1\n' + 'b = 2  # FIX-1\n' * 700)
    assert lesson_diff_lines(tmp_path / 'original', tmp_path / 'fixed') > 600


def test_the_tag_count_can_fail():
    """The counter sees an untagged change, a pure deletion, and accepts each kind of tag."""
    before = ['a = 1', 'b = 2', 'c = 3', 'd = 4']
    assert len(untagged_blocks(before, ['a = 10', 'b = 2', 'c = 3', 'd = 4'])) == 1
    assert len(untagged_blocks(before, ['a = 1', 'c = 3', 'd = 4'])) == 1
    for tag in ('# FIX-4: longer', '# IMPROVEMENT-2', '# PORT: gymnasium'):
        assert not untagged_blocks(before, ['a = 10  ' + tag, 'b = 2', 'c = 3', 'd = 4'])
    assert len(untagged_blocks(before, ['a = 10  # FIX-n', 'b = 2', 'c = 3', 'd = 4'])) == 1  # a number is needed


def imported_modules(path):
    """The kit's modules that a module imports, anywhere in it (late imports included), dotted."""
    package = '.'.join(path.relative_to(ROOT).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:  # relative: from .x import y, from . import y
                base = '.'.join(package.split('.')[:len(package.split('.')) - node.level + 1] + ([base] if base else []))
            names = [f'{base}.{alias.name}' for alias in node.names] + [base]
        else:
            continue
        found.update(name for name in names if name.split('.')[0] in LAYERS)
    return found


def modules(package):
    return sorted(p for p in (ROOT / package).rglob('*.py'))


def wrong_way_imports(package):
    arrows = []
    for path in modules(package):
        for imported in {name.split('.')[0] for name in imported_modules(path)}:
            sideways = LAYERS[imported] == LAYERS[package] and imported != package
            if LAYERS[imported] > LAYERS[package] or sideways:
                arrows.append(f'{path.relative_to(ROOT)} imports {imported}')
    return arrows


@pytest.mark.parametrize('package', ['shared', 'original', 'fixed'])
def test_imports_run_one_way(package):
    assert wrong_way_imports(package) == []


def test_every_module_of_shared_serves_both_variants_or_adapts_the_stack():
    def reached(variant):
        seen, todo = set(), [p for p in modules(variant)]
        while todo:
            for name in imported_modules(todo.pop()):
                parts = name.split('.')
                if parts[0] == 'shared' and len(parts) > 1 and (ROOT / 'shared' / f'{parts[1]}.py').is_file() \
                        and parts[1] not in seen:
                    seen.add(parts[1])
                    todo.append(ROOT / 'shared' / f'{parts[1]}.py')
        return seen

    everything = {p.stem for p in (ROOT / 'shared').glob('*.py')} - {'__init__'}
    both = reached('original') & reached('fixed')
    assert everything - both <= ADAPTERS, f'in shared/ but not used by both variants: {sorted(everything - both - ADAPTERS)}'


def test_stepsignal_is_grouped_by_concern_and_its_parts_import_one_way():
    top = {p.name for p in (ROOT / 'stepsignal').glob('*.py')}
    assert top <= {'__init__.py', '__main__.py', 'catalogue.py', 'rates.py', 'reverts.py'}, top
    assert {p.name for p in (ROOT / 'stepsignal').iterdir() if p.is_dir() and p.name != '__pycache__'} == set(SUBPACKAGES)
    for part, allowed in SUBPACKAGES.items():
        for path in modules(f'stepsignal/{part}'):
            others = {name.split('.')[1] for name in imported_modules(path)
                      if name.startswith('stepsignal.') and name.split('.')[1] in SUBPACKAGES}
            assert others - {part} <= allowed, f'{path.relative_to(ROOT)} imports stepsignal.{others - {part} - allowed}'
    for path in modules('stepsignal/doctor'):  # a checker of any keras-rl script: no variant of this one
        assert not {name.split('.')[0] for name in imported_modules(path)} & {'original', 'fixed'}, path


def test_python_m_fixed_and_original_load_no_command_of_stepsignal():
    import subprocess
    import sys

    for variant in ('original', 'fixed'):
        program = (f'import runpy, sys; sys.argv = ["{variant}", "--help"]\n'
                   f'try:\n    runpy.run_module("{variant}", run_name="__main__")\nexcept SystemExit:\n    pass\n'
                   'print(sorted(m for m in sys.modules if m.split(".")[0] == "stepsignal"), file=sys.stderr)')
        finished = subprocess.run([sys.executable, '-c', program], capture_output=True, text=True, timeout=120)
        assert finished.stderr.strip().splitlines()[-1] == '[]', finished.stderr[-2000:]


def test_the_import_check_can_fail(tmp_path, monkeypatch):
    (tmp_path / 'shared').mkdir()
    (tmp_path / 'shared' / 'bad.py').write_text('def f():\n    from fixed.train import train\n')
    (tmp_path / 'fixed').mkdir()
    (tmp_path / 'fixed' / 'bad.py').write_text('from .train import x\nimport original.env\n')
    monkeypatch.setattr(__import__(__name__), 'ROOT', tmp_path)
    assert wrong_way_imports('shared') == ['shared/bad.py imports fixed']
    assert wrong_way_imports('fixed') == ['fixed/bad.py imports original']
    assert imported_modules(tmp_path / 'fixed' / 'bad.py') == {'fixed.train.x', 'fixed.train', 'original.env'}
