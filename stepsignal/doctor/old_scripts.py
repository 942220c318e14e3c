"""Diagnose, and run, an unmodified keras-rl training script.

``run_script(path)`` runs a training script under the porting shims (stepsignal/doctor/porting.py) until
its first ``agent.fit(...)``, diagnoses the agent, env and arguments handed to that call
(stepsignal/doctor/diagnose.py), and stops there; with ``train=True`` (``--continue`` and ``--port`` on
the command line) the script goes on and trains, ``fit`` capped at ``max_steps`` where given.

Whatever the script does, the result is a ``ScriptRun``: the findings (each porting shim the
script needed is an error finding: the script fails there on today's stack), where it stopped and
why, never a traceback. ``ScriptRun.exit_status`` is the command's: 0 no errors, 1 errors found
(or the training failed after the diagnosis), 2 the script could not be checked.
"""
import inspect
import logging
import os
import re
import runpy
import sys
import traceback
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from stepsignal.doctor.diagnose import ERROR, Finding, diagnose
from stepsignal.doctor.porting import ScriptFiles, Shims

log = logging.getLogger(__name__)

MUJOCO_HINT = ('pip install -e ".[mujoco]" (the MuJoCo bindings gym 0.26\'s v4 envs use: mujoco 2.3.7 on Python 3.11, '
               '3.2.7 on 3.12 and 3.13; docs/porting.md#mujoco says which envs step with each)')


@dataclass
class ScriptRun:
    """What happened when a script ran under diagnose."""

    script: str
    findings: List[Finding] = field(default_factory=list)
    """The diagnosis of the first fit, porting findings first among the errors."""
    reached_fit: Optional[str] = None
    """``'script.py:63'`` where the script called fit, or None if it never did."""
    failure: Optional[str] = None
    """One line: where the script failed and why, if it did."""
    hint: Optional[str] = None
    """What to do about the failure, where it is a known one."""
    details: Optional[str] = None
    """The failure's traceback, for ``--traceback``."""
    trained: bool = False
    """Whether the script's training ran (``train=True``) and the script then ended normally."""
    untrained: List[str] = field(default_factory=list)
    """Each fit that ran no gradient update, its steps all within a warmup: said at its start and at the end."""
    shims: Optional[Shims] = None

    @property
    def errors(self):
        return sum(finding.severity == ERROR for finding in self.findings)

    @property
    def exit_status(self):
        if self.reached_fit is None:
            return 2  # it could not be checked
        return 1 if self.errors or self.failure else 0


class _StopBeforeTraining(BaseException):
    """Raised in place of the first fit, to leave the user's script without training.

    A ``BaseException``, like ``KeyboardInterrupt``: a script's own ``except Exception`` (or a
    command's report of a failed run) lets it through.
    """


def _namespace_of_callers(frame):
    """The variables of every frame from ``frame`` up to the script's top level."""
    namespace = {}
    while frame is not None:
        namespace = {**frame.f_globals, **frame.f_locals, **namespace}
        frame = frame.f_back
    return namespace


def _module_file(module):
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f'no module named {module!r}')
    if spec.submodule_search_locations:  # a package: python -m runs its __main__
        main = importlib.util.find_spec(f'{module}.__main__')
        return main.origin if main is not None else spec.origin
    return spec.origin


def run_script(path=None, module=None, argv=(), train=False, max_steps=None,
               on_diagnosis: Callable[[ScriptRun], None] = None):
    """Run a training script (a file ``path`` or a ``module``) and diagnose its first ``fit``.

    ``on_diagnosis(run)`` is called as soon as the diagnosis is done, before any training, so a
    caller can show the findings even if the training then fails. With ``train`` the script goes
    on; ``max_steps`` caps every ``fit``. Nothing is written beside the script (no bytecode).
    """
    from shared import keras_rl  # noqa: F401  (tf-keras before the script imports TensorFlow)
    from shared.quiet import GYM_NOISE, held_back

    with held_back(GYM_NOISE):  # gym's "unmaintained" banner: the port's notices say what matters
        import gym  # noqa: F401
    import rl.agents  # noqa: F401  (every agent class, so that each one's compile can be wrapped)
    from rl.core import Agent

    files = ScriptFiles(path=path) if path else ScriptFiles(module_file=_module_file(module))
    run = ScriptRun(script=path or f'-m {module}')
    _draw_off_screen_without_a_display()
    with open(files.main, encoding='utf-8', errors='replace') as source:
        shims = run.shims = Shims(files, source=source.read())
    stock = {name: getattr(Agent, name) for name in ('fit', 'test')}
    capped = []  # what a fit capped by max_steps left out, for the hint of a failure after it
    stock_compile = {cls: vars(cls)['compile'] for cls in _agent_classes(Agent) if 'compile' in vars(cls)}

    def compile_with(original):
        def compile_(agent, *args, **kwargs):  # CEMAgent.compile takes no optimizer
            shims.naf.before_compile(agent)
            if args:
                args = (shims.optimizers.legacy(args[0]), *args[1:])
            elif 'optimizer' in kwargs:
                kwargs['optimizer'] = shims.optimizers.legacy(kwargs['optimizer'])
            return original(agent, *args, **kwargs)
        return compile_

    def fit(agent, env, nb_steps, *args, **kwargs):
        where = files.caller()
        if kwargs.get('callbacks'):  # before the diagnosis, which lists the shims needed so far
            kwargs['callbacks'] = shims.tensorboard.adapt(kwargs['callbacks'])
        shims.underscore.port(env)  # gym < 0.9's _step and _reset, before the diagnosis probes them
        if run.reached_fit is None:
            run.reached_fit = where or run.script
            namespace = _namespace_of_callers(inspect.currentframe().f_back)
            setup_findings = diagnose(agent, env, nb_steps=nb_steps,
                                      nb_max_episode_steps=kwargs.get('nb_max_episode_steps'), namespace=namespace)
            run.findings = _porting_findings(shims) + setup_findings
            if on_diagnosis is not None:
                on_diagnosis(run)
            if not train:
                raise _StopBeforeTraining
        steps = nb_steps if max_steps is None else min(nb_steps, max_steps)
        if steps > 32767:
            shims.counter.record(f'fit(nb_steps={nb_steps}) counted in int64', where=where)
        log.info('training: fit(nb_steps=%d)%s', steps, f' (capped from {nb_steps} by --steps)' if steps < nb_steps
                 else '')
        warmup = _first_update_after(agent)
        if warmup is not None and steps <= warmup:
            run.untrained.append(f'fit at {where}: {steps} steps, 0 gradient updates: the warmup is {warmup} steps'
                                 + (' (give --steps above it to train)' if steps < nb_steps else ''))
            log.warning('%s', run.untrained[-1])
        history = stock['fit'](agent, shims.api.adapt(env), steps, *args, **kwargs)
        if steps < nb_steps and not getattr(history, 'history', {}).get('episode_reward'):
            capped.append(f'fit at {where} was capped at {steps} steps by --steps and no episode ended in them, so '
                          'the history it returned is empty: give --steps more than one episode')
        return history

    def test(agent, env, *args, **kwargs):
        if max_steps is not None:  # a look at the port, not the script's evaluation: its episodes capped too
            limit = kwargs.get('nb_max_episode_steps')
            if limit is None or limit > max_steps:
                kwargs['nb_max_episode_steps'] = max_steps
                log.info('test at %s: each episode capped at %d steps by --steps', shims.files.caller(), max_steps)
        return stock['test'](agent, shims.api.adapt(env), *args, **kwargs)

    saved = sys.argv, sys.dont_write_bytecode, list(sys.path)
    try:
        with shims:
            Agent.fit, Agent.test = fit, test
            for cls, original in stock_compile.items():
                cls.compile = compile_with(original)
            sys.argv, sys.dont_write_bytecode = [path or files.main, *argv], True
            if path:  # as `python path/to/script.py` does: a module beside the script is found
                sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
            try:
                if module:
                    runpy.run_module(module, run_name='__main__', alter_sys=True)
                else:
                    runpy.run_path(path, run_name='__main__')
                run.trained = run.reached_fit is not None
            except _StopBeforeTraining:
                pass
            except SystemExit as stop:
                if stop.code not in (None, 0):
                    run.failure = f'the script exited with status {stop.code!r}'
                else:
                    run.trained = run.reached_fit is not None
            except Exception as error:  # noqa: BLE001  (the user's script: any failure is reported, not raised)
                run.failure, run.hint = describe_failure(error, files)
                if capped and run.hint is None and isinstance(error, (KeyError, IndexError)):
                    run.hint = capped[-1]  # the script read fit's history: hist.history['episode_reward']
                run.details = ''.join(traceback.format_exception(error))
    finally:
        for name, method in stock.items():
            setattr(Agent, name, method)
        for cls, original in stock_compile.items():
            cls.compile = original
        sys.argv, sys.dont_write_bytecode, sys.path[:] = saved
    return run


def _draw_off_screen_without_a_display():
    """Without a display, pygame's display.set_mode ends the process with a segmentation fault, which
    no message can follow: its dummy video driver draws off-screen instead, as a headless run needs."""
    if not os.environ.get('DISPLAY') and not os.environ.get('WAYLAND_DISPLAY') and 'SDL_VIDEODRIVER' not in os.environ:
        os.environ['SDL_VIDEODRIVER'] = 'dummy'
        log.info('no display: a pygame window is drawn off-screen (SDL_VIDEODRIVER=dummy)')


def _first_update_after(agent):
    """The step after which ``agent`` first updates a network (its shortest warmup), or None if it has none."""
    warmups = [getattr(agent, name) for name in ('nb_steps_warmup_critic', 'nb_steps_warmup_actor', 'nb_steps_warmup')
               if isinstance(getattr(agent, name, None), int)]
    return min(warmups) if warmups else None


def _agent_classes(base):
    """``base`` and every class derived from it (DDPGAgent, NAFAgent, DQNAgent, ...)."""
    classes = [base]
    for cls in base.__subclasses__():
        classes += [each for each in _agent_classes(cls) if each not in classes]
    return classes


def _porting_findings(shims):
    return [shim.finding() for shim in shims.used() if shim is not shims.counter]  # BUG-15 is its own check


def describe_failure(error, files):
    """One line naming where the script failed and why, and what to do where it is known."""
    where = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename in files:
            where = f'{files.name(frame.f_code.co_filename)}:{line}'
    message = str(error).strip().splitlines()[0] if str(error).strip() else ''
    text = f'{type(error).__name__}: {message}'[:300]
    hint = None
    if 'mujoco' in str(error).lower() and type(error).__name__ == 'DependencyNotInstalled':
        hint = f'this env needs MuJoCo, which the kit does not install by itself: {MUJOCO_HINT}'
    elif type(error).__name__ == 'DependencyNotInstalled':
        hint = 'the env needs a package that is not installed: the message above names it'
    elif isinstance(error, ModuleNotFoundError):
        hint = f'install the module the script imports ({error.name}), or check its spelling'
    elif isinstance(error, ImportError) and re.search(r"from 'gym[.']", text):
        hint = ('the script (or its env) was written for an older gym than 0.26, which no longer has this name'
                + (': gym.envs.toy_text.discrete left in gym 0.22; base the env on gym.Env with its own transition '
                   'table' if "'discrete'" in text else '') + ' (docs/porting.md)')
    elif isinstance(error, EOFError):
        hint = ('the script asks for input (input()) and found none: give its answers on stdin, as in '
                '`echo ANSWER | python -m stepsignal diagnose ...`')
    elif isinstance(error, ValueError) and 'expects a model that has one dimension for each action' in text:
        kept = re.search(r'shape=\((None(?:, \d+)+)\)', text)
        hint = (f'the model\'s output {"(" + kept.group(1) + ")" if kept else ""} keeps the window dimension keras-rl '
                'feeds it, (batch, window_length) + observation shape: add Flatten() as the model\'s first layer '
                '(Flatten(input_shape=(1,) + env.observation_space.shape)), so that it ends in (None, nb_actions) '
                '(docs/bugs.md#bug-20)').replace('output  keeps', 'output keeps')
    elif isinstance(error, (ImportError, AttributeError)) and 'tf_keras' in text:
        # The script wrote `keras`; tf-keras serves it (the standalone-keras shim): say it in the script's words.
        text = text.replace('tf_keras.src.', 'keras.').replace('tf_keras', 'keras')
        hint = ('the script\'s `keras` is served by tf-keras (Keras 2.15\'s API), which has no such name: find '
                'where Keras 2 keeps it (its docs for keras 2.x), or import it from tensorflow.keras')
    return (f'at {where}: {text}' if where else text), hint
