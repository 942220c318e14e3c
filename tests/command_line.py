"""Running the kit's commands as a user does, and what every command promises about ``--out``.

``run_command('fixed', '--out', DIR)`` runs what ``python -m fixed --out DIR`` runs: ``runpy`` runs
the module as ``__main__`` with those arguments, in a process of its own, its stdout and stderr
captured, its exit status returned. Only the start differs. A new interpreter spends about 5 s of
CPU importing TensorFlow before the command does anything; here each command's process is forked
from a warm one that has imported TensorFlow and the kit once, and has run nothing (the standard
library's forkserver). A run forked so gives the same ``result.json`` and ``trace.json`` as one
typed in a shell (tests/test_runs.py checks it). A test about what a command imports, or one that
sets environment variables that TensorFlow reads as it loads, asks for ``fresh=True``: a new
interpreter, exactly as typed. ``run_code(CODE)`` does for ``python -c CODE`` what ``run_command``
does for ``python -m``.
"""
import atexit
import importlib
import multiprocessing
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared.cli import RUN_MARKER, survey

WARM_IMPORTS = ['shared.keras_rl', 'original.train', 'fixed.train', 'fixed.policy', 'matplotlib.pyplot',
                'stepsignal.own_signal.saved_policy', 'stepsignal.own_signal.process', 'stepsignal.doctor.diagnose']
"""What the warm process imports before it forks a command: the slow part of every start."""

ONE_THREAD = {'TF_NUM_INTRAOP_THREADS': '1', 'TF_NUM_INTEROP_THREADS': '1'}
"""TensorFlow's thread pools of one thread each: what the tests run with (tests/conftest.py)."""


def as_a_user_runs(world=None):
    """The environment of a command typed by a user, in a rounding world (``world``: variables to
    set): the tests' one-thread setting taken out, since the thread count changes the rounding."""
    return {**{name: value for name, value in os.environ.items() if name not in ONE_THREAD}, **(world or {})}


_warm = None


def warm_processes():
    """The forkserver context every command is forked from (started at its first use)."""
    global _warm
    if _warm is None:
        _warm = multiprocessing.get_context('forkserver')
        _warm.set_forkserver_preload(WARM_IMPORTS)
        started = _warm.Process(target=int)  # returns once the warm process has imported everything
        started.start()
        started.join()
    return _warm


def _as_python(how, what, arguments, cwd, stdout_path, stderr_path):
    """In the forked process: what ``python -m WHAT ARGUMENTS`` (``how='-m'``) or ``python -c WHAT``
    (``how='-c'``) does, its output into two files."""
    for fd, path in ((1, stdout_path), (2, stderr_path)):
        handle = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(handle, fd)
        os.close(handle)
    os.chdir(cwd)  # the caller's working folder, as subprocess would
    # Ctrl-C as in a terminal: a test run started in the background (`cmd &`, nohup) starts with
    # SIGINT ignored, every process below it too, and a test of Ctrl-C would then test nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path[0] = '' if how == '-c' else os.getcwd()  # as python does: the working folder first
    try:
        if how == '-c':
            sys.argv = ['-c', *arguments]
            exec(compile(what, '<string>', 'exec'), {'__name__': '__main__', '__builtins__': __builtins__})
        else:
            sys.argv = [what, *arguments]
            runpy.run_module(what, run_name='__main__', alter_sys=True)
    finally:
        atexit._run_exitfuncs()  # multiprocessing ends a child with os._exit, which skips them


class Started:
    """A command running in a forked process: ``send_signal()``, ``stderr_text()`` so far, ``wait()``."""

    def __init__(self, args, cwd=None, how='-m'):
        self.args = ['python', how, *args]
        self._folder = tempfile.TemporaryDirectory()
        self._stdout, self._stderr = Path(self._folder.name, 'stdout'), Path(self._folder.name, 'stderr')
        self._stdout.touch()
        self._stderr.touch()
        cwd = os.getcwd() if cwd is None else cwd
        self._process = warm_processes().Process(target=_as_python, args=(how, args[0], args[1:], cwd, self._stdout,
                                                                            self._stderr))
        self._started = time.perf_counter()
        self._process.start()
        self.pid = self._process.pid

    def send_signal(self, number):
        """Send signal ``number`` to the command, unless it has ended already."""
        if self._process.exitcode is None:
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:  # it ended a moment ago
                pass

    def stderr_text(self):
        return self._stderr.read_text(errors='replace')

    def wait(self, timeout=600):
        """The finished process, as ``subprocess.run`` returns it (and its wall time, ``seconds``); the
        process is killed after ``timeout`` s."""
        self._process.join(timeout)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
            raise subprocess.TimeoutExpired(self.args, timeout, self._stdout.read_text(), self.stderr_text())
        finished = subprocess.CompletedProcess(self.args, self._process.exitcode, self._stdout.read_text(errors='replace'),
                                              self.stderr_text())
        finished.seconds = time.perf_counter() - self._started  # from its start to its end, the warm-up not counted
        self._folder.cleanup()
        return finished


def start_command(*args, cwd=None):
    """``python -m ARGS...`` started (forked warm), for a test that signals it while it runs."""
    return Started([str(arg) for arg in args], cwd=cwd)


def run_command(*args, cwd=None, timeout=600, env=None, fresh=False):
    """``python -m ARGS...`` as a user types it, in a process of its own; the finished process.

    Forked from the warm process unless ``fresh`` or ``env`` (environment variables for a new
    interpreter) is given.
    """
    args = [str(arg) for arg in args]
    if fresh or env is not None:
        return subprocess.run([sys.executable, '-m', *args], capture_output=True, text=True, cwd=cwd,
                              timeout=timeout, env=env)
    return Started(args, cwd=cwd).wait(timeout)


def run_code(code, cwd=None, timeout=600):
    """``python -c CODE`` (a snippet of the docs, say), forked warm as ``run_command`` is."""
    return Started([code], cwd=cwd, how='-c').wait(timeout)


def contents(folder):
    """Every path under ``folder``, relative to it, with each file's bytes (folders: None)."""
    return {path.relative_to(folder).as_posix(): (path.read_bytes() if path.is_file() else None)
            for path in sorted(folder.rglob('*'))}


def assert_the_kit_wrote_only_what_it_listed(out):
    """Every file of a finished run's ``out``, inside its folders too, is one its markers list (so
    ``--overwrite`` may remove it), and every listed file exists (a marker claims only what the run wrote)."""
    found = survey(out)
    assert not found.foreign, f'the run wrote {list(found.foreign)} into --out without listing them in {RUN_MARKER}'
    missing = [path for path in found.listed if not path.endswith('/') and not (out / path).is_file()]
    assert not missing, f'{RUN_MARKER} lists {missing}, which the run never wrote'


def assert_overwrite_keeps_a_file_it_did_not_write(command, out, env=None):
    """After a run into ``out``, a file the user adds there survives ``command --overwrite``: refused."""
    (out / 'notes.txt').write_text('mine')
    before = contents(out)
    finished = run_command(*command, '--out', out, '--overwrite', env=env)
    assert finished.returncode == 2 and 'Traceback' not in finished.stderr, finished.stderr[-2000:]
    refusal = [line for line in finished.stderr.splitlines() if 'notes.txt' in line]
    assert len(refusal) == 1 and 'did not write' in refusal[0] and 'another folder' in refusal[0]
    assert contents(out) == before


def refused_here(arguments, capsys):
    """The command's ``main(argv)`` in this process: ``(exit status, what it wrote to stderr)``.

    A refusal comes before any training (and TensorFlow's import), so the many cases of bad input
    run in this process; a few tests run each command as a user does, to show the same.
    """
    package, *argv = arguments
    main = importlib.import_module(f'{package}.__main__').main
    try:
        status = main([str(argument) for argument in argv])
    except SystemExit as exit:
        status = exit.code
    return status, capsys.readouterr().err
