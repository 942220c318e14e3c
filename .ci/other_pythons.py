"""The kit on every other Python it supports that this machine has, each in a fresh environment.

For each Python of setup.cfg's range other than the one running this (found on PATH as
python3.N, or among pyenv's versions): a new virtual environment, the README's install command,
the fixed setup on seed 0 (its numbers compared with this Python's, which must be the same on one
machine), and a fast part of the tests. A Python the machine does not have is said and skipped.

Run by .ci/run after the README's test command: ``python3 .ci/other_pythons.py``.
"""
import configparser
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAST_TESTS = ['tests/test_bad_input.py', 'tests/test_output_folders.py', 'tests/test_files.py',
              'tests/test_env_arguments.py']
"""A part of the tests that runs in a minute or two and reaches every layer: files, folders, checks, envs."""
SAME_BYTES = ['history.json', 'trace.json', 'policy/policy.json', 'policy/actor.h5', 'weights']
"""What the fixed run writes that must be the same to the byte on every Python of one machine."""
TIMES = {'train_seconds', 'steps_per_second'}
"""result.json's fields that measure time, not learning."""


def supported_versions():
    """The minor versions setup.cfg's python_requires admits, such as [(3, 11), (3, 12), (3, 13)]."""
    config = configparser.ConfigParser()
    config.read(ROOT / 'setup.cfg')
    low, high = re.fullmatch(r'>=3\.(\d+),<3\.(\d+)', config['options']['python_requires']).groups()
    return [(3, minor) for minor in range(int(low), int(high))]


def find_python(version):
    """An interpreter of ``version`` on this machine that runs (a pyenv shim may name one it cannot run), or None."""
    name = f'python{version[0]}.{version[1]}'
    candidates = sorted(glob.glob(os.path.expanduser(f'~/.pyenv/versions/{version[0]}.{version[1]}.*/bin/{name}')))
    candidates += [shutil.which(name)]
    for path in filter(None, candidates):
        answer = subprocess.run([path, '-c', 'import sys; print(*sys.version_info[:2])'], capture_output=True, text=True)
        if answer.returncode == 0 and answer.stdout.split() == [str(part) for part in version]:
            return path
    return None


def run(command, **kwargs):
    print('+', ' '.join(map(str, command)), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT, **kwargs)


def fixed_run(python, out):
    run([python, '-m', 'fixed', '--seed', '0', '--out', out], stdout=subprocess.DEVNULL)
    return out


def differences(reference, other):
    """What differs between two runs of the fixed setup, file by file (empty: the same run)."""
    found = []
    for name in SAME_BYTES:
        paths = sorted(p.relative_to(reference) for p in (reference / name).rglob('*') if p.is_file()) \
            if (reference / name).is_dir() else [Path(name)]
        found += [str(path) for path in paths if (reference / path).read_bytes() != (other / path).read_bytes()]
    results = [{k: v for k, v in json.loads((run / 'result.json').read_text()).items() if k not in TIMES}
               for run in (reference, other)]
    found += [f'result.json: {key}' for key in sorted(set(results[0]) | set(results[1]))
              if results[0].get(key) != results[1].get(key)]
    return found


def main():
    here = sys.version_info[:2]
    others = [version for version in supported_versions() if version != here]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        reference = None
        failed = []
        for version in others:
            label = f'{version[0]}.{version[1]}'
            python = find_python(version)
            if python is None:
                print(f'Python {label}: not on this machine, skipped', flush=True)
                continue
            started = time.monotonic()
            reference = reference or fixed_run(sys.executable, scratch / 'reference')
            venv = scratch / f'venv-{label}'
            run([python, '-m', 'venv', venv])
            inside = venv / 'bin' / 'python'
            run([inside, '-m', 'pip', 'install', '-q', '-e', '.[test]'])
            differ = differences(reference, fixed_run(inside, scratch / f'fixed-{label}'))
            if differ:
                failed.append(f'Python {label}: the fixed run on seed 0 differs from Python '
                              f'{here[0]}.{here[1]}\'s in {", ".join(differ)}')
            try:
                run([inside, '-m', 'pytest', '-q', *FAST_TESTS])
            except subprocess.CalledProcessError:
                failed.append(f'Python {label}: the fast tests failed')
            print(f'Python {label} ({python}): installed, seed 0 {"differs" if differ else "the same run"}, '
                  f'fast tests run, in {time.monotonic() - started:.0f} s', flush=True)
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
