"""Porting shims: a 2018-2021 keras-rl script, unmodified, on today's stack.

A keras-rl training script copied from a tutorial fails today in a handful of known ways: the
standalone ``keras`` package is Keras 3, gym 0.26 retired ``Pendulum-v0`` and ``env.seed``,
changed what ``reset`` and ``step`` return, and its own env checker asks numpy 2 for ``np.bool8``;
Keras's new optimizers cannot run with eager execution off, and tf-keras writes ``.h5f`` weights
in TensorFlow's checkpoint format (docs/porting.md has the whole table). Each ``Shim`` below makes
one of these work the old way, from outside the script, and records the line of the script that
needed it, so that a user can change that line and run without the shim. Most are the changes the
kit made to the question's own script (docs/porting.md, P1-P8).

``Shims(script_files)`` installs them all for one run (``with Shims(...) as shims:``) and removes
them after. Those that change what the script itself calls (its imports, ``gym.make``) act only on
calls from the script's own files; the others repair what a library does on today's stack (gym's
env checker, keras-rl's internals) while the script runs.
``shims.used()`` lists those that were needed, each with ``finding()`` (a diagnose finding) and
``uses`` (where and what).
"""
import ast
import builtins
import functools
import importlib
import inspect
import os
import sys
from dataclasses import dataclass

import numpy as np

from shared.goal_env import flatten_dict_wrapper_class, goal_env_class
from shared.old_step_api import old_step
from stepsignal.doctor.diagnose import ERROR, WARNING, Finding

DOCS = 'docs/porting.md#porting-an-old-keras-rl-script'
NOT_YET = ' (not reached yet)'


@dataclass(frozen=True)
class Use:
    where: str
    """``script.py:17``, the line of the script that needed the shim."""
    what: str
    """What the script did there, e.g. ``gym.make('Pendulum-v0') made Pendulum-v1``."""

    def __str__(self):
        return f'{self.where}: {self.what}'


class ScriptFiles:
    """The files that belong to the script: the script itself and the modules beside it (in its folder
    and the packages under it, an installed library excepted)."""

    def __init__(self, path=None, module_file=None):
        self.main = os.path.realpath(path or module_file)
        # a script's helper modules sit in its folder; a module run with -m is only its own file
        self.folder = os.path.dirname(self.main) if path else None

    def __contains__(self, filename):
        if not filename or filename.startswith('<'):  # '<frozen importlib._bootstrap>', '<string>': no file
            return False
        filename = os.path.realpath(filename)
        if filename == self.main:
            return True
        if self.folder is None or not filename.startswith(self.folder + os.sep):
            return False
        return not any(part in ('site-packages', 'dist-packages') for part in filename.split(os.sep))

    def name(self, filename):
        """How a message names one of the script's files: its path from the script's folder."""
        filename = os.path.realpath(filename)
        if self.folder is not None and filename.startswith(self.folder + os.sep):
            return os.path.relpath(filename, self.folder)
        return os.path.basename(filename)

    def caller(self):
        """``'name.py:LINE'`` of the innermost frame that runs in the script's files, or None."""
        frame = inspect.currentframe()
        while frame is not None:
            if frame.f_code.co_filename in self:
                return f'{self.name(frame.f_code.co_filename)}:{frame.f_lineno}'
            frame = frame.f_back
        return None


class Shim:
    """One thing that fails today, made to work the old way while the script runs."""

    name = ''
    """Short name, shown as the finding's check (``porting: <name>``)."""
    fails = ''
    """What fails on today's stack without the shim, and why."""
    change = ''
    """The change in the script that makes the shim unnecessary."""
    severity = ERROR
    """ERROR: the script fails here without the shim. WARNING: it runs, but not as it meant."""

    def __init__(self, files):
        self.files = files
        self.uses = []
        self._saved = []  # (owner, name, value before) of every patch, for uninstall

    def install(self):
        """Put the shim in place (called once, before the script runs)."""

    def patch(self, owner, name, value):
        """Set ``owner.name`` to ``value`` until ``uninstall`` (a class keeps what it inherits)."""
        before = vars(owner).get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name, _MISSING)
        self._saved.append((owner, name, before))
        setattr(owner, name, value)

    def uninstall(self):
        """Undo every ``patch``, last first."""
        for owner, name, before in reversed(self._saved):
            if before is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, before)
        self._saved.clear()

    def record(self, what, where=None):
        use = Use(where or self.files.caller() or '(in a library, called from the script)', what)
        self.uses = [each for each in self.uses if not (each.where == use.where and each.what.endswith(NOT_YET))]
        if use not in self.uses:
            self.uses.append(use)

    def from_script(self, depth=2):
        """Whether the call being shimmed was made from the script's own files."""
        frame = inspect.currentframe()
        for _ in range(depth):
            frame = frame.f_back
        return frame is not None and frame.f_code.co_filename in self.files

    def finding(self):
        return Finding(self.severity, f'porting: {self.name}', self.fails, '; '.join(map(str, self.uses)),
                       self.change, see=DOCS)


_MISSING = object()


# ---------------------------------------------------------------------------------------------

class NotebookCommands(Shim):
    name = 'notebook commands'
    fails = ('a notebook exported to .py turns its `!pip install ...` and `%matplotlib ...` lines into '
             'get_ipython() calls, which exist only inside Jupyter: `NameError: name \'get_ipython\' is not '
             'defined` outside it.')
    change = ('delete those lines (install the packages before running the script; a figure needs no magic '
              'outside Jupyter)')

    def install(self):
        if not hasattr(builtins, 'get_ipython'):
            self.patch(builtins, 'get_ipython', lambda: _NotebookShell(self))


class _NotebookShell:
    """What an exported notebook asks of IPython, outside Jupyter: shell commands and magics are
    recorded, not run (a diagnosis installs nothing)."""

    def __init__(self, shim):
        self._shim = shim

    def system(self, command):
        self._shim.record(f'get_ipython().system({command!r}): not run')

    def run_line_magic(self, name, line, *args):
        self._shim.record(f'%{name} {line}: not run'.rstrip())

    def run_cell_magic(self, name, line, cell, *args):
        self._shim.record(f'%%{name} {line}: the cell not run'.rstrip())

    def getoutput(self, command, *args):
        self._shim.record(f'get_ipython().getoutput({command!r}): not run')
        return []


class KerasRL2Import(Shim):
    """Recorded by StandaloneKeras's import hook; put in place by shared/keras_rl.py, before the script."""

    name = 'keras-rl2 import'
    fails = ('keras-rl2 imports tensorflow.keras, which is Keras 3 since TensorFlow 2.16: `ImportError: cannot '
             'import name \'model_from_config\' from \'tensorflow.keras.models\'`; and with Keras 2 in place, '
             '`cannot import name \'__version__\' from \'tensorflow.keras\'`.')
    change = ('pip install tf-keras; at the script\'s top, before TensorFlow is imported: '
              'os.environ[\'TF_USE_LEGACY_KERAS\'] = \'1\'; then import tf_keras, tensorflow.keras as keras; '
              'keras.__version__ = tf_keras.__version__; and only then import rl (docs/porting.md, P1 and P2)')

    ported_by_the_script = False
    """The script does P1 and P2 itself (it sets TF_USE_LEGACY_KERAS and a Keras module's __version__): it runs
    with ``python script.py`` as it is, so importing rl is no porting finding. Set by ``expect``."""

    def expect(self, source):
        self.ported_by_the_script = ports_keras_itself(source)


def ports_keras_itself(source):
    """Whether a script's source sets ``TF_USE_LEGACY_KERAS`` in its environment and a ``__version__`` on a
    Keras module (``os.environ['TF_USE_LEGACY_KERAS'] = '1'`` or ``os.environ.setdefault(...)``, and
    ``keras.__version__ = ...`` or ``setattr(keras, '__version__', ...)``), as keras-rl2 needs today."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False

    def names_the_variable(node):
        return isinstance(node, ast.Constant) and node.value == 'TF_USE_LEGACY_KERAS'

    sets_legacy = sets_version = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            sets_legacy |= any(isinstance(t, ast.Subscript) and names_the_variable(t.slice) for t in node.targets)
            sets_version |= any(isinstance(t, ast.Attribute) and t.attr == '__version__' for t in node.targets)
        elif isinstance(node, ast.Call) and node.args:
            called = getattr(node.func, 'attr', getattr(node.func, 'id', ''))
            sets_legacy |= called in ('setdefault', 'putenv') and names_the_variable(node.args[0])
            sets_version |= (called == 'setattr' and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                             and node.args[1].value == '__version__')
    return sets_legacy and sets_version


class StandaloneKeras(Shim):
    name = 'standalone keras'
    fails = ('the script imports the standalone `keras` package, which is Keras 3 today: keras-rl2 builds on '
             'Keras 2, and Keras 3 layers, models and optimizers (Adam refuses lr=) cannot be mixed with it.')
    change = ('import from `tensorflow.keras` (Keras 2 from the tf-keras package, with TF_USE_LEGACY_KERAS=1 set '
              'before TensorFlow is imported): `from keras.models import X` -> `from tensorflow.keras.models '
              'import X`')

    def __init__(self, files, keras_rl):
        super().__init__(files)
        self.keras_rl = keras_rl

    def install(self):
        self._original = builtins.__import__
        self.patch(builtins, '__import__', self._import)

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        from_script = level == 0 and globals and globals.get('__file__') in self.files
        if (from_script and (name == 'rl' or name.startswith('rl.')) and not self.keras_rl.uses
                and not self.keras_rl.ported_by_the_script):
            self.keras_rl.record(f'import {name}')
        if from_script and (name == 'keras' or name.startswith('keras.')):
            module = self._tf_keras(name)
            if module is not None:
                self.record(f'import {name} (served by tf_keras{name[len("keras"):]})')
                for missing in [each for each in fromlist or () if not hasattr(module, each)]:
                    self._submodule(module, name, missing)
                return module if fromlist else importlib.import_module('tf_keras')
        return self._original(name, globals, locals, fromlist, level)

    KERAS_2_NAMES = {
        ('keras.optimizers', f'{short}_v2'): f'tf_keras.src.optimizers.legacy.{source}'
        for short, source in (('adam', 'adam'), ('rmsprop', 'rmsprop'), ('gradient_descent', 'gradient_descent'),
                              ('adagrad', 'adagrad'), ('adadelta', 'adadelta'), ('adamax', 'adamax'),
                              ('nadam', 'nadam'), ('ftrl', 'ftrl'))}
    """Keras 2.x's names that tf-keras no longer has, and the tf-keras module that holds the same thing:
    ``keras.optimizers.adam_v2`` (Keras 2.4-2.10) is tf-keras' legacy Adam's module."""
    KERAS_2_ATTRIBUTES = {('keras.models', 'Input'): ('tf_keras.layers', 'Input')}
    """Names Keras 2.0-2.3 re-exported (``from keras.models import Input``), and where tf-keras keeps them."""

    def _submodule(self, module, name, missing):
        """``from keras.layers import core``: Keras 2.1's submodule, which tf-keras keeps only in its sources;
        ``from keras.optimizers import adam_v2``, ``from keras.models import Input``: Keras 2.x's names."""
        if (name, missing) in self.KERAS_2_NAMES:
            self.patch(module, missing, importlib.import_module(self.KERAS_2_NAMES[name, missing]))
            self.record(f'from {name} import {missing} (Keras 2.x; served by tf-keras\' legacy optimizers)')
            return
        if (name, missing) in self.KERAS_2_ATTRIBUTES:
            where, attribute = self.KERAS_2_ATTRIBUTES[name, missing]
            self.patch(module, missing, getattr(importlib.import_module(where), attribute))
            self.record(f'from {name} import {missing} (Keras 2.x; it lives in {where.replace("tf_keras", "keras")})')
            return
        submodule = self._tf_keras(f'{name}.{missing}')
        if submodule is not None:
            self.patch(module, missing, submodule)

    @staticmethod
    def _tf_keras(name):
        """tf-keras' module for a Keras 2 module name (public API first, then its own sources)."""
        rest = name[len('keras'):]
        for candidate in (f'tf_keras{rest}', f'tf_keras.src{rest}'):
            try:
                return importlib.import_module(candidate)
            except ImportError:
                continue
        return None


class RetiredEnvIds(Shim):
    name = 'retired env id'
    fails = ('gym 0.26 refuses an env version it has retired (`DeprecatedEnv: Pendulum-v0`), and makes the '
             'MuJoCo v2/v3 envs only with mujoco-py, which no longer installs.')
    change = 'make the current version of the env (the id after "made" above)'

    def __init__(self, files, adapt, old_api, gymnasium_envs, env_checker):
        super().__init__(files)
        self.adapt = adapt
        """What the script's gym.make returns passes through this (to OldGymAPI)."""
        self.old_api = old_api
        """Asked before each make whether the env needs gym's own compatibility wrapper (OldAPITimeLimit)."""
        self.gymnasium_envs = gymnasium_envs
        """Asked first whether Gymnasium must make the env (GymnasiumEnvs)."""
        self.env_checker = env_checker
        """Makes the env again without gym's checker where the checker refuses it (EnvChecker)."""

    def install(self):
        import gym

        self._make = gym.envs.registration.make
        for owner in (gym, gym.envs, gym.envs.registration):
            self.patch(owner, 'make', self._make_current)


    def _make_current(self, id, *args, **kwargs):
        if not isinstance(id, str) or not self.from_script():
            return self._make(id, *args, **kwargs)
        import gym

        made_by_gymnasium = self.gymnasium_envs.make(id, kwargs)
        if made_by_gymnasium is not None:
            return self.adapt(made_by_gymnasium)
        current = current_version(id)
        if current != id:
            self.record(f'gym.make({id!r}) made {current!r}')
        kwargs = self.old_api.make_arguments(current, kwargs)
        try:
            env = self.env_checker.checked(lambda **more: self._make(current, *args, **kwargs, **more), current, kwargs)
        except gym.error.DependencyNotInstalled as error:
            newest = current_version(id, skip_registered=True)
            if 'mujoco_py' not in str(error) or newest == current:
                raise
            self.record(f'gym.make({id!r}) made {newest!r} (the MuJoCo bindings in place of mujoco-py)')
            env = self._make(newest, *args, **kwargs)
        return self.adapt(env)


class EnvChecker(Shim):
    name = 'env checker'
    fails = ('gym 0.26\'s gym.make checks the env and refuses one without an observation or action space '
             '(`AssertionError: The environment must specify an observation space`); keras-rl does not need them, '
             'and gym before 0.24 made such envs.')
    change = 'give the env both spaces in its __init__ (self.observation_space = spaces.Box(...), as its step returns)'

    def checked(self, make, env_id, kwargs):
        """``make()``, or, where gym 0.26's env checker refuses an env without an observation or action
        space (which keras-rl does not need, and gym before 0.24 did not check), ``make(disable_env_checker=True)``."""
        try:
            return make()
        except AssertionError as error:
            if 'must specify' not in str(error) or kwargs.get('disable_env_checker'):
                raise
            self.record(f'gym.make({env_id!r}): {str(error).split(".")[0]}: made with disable_env_checker=True')
            return make(disable_env_checker=True)


class GymnasiumEnvs(Shim):
    name = 'env gym 0.26 cannot run'
    fails = ('gym 0.26 cannot run this env today: its Box2D envs (LunarLander, BipedalWalker, CarRacing) fail at '
             'their first step under numpy 2 (`Converting from sequence to b2Vec2`), and it makes Atari envs only with '
             'ale-py 0.8 and ROMs it no longer ships. Gymnasium runs both: Box2D with `pip install box2d`, Atari '
             'with `pip install ale-py` (the ROMs included).')
    change = ('make the env with Gymnasium (the id after "made" above; for Atari first `import ale_py; '
              'gymnasium.register_envs(ale_py)`), behind an adapter to the old API for keras-rl (docs/porting.md)')

    ATARI_GAMES = ('Alien', 'Asteroids', 'Atlantis', 'BeamRider', 'Boxing', 'Breakout', 'Enduro', 'Freeway',
                   'Gravitar', 'MontezumaRevenge', 'MsPacman', 'Pong', 'Qbert', 'Riverraid', 'RoadRunner',
                   'Seaquest', 'SpaceInvaders', 'Tennis', 'VideoPinball')
    """Atari games tutorials train on: without ale-py installed, their ids are recognised by name."""

    def make(self, env_id, kwargs):
        """Gymnasium's version of ``env_id``, presented with gym's spaces, where gym 0.26 cannot run it; None
        where gym can. A missing dependency raises gym's ``DependencyNotInstalled`` naming what to install."""
        import gym

        family = self._family(env_id)
        if family is None:
            return None
        made_id, kwargs = (self._box2d_id(env_id), kwargs) if family == 'Box2D' else self._atari_id(env_id, kwargs)
        import gymnasium

        kwargs = {key: value for key, value in kwargs.items() if key not in ('disable_env_checker', 'new_step_api')}
        try:
            env = gymnasium.make(made_id, **kwargs)
        except (gymnasium.error.DependencyNotInstalled, gymnasium.error.NameNotFound) as error:
            raise gym.error.DependencyNotInstalled(
                f'{env_id} needs {self._package(family)}, which is not installed ({error}); gym 0.26 cannot run it '
                'on numpy 2 even then: with it installed, diagnose --port makes Gymnasium\'s version') from None
        self.record(f'gym.make({env_id!r}) made Gymnasium\'s {made_id!r}'
                    + (f' with {kwargs}' if kwargs else '') + f' ({family})')
        return GymnasiumAsGym(env)

    def _family(self, env_id):
        from gym.envs.registration import registry

        registered = registry.get(current_version(env_id))
        if registered is not None:
            entry = registered.entry_point if isinstance(registered.entry_point, str) else ''
            return 'Box2D' if entry.startswith('gym.envs.box2d') else None
        game = self._atari_game(env_id)
        return 'Atari' if game else None

    def _atari_game(self, env_id):
        """The Atari game ``env_id`` names (``'Breakout'`` for ``BreakoutDeterministic-v4``), or None."""
        import re

        match = re.fullmatch(r'(?:ALE/)?([A-Z][A-Za-z]+?)(Deterministic|NoFrameskip)?(-ram)?-v\d+', env_id)
        if match is None:
            return None
        known = self._ale_games()
        return match.group(1) if match.group(1) in (known or self.ATARI_GAMES) else None

    @staticmethod
    def _ale_games():
        """The games ale-py registers with Gymnasium (empty without ale-py)."""
        try:
            import ale_py
            import gymnasium
        except ImportError:
            return ()
        gymnasium.register_envs(ale_py)
        return {spec.name for spec in gymnasium.envs.registry.values() if spec.namespace == 'ALE'}

    @staticmethod
    def _box2d_id(env_id):
        import gymnasium
        from gym.envs.registration import parse_env_id

        _, name, _ = parse_env_id(env_id)
        versions = [spec for spec in gymnasium.envs.registry.values() if spec.namespace is None and spec.name == name]
        return max(versions, key=lambda spec: spec.version or 0).id if versions else env_id

    def _atari_id(self, env_id, kwargs):
        """Gymnasium's id and arguments for gym's Atari id: ``XDeterministic-vN`` is ``XNoFrameskip-vN`` with 4
        frames a step, and ``X-ram-vN`` is ``X-vN`` observing the console's RAM."""
        if '-ram-' in env_id:
            env_id, kwargs = env_id.replace('-ram-', '-'), {'obs_type': 'ram', **kwargs}
        if env_id.startswith('ALE/') or 'Deterministic' not in env_id:
            return env_id, kwargs
        return env_id.replace('Deterministic', 'NoFrameskip'), {'frameskip': 4, **kwargs}

    @staticmethod
    def _package(family):
        return 'Box2D (pip install box2d)' if family == 'Box2D' else 'ale-py (pip install ale-py; ROMs included)'


class GymnasiumAsGym:
    """A Gymnasium env with gym's spaces, so that the script and keras-rl see what gym.make gave them.
    Its API is gym 0.26's (Gymnasium's own): the old-API adapter (``OldGymAPI``) goes on top."""

    OWN = ('env', 'action_space', 'observation_space', 'spec', '_started')
    """What it keeps itself; every other attribute is Gymnasium's env's, read and set (so that a script's
    ``env._max_episode_steps = 5000`` reaches the TimeLimit on top, as it did in gym)."""

    def __init__(self, env):
        vars(self).update(env=env, action_space=_gym_space(env.action_space),
                          observation_space=_gym_space(env.observation_space),
                          spec=None,  # Gymnasium's spec, not gym's: the time limit is the TimeLimit wrapper's
                          _started=False)  # reset at least once: a state a new env does not have

    def __getattr__(self, name):
        if name == 'env':
            raise AttributeError(name)
        return getattr(self.env, name)

    def __setattr__(self, name, value):
        if name in self.OWN:
            vars(self)[name] = value
        else:
            setattr(self.env, name, value)

    def reset(self, **kwargs):
        self._started = True
        return self.env.reset(**kwargs)

    def seed(self, seed=None):
        """``env.seed(n)`` as gym 0.26 answers it, through the env.seed shim where it is installed."""
        import gym

        return gym.Env.seed(self, seed)

    def step(self, action):
        return self.env.step(action)

    @property
    def unwrapped(self):
        return self.env.unwrapped

    def __deepcopy__(self, memo):
        """Box2D and ALE keep their state in C, which cannot be copied: before its first reset the env has
        none, and a copy is a new env of the same id and arguments (and the same time limit)."""
        import gymnasium

        if self._started or self.env.spec is None:
            raise TypeError(f'the state of Gymnasium\'s {self.env.spec.id if self.env.spec else "env"} lives in a C '
                            'library (Box2D, ALE) and cannot be copied')
        twin = GymnasiumAsGym(gymnasium.make(self.env.spec))
        if hasattr(self.env, '_max_episode_steps'):
            twin._max_episode_steps = self.env._max_episode_steps  # a script may have changed it
        return twin


def _gym_space(space):
    """gym's Box or Discrete for Gymnasium's (the spaces keras-rl scripts read)."""
    import gym
    import gymnasium

    if isinstance(space, gymnasium.spaces.Box):
        return gym.spaces.Box(space.low, space.high, space.shape, space.dtype)
    if isinstance(space, gymnasium.spaces.Discrete):
        return gym.spaces.Discrete(int(space.n), start=int(space.start))
    return space


class OldAPITimeLimit(Shim):
    name = 'old step API under a time limit'
    fails = ('the env speaks gym\'s old API (reset() -> obs, 4-value step) and is registered with a time limit: gym '
             '0.26 wraps it in TimeLimit, which expects 5 values from step: `ValueError: not enough values to '
             'unpack (expected 5, got 4)` at the first step.')
    change = ('give the env the new API (reset(self, seed=None, options=None) -> (obs, info); step -> (obs, reward, '
              'terminated, truncated, info)), or gym.make(..., apply_api_compatibility=True)')

    def make_arguments(self, env_id, kwargs):
        """``gym.make``'s keyword arguments for ``env_id``, with gym's compatibility wrapper where it is needed."""
        from gym.envs.registration import load, spec

        if 'apply_api_compatibility' in kwargs:
            return kwargs
        try:
            registered = spec(env_id)
            maker = registered.entry_point if callable(registered.entry_point) else load(registered.entry_point)
        except Exception:  # noqa: BLE001  (gym.make itself will say what is wrong)
            return kwargs
        limit = kwargs.get('max_episode_steps', registered.max_episode_steps)
        if limit is None or not isinstance(maker, type) or _takes(maker.reset, 'seed'):
            return kwargs
        self.record(f'gym.make({env_id!r}): {maker.__name__}.reset takes no seed (the old API) and the env has a '
                    f'time limit of {limit} steps: made with apply_api_compatibility=True')
        return {**kwargs, 'apply_api_compatibility': True}


def current_version(env_id, skip_registered=False):
    """The newest registered version of ``env_id``'s env, if ``env_id`` is not registered itself
    (or ``skip_registered``); otherwise ``env_id``."""
    from gym.envs.registration import parse_env_id, registry

    if env_id in registry and not skip_registered:
        return env_id
    namespace, name, _ = parse_env_id(env_id)
    versions = [spec for spec in registry.values()
                if spec.namespace == namespace and spec.name == name and spec.version is not None]
    return max(versions, key=lambda spec: spec.version).id if versions else env_id


class GymNewAPI(Shim):
    name = 'gym 0.26 API'
    fails = ('keras-rl2\'s fit and test drive gym\'s old API (reset() -> obs, step -> 4 values); gym 0.26 envs '
             'return (obs, info) from reset and 5 values from step, so fit fails at its first step.')
    change = ('an adapter between the env and keras-rl that returns obs from reset and (obs, reward, '
              'terminated or truncated, info) from step, as shared/old_step_api.py does')

    def __init__(self, files, render, infos):
        super().__init__(files)
        self.render = render
        self.infos = infos

    def adapt(self, env):
        return env if isinstance(env, OldGymAPI) else OldGymAPI(env, self)


class UnderscoreAPI(Shim):
    name = 'gym < 0.9 API'
    fails = ('gym before 0.9 called an env\'s _step, _reset, _seed and _render; today\'s gym calls step, reset, seed '
             'and render, so an env that defines only the underscored ones gets gym.Env\'s own: reset() returns '
             'None and step raises NotImplementedError.')
    change = 'rename the env\'s _step, _reset, _seed and _render to step, reset, seed and render'
    NAMES = ('step', 'reset', 'seed', 'render')

    def port(self, env):
        """Give the class of ``env``'s innermost env its underscored methods under today's names."""
        import gym

        own = type(_unwrapped(env))
        if not issubclass(own, gym.Env):
            return
        for name in self.NAMES:
            old = getattr(own, f'_{name}', None)
            if callable(old) and getattr(own, name, None) is getattr(gym.Env, name, None):
                self.patch(own, name, _underscored(old))
                self.record(f'{own.__name__}._{name} called as {name}', where=_defined_at(old) or self.files.caller())


def _defined_at(function):
    """``'file.py:12'`` where ``function`` is defined, or None."""
    try:
        return f'{os.path.basename(inspect.getsourcefile(function))}:{inspect.getsourcelines(function)[1]}'
    except (OSError, TypeError):
        return None


def _underscored(method):
    """``method`` (gym < 0.9's ``_reset`` and the like) under today's name: the keywords today's gym
    passes (``seed=``, ``options=``, ``mode=``) it never took, so they are left out."""
    @functools.wraps(method)
    def call(env, *args, **kwargs):
        return method(env, *args)
    return call


class EnvSeed(Shim):
    name = 'env.seed'
    fails = 'gym 0.26 removed env.seed(n): `AttributeError: ... object has no attribute \'seed\'`.'
    change = 'drop env.seed(n) and seed the first reset: env.reset(seed=n)'

    def install(self):
        import gym

        if not hasattr(gym.Env, 'seed'):
            self.patch(gym.Env, 'seed', _seed_next_reset(self))



def _seed_next_reset(shim):
    def seed(env, seed=None):
        """gym < 0.26's env.seed(n), kept as the seed of the env's next reset."""
        shim.record(f'env.seed({seed!r}) kept as the seed of the next reset')
        env.unwrapped.__dict__['_seed_of_next_reset'] = seed
        return [seed]
    return seed


class OldGymAPI:
    """A gym 0.26 env as gym < 0.26 presented it, for keras-rl2's fit and test.

    Converts only what needs converting (an env that already speaks the old API passes through),
    uses the seed that ``env.seed(n)`` kept (``EnvSeed``) at the next reset, and accepts
    ``render(mode='human')``, which keras-rl's visualiser calls and gym 0.26 refuses.
    """

    def __init__(self, env, shim, made_at=None):
        self.__dict__.update(env=env, _shim=shim, _made_at=made_at or shim.files.caller())

    def __getattr__(self, name):
        if name == 'env':  # not set yet (a copy under construction)
            raise AttributeError(name)
        return getattr(self.env, name)

    def __setattr__(self, name, value):
        setattr(self.env, name, value)

    def reset(self, **kwargs):
        seed = _unwrapped(self.env).__dict__.pop('_seed_of_next_reset', None)
        # gym's wrappers pass any keyword on: the env's own reset says whether a seed can reach it.
        if seed is not None and _takes(self.env.reset, 'seed') and _takes(_unwrapped(self.env).reset, 'seed'):
            kwargs.setdefault('seed', seed)
        result = self.env.reset(**kwargs)
        if _called_by_a_wrapper(self):
            return result
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
            self._shim.record('reset() returns (obs, info): obs passed on', where=self._made_at)
            return result[0]
        return result

    def step(self, action):
        result = self.env.step(action)
        if len(result) != 5 or _called_by_a_wrapper(self):
            return result
        self._shim.record('step returns 5 values: (obs, reward, terminated or truncated, info) passed on',
                          where=self._made_at)
        observation, reward, done, info = old_step(result)
        return observation, reward, done, self._shim.infos.numbers_only(info, where=self._made_at)

    def render(self, mode='human', **kwargs):
        own = getattr(_unwrapped(self.env), 'render', None)
        if own is not None and _takes(own, 'mode'):  # an env of the old API draws itself, as it did
            return self.env.render(mode=mode, **kwargs)
        if getattr(self.env, 'render_mode', None) is None:
            self._shim.render.record('visualize=True: gym 0.26 draws only with render_mode given to gym.make')
            return None
        return self.env.render()

    def __deepcopy__(self, memo):  # probes copy the env; the copy reports to the same shim
        import copy

        return OldGymAPI(copy.deepcopy(self.env, memo), self._shim, self._made_at)


def _called_by_a_wrapper(env):
    """Whether ``env.reset`` or ``env.step`` was called from a method of an object that holds ``env``:
    a wrapper (the script's own adapter, gym's TimeLimit) written for the env's own API, which it
    then gets; the wrapper itself is presented to fit and test with the old API."""
    holder = sys._getframe(2).f_locals.get('self')  # 0: here, 1: reset or step, 2: their caller
    if holder is None or holder is env:
        return False
    try:
        return any(value is env for value in vars(holder).values())
    except TypeError:  # an object without a __dict__
        return False


class ArrayInfos(Shim):
    name = 'arrays in info'
    fails = ('keras-rl2\'s fit adds up each episode\'s info values and asks np.isreal of each; gym 0.26 envs put '
             'arrays there (Taxi-v3\'s info[\'action_mask\']): `ValueError: The truth value of an array with more '
             'than one element is ambiguous` in rl/core.py at the first step.')
    change = ('a gym.Wrapper between the env and fit whose step leaves the array values out of info (keras-rl '
              'adds up only numbers, so nothing it shows is lost)')

    def numbers_only(self, info, where):
        """``info`` without its array values, which keras-rl2's fit cannot add up."""
        arrays = [key for key, value in info.items() if np.ndim(value) > 0]
        if not arrays:
            return info
        for key in arrays:
            self.record(f'info[{key!r}], an array of shape {np.shape(info[key])}, left out of what fit adds up',
                        where=where)
        return {key: value for key, value in info.items() if key not in arrays}


def _unwrapped(env):
    """The innermost env: gym's ``unwrapped``, or the env itself where it is not a gym.Env (a plain class)."""
    return getattr(env, 'unwrapped', env)


def _takes(method, parameter):
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    return parameter in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class Render(Shim):
    name = 'render'
    severity = WARNING
    fails = ('keras-rl\'s visualize=True calls env.render(mode=\'human\'); gym 0.26 takes no mode there and draws '
             'only when gym.make was given render_mode, so nothing is drawn.')
    change = 'gym.make(ENV_NAME, render_mode=\'human\') where a window is wanted, or visualize=False'



class ClassicControlRendering(Shim):
    name = 'classic_control.rendering'
    fails = ('gym 0.22 removed gym.envs.classic_control.rendering (the pyglet Viewer that 2018-2021 envs drew '
             'themselves with): `ImportError: cannot import name \'rendering\'` the first time the env draws '
             '(keras-rl\'s visualize=True, or test()).')
    change = ('draw with pygame, as gym 0.26\'s classic-control envs do, or draw only when the env was made with a '
              'render_mode (gym.make(..., render_mode=\'human\'))')

    def install(self):
        import types

        import gym.envs.classic_control as classic_control

        if hasattr(classic_control, 'rendering') or 'gym.envs.classic_control.rendering' in sys.modules:
            return
        shim = self

        class Rendering(types.ModuleType):
            def __getattr__(self, name):
                if name.startswith('__'):
                    raise AttributeError(name)
                shim.record(f'rendering.{name} drew nothing (the module is gone; the env ran without a window)')
                return _NoDrawing

        self._module = Rendering('gym.envs.classic_control.rendering', 'gym 0.21\'s rendering module: draws nothing')
        self.patch(classic_control, 'rendering', self._module)
        sys.modules[self._module.__name__] = self._module

    def uninstall(self):
        if sys.modules.get('gym.envs.classic_control.rendering') is getattr(self, '_module', None):
            del sys.modules['gym.envs.classic_control.rendering']
        super().uninstall()


class _NoDrawing:
    """Whatever the old rendering module made (a Viewer, a polygon, a transform): takes every call, draws nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _NoDrawing()

    def __call__(self, *args, **kwargs):
        return _NoDrawing()


class KerasTensorBoard(Shim):
    name = 'Keras TensorBoard callback'
    fails = ('keras-rl2 drives the callbacks handed to fit through TensorFlow\'s old internal Keras; a tf-keras '
             'TensorBoard then fails at the first step: `AttributeError: \'TensorBoard\' object has no attribute '
             '\'_should_trace\'`.')
    change = ('a keras-rl Callback whose on_episode_end writes the episode\'s numbers as TensorBoard scalars '
              '(tf.summary), or keras-rl\'s FileLogger to a JSON file')

    def adapt(self, callbacks):
        """fit's ``callbacks`` with every Keras ``TensorBoard`` replaced by ``EpisodeScalars`` on its log_dir."""
        from rl.callbacks import Callback

        if not callbacks:
            return callbacks
        adapted = []
        for callback in callbacks:
            if type(callback).__name__ == 'TensorBoard' and not isinstance(callback, Callback):
                log_dir = str(callback.log_dir)
                self.record(f'TensorBoard(log_dir={log_dir!r}) written by keras-rl episode (reward, steps, ...)')
                callback = EpisodeScalars(log_dir)
            adapted.append(callback)
        return adapted


def EpisodeScalars(log_dir):
    """A keras-rl callback that writes each episode's numbers into ``log_dir`` as TensorBoard scalars, by
    episode, as Keras 2.2's TensorBoard did when keras-rl called its on_epoch_end once per episode."""
    import tensorflow as tf
    from rl.callbacks import Callback

    class EpisodeScalars(Callback):
        def on_train_begin(self, logs=None):
            with tf.Graph().as_default():  # a v1 writer of Summary protos: no session, eager execution on or off
                self.writer = tf.compat.v1.summary.FileWriter(log_dir)

        def on_episode_end(self, episode, logs=None):
            values = [tf.compat.v1.Summary.Value(tag=key, simple_value=float(value))
                      for key, value in (logs or {}).items() if np.ndim(value) == 0 and np.isreal(value)]
            self.writer.add_summary(tf.compat.v1.Summary(value=values), episode)

        def on_train_end(self, logs=None):
            self.writer.close()

    return EpisodeScalars()


class NumpyName(Shim):
    """A name numpy no longer has, answered while the script runs: numpy's module ``__getattr__``
    asks ``answer`` first (the shim's own names), then numpy's own."""

    def install(self):
        self._numpy_getattr = vars(np).get('__getattr__')
        self.patch(np, '__getattr__', self._getattr)

    def answer(self, name):
        """What ``np.<name>`` gives under this shim (recording the use), or None: not one of its names."""
        return None

    def _getattr(self, name):
        found = self.answer(name)
        if found is not None:
            return found
        if self._numpy_getattr is None:
            raise AttributeError(f"module 'numpy' has no attribute {name!r}")
        return self._numpy_getattr(name)


class NumpyBool8(NumpyName):
    name = 'np.bool8'
    fails = ('gym 0.26\'s env checker (run by gym.make on every env\'s first steps) asks numpy for np.bool8, '
             'which numpy 2 removed: `AttributeError: module \'numpy\' has no attribute \'bool8\'`.')
    change = 'gym.make(..., disable_env_checker=True), or move to Gymnasium (gym is unmaintained)'

    def answer(self, name):
        if name != 'bool8':
            return None
        self.record('gym\'s env checker asked for np.bool8 at the env\'s first steps (given np.bool_)')
        return np.bool_


class NumpyAliases(NumpyName):
    name = 'numpy aliases'
    fails = ('numpy 1.24 removed its aliases of Python\'s own types (np.int, np.float, np.bool, np.object, '
             'np.complex, np.str): `AttributeError: module \'numpy\' has no attribute \'int\'`.')
    change = ('the Python type itself (int, float, bool, object), or numpy\'s sized one where a dtype is meant '
              '(np.int64, np.float64, np.bool_)')
    ALIASES = {'int': int, 'float': float, 'bool': bool, 'object': object, 'complex': complex, 'str': str,
               'long': int, 'unicode': str}
    """What each removed alias stood for (the Python type itself)."""

    def answer(self, name):
        if name not in self.ALIASES:
            return None
        self.record(f'np.{name} (given {self.ALIASES[name].__name__})')
        return self.ALIASES[name]


class ScipyTolerance(Shim):
    name = 'scipy tol'
    fails = ('scipy 1.14 removed the `tol` keyword of its iterative solvers (scipy.sparse.linalg.cg, gmres, bicgstab, '
             '...), renamed `rtol`: `TypeError: cg() got an unexpected keyword argument \'tol\'`.')
    change = 'rtol= in place of tol= (the same relative tolerance)'
    SOLVERS = ('cg', 'bicg', 'bicgstab', 'cgs', 'gmres', 'lgmres', 'minres', 'qmr', 'gcrotmk', 'tfqmr')

    def install(self):
        from scipy.sparse import linalg

        for name in self.SOLVERS:
            solver = getattr(linalg, name, None)
            if solver is not None and 'tol' not in inspect.signature(solver).parameters:
                self.patch(linalg, name, self._taking_tol(name, solver))

    def _taking_tol(self, name, solver):
        shim = self

        @functools.wraps(solver)
        def solve(*args, **kwargs):
            if 'tol' in kwargs and 'rtol' not in kwargs:
                shim.record(f'{name}(..., tol={kwargs["tol"]!r}) solved with rtol={kwargs["tol"]!r}')
                kwargs['rtol'] = kwargs.pop('tol')
            return solver(*args, **kwargs)
        return solve


class RaggedArrays(Shim):
    name = 'ragged arrays'
    fails = ('numpy 1.24 refuses to build an array from parts of different shapes: `ValueError: setting an array '
             'element with a sequence. The requested array has an inhomogeneous shape`. Older numpy took a '
             'one-element array as the number it holds, and made an object array of sequences of different lengths.')
    change = ('make the parts one shape (float(x) or x.item() of a one-element array, np.concatenate), or say '
              'dtype=object for a ragged array')

    def install(self):
        self._array = np.array
        self.patch(np, 'array', self._ragged_as_objects())

    def _ragged_as_objects(self):
        shim, array = self, self._array

        def ragged_array(*args, **kwargs):
            try:
                return array(*args, **kwargs)
            except ValueError as error:
                caller = sys._getframe(1)
                from_script = caller.f_code.co_filename in shim.files
                if 'inhomogeneous' not in str(error) or 'dtype' in kwargs or not from_script:
                    raise
                where = f'{self.files.name(caller.f_code.co_filename)}:{caller.f_lineno}'
                parts = args[0] if args else None
                if isinstance(parts, (list, tuple)):  # one-element arrays among numbers: their numbers
                    numbers = [part.item() if isinstance(part, np.ndarray) and part.size == 1 else part
                               for part in parts]
                    try:
                        made = array(numbers, *args[1:], **kwargs)
                        shim.record('np.array of numbers and one-element arrays: each array taken as its number, '
                                    'as numpy 1.23 did', where=where)
                        return made
                    except ValueError:
                        pass
                shim.record('np.array of sequences of different lengths made an object array, as numpy 1.23 did',
                            where=where)
                return array(*args, dtype=object, **kwargs)
        return ragged_array


class LegacyOptimizers(Shim):
    name = 'optimizer'
    fails = ('keras-rl2 turns eager execution off; Keras\'s new optimizers then fail in agent.compile with '
             '`NotImplementedError: numpy() is only available when eager execution is enabled`.')
    change = ('the legacy optimizer with the same arguments: `from tensorflow.keras.optimizers.legacy import Adam`, '
              '`Adam(learning_rate=...)` (`lr=` is its old spelling)')

    def install(self):
        """Have every new-style optimizer remember the arguments it was built with."""
        import tf_keras

        new_style = tf_keras.optimizers.Optimizer
        for cls in vars(tf_keras.optimizers).values():
            if isinstance(cls, type) and issubclass(cls, new_style) and '__init__' in vars(cls):
                self.patch(cls, '__init__', _remembering(vars(cls)['__init__']))


    def legacy(self, optimizer):
        """The legacy twin of a new-style Keras optimizer: same class name, same arguments."""
        import tf_keras

        if isinstance(optimizer, (list, tuple)):
            return type(optimizer)(self.legacy(each) for each in optimizer)
        arguments = getattr(optimizer, '__dict__', {}).get('_arguments_as_written')
        twin = getattr(tf_keras.optimizers.legacy, type(optimizer).__name__, None)
        if arguments is None or twin is None:
            return optimizer
        arguments = dict(arguments)
        if 'lr' in arguments:
            arguments['learning_rate'] = arguments.pop('lr')
        shown = ', '.join(f'{key}={value!r}' for key, value in arguments.items())
        self.record(f'{type(optimizer).__name__}({shown}) given to compile as its legacy twin')
        return twin(**arguments)


def _remembering(init):
    def __init__(optimizer, *args, **kwargs):
        bound = inspect.signature(init).bind(optimizer, *args, **kwargs).arguments
        bound.pop(next(iter(bound)))  # the optimizer itself
        arguments = {**{k: v for k, v in bound.items() if k != 'kwargs'}, **bound.get('kwargs', {})}
        optimizer.__dict__.setdefault('_arguments_as_written', arguments)  # the script's call, not super()'s
        init(optimizer, *args, **kwargs)
    return __init__


class H5Weights(Shim):
    name = 'weights file'
    fails = ('Keras 2 wrote HDF5 whatever the file\'s name; tf-keras writes TensorFlow\'s checkpoint format for '
             '`.h5f` or a name without an extension (several files, none of them the one named), and fails on a critic '
             'whose optimizer never ran (`FailedPreconditionError` for a name without an extension).')
    change = 'name the file `.h5` (keras-rl adds _actor/_critic), or pass save_format=\'h5\' to model.save_weights'

    def install(self):
        import tf_keras

        self._save = tf_keras.Model.save_weights
        self.patch(tf_keras.Model, 'save_weights', self._save_weights())


    def _save_weights(self):
        shim, save = self, self._save

        def save_weights(model, filepath, overwrite=True, save_format=None, options=None):
            name = os.path.basename(str(filepath))
            if save_format is None and (name.endswith('.h5f') or not os.path.splitext(name)[1]):
                shim.record(f'save_weights({name!r}) written as HDF5')
                save_format = 'h5'
            return save(model, filepath, overwrite=overwrite, save_format=save_format, options=options)
        return save_weights

    def expect(self, source, filename):
        """Lines of the script that will save ``.h5f`` weights (found before they run, e.g. after fit)."""
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = getattr(node.func, 'attr', getattr(node.func, 'id', ''))
            # agent.save_weights(NAME), and keras-rl's ModelIntervalCheckpoint(NAME, ...), which calls it every N steps
            names = (node.args[:1] if called == 'save_weights' else
                     node.args[:1] + [k.value for k in node.keywords if k.arg == 'filepath']
                     if called == 'ModelIntervalCheckpoint' else [])
            if any('.h5f' in ast.unparse(name) for name in names):
                self.record(f'{ast.unparse(node)[:70]}{NOT_YET}',
                            where=f'{os.path.basename(filename)}:{node.lineno}')


class GymMonitor(Shim):
    name = 'gym.wrappers.Monitor'
    fails = 'gym 0.26 removed wrappers.Monitor: `AttributeError: module \'gym.wrappers\' has no attribute \'Monitor\'`.'
    change = ('gym.wrappers.RecordEpisodeStatistics(env) for episode returns, and RecordVideo(env, folder) '
              '(with render_mode=\'rgb_array\') for videos')

    def install(self):
        import gym.wrappers

        if not hasattr(gym.wrappers, 'Monitor'):
            self.patch(gym.wrappers, 'Monitor', self._monitor)


    def _monitor(self, env, directory=None, *args, **kwargs):
        self.record(f'wrappers.Monitor(env, {directory!r}) left out: the env is used as it is, nothing recorded')
        return env


class GoalEnvBase(Shim):
    name = 'gym.GoalEnv'
    fails = ('gym 0.22 removed gym.GoalEnv (Gymnasium-Robotics keeps it): `AttributeError: module \'gym\' has no '
             'attribute \'GoalEnv\'`, where the env class is defined.')
    change = ('subclass gym.Env and keep what GoalEnv asked for yourself: a Dict observation space with '
              '\'observation\', \'achieved_goal\' and \'desired_goal\', and compute_reward(achieved_goal, '
              'desired_goal, info) (docs/porting.md, P4)')

    def install(self):
        import gym

        if not hasattr(gym, 'GoalEnv'):
            self.patch(gym, 'GoalEnv', old_goal_env(self))


def old_goal_env(shim):
    """gym 0.21's ``GoalEnv`` on gym 0.26: a subclass records where it was defined."""
    import gym

    class GoalEnv(goal_env_class(gym, __name__)):
        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__(**kwargs)
            shim.record(f'class {cls.__name__}(gym.GoalEnv) made a subclass of gym 0.21\'s GoalEnv')

    return GoalEnv


class FlattenDict(Shim):
    name = 'FlattenDictWrapper'
    fails = ('gym 0.15.4 removed wrappers.FlattenDictWrapper: `AttributeError: module \'gym.wrappers\' has no '
             'attribute \'FlattenDictWrapper\'`. Its successor, FlattenObservation, flattens every key in '
             'alphabetical order, the achieved goal included.')
    change = ('a small gym.ObservationWrapper whose observation() concatenates the keys you chose, in your order, '
              'with a float32 Box of their total size (the kit\'s shared/goal_env.py FlattenDictWrapper; '
              'docs/porting.md, P5)')

    def install(self):
        import gym.wrappers

        if not hasattr(gym.wrappers, 'FlattenDictWrapper'):
            self._wrapper = flatten_dict_wrapper_class(gym, __name__)  # one class for every env the script wraps
            self.patch(gym.wrappers, 'FlattenDictWrapper', self._flatten)

    def _flatten(self, env, dict_keys):
        self.record(f'FlattenDictWrapper(env, dict_keys={list(dict_keys)!r}): the keys concatenated in this order')
        return self._wrapper(env, dict_keys)


class ObjectBatches(Shim):
    name = 'object batches'
    fails = ('keras-rl2 1.0.5\'s DDPGAgent builds every state batch as a numpy object array; a Processor that does '
             'arithmetic on it (WhiteningNormalizerProcessor) fails: `loop of ufunc does not support argument 0 of '
             'type float which has no callable sqrt method`.')
    change = ('a Processor whose process_state_batch first converts the batch: '
              '`batch = np.asarray(batch, dtype=np.float32)` (the kit\'s FIX-19)')

    def install(self):
        from rl.agents.ddpg import DDPGAgent
        from rl.core import Processor

        stock, shim = DDPGAgent.process_state_batch, self

        def process_state_batch(agent, batch):
            processor = agent.processor
            if processor is None or type(processor).process_state_batch is Processor.process_state_batch:
                return stock(agent, batch)  # nothing does arithmetic on the object array
            objects = np.array(batch, dtype=object)
            try:  # a processor that converts the batch itself needs nothing, and is not reported
                return processor.process_state_batch(objects)
            except (TypeError, ValueError, AttributeError):
                shim.record(f'{type(processor).__name__}.process_state_batch given float32 batches')
                return processor.process_state_batch(objects.astype(np.float32))

        self.patch(DDPGAgent, 'process_state_batch', process_state_batch)



class NafGradients(Shim):
    name = 'NAF gradients'
    fails = ('keras-rl2\'s NAFAgent builds its advantage with tf.scan; in graph mode today\'s TensorFlow cannot take '
             'its gradient: `InvalidArgumentError: ... Connecting to invalid output ... of source node '
             'naf_layer/scan/while` at the first training step.')
    change = ('call tf.compat.v1.experimental.output_all_intermediates(True) before agent.compile (TensorFlow\'s own '
              'advice in that error)')

    def install(self):
        from tensorflow.python.ops import control_flow_util_v2

        # set by before_compile through TensorFlow's own call; patched to itself so uninstall puts it back
        name = '_EXPERIMENTAL_OUTPUT_ALL_INTERMEDIATES_OVERRIDE'
        self.patch(control_flow_util_v2, name, getattr(control_flow_util_v2, name))

    def before_compile(self, agent):
        from rl.agents import NAFAgent
        import tensorflow as tf

        if isinstance(agent, NAFAgent):
            tf.compat.v1.experimental.output_all_intermediates(True)
            self.record('NAFAgent compiled with output_all_intermediates(True)')


class LambdaClones(Shim):
    name = 'Lambda layer'
    fails = ('keras-rl clones the networks through their config (target networks); tf-keras refuses to rebuild a '
             'Lambda layer holding a Python lambda: `Requested the deserialization of a Lambda layer with a Python '
             '`lambda` inside it ... disallowed by default`.')
    change = ('a Keras layer in place of the Lambda: for a tanh scaled to [low, high], '
              '`Rescaling(scale=(high - low) / 2, offset=(high + low) / 2)`')

    def install(self):
        import rl.util

        stock, shim = rl.util.clone_model, self

        def clone_model(model, custom_objects={}):  # noqa: B006  (keras-rl's own signature)
            lambdas = [layer.name for layer in model.layers if type(layer).__name__ == 'Lambda']
            if not lambdas:
                return stock(model, custom_objects)
            from tf_keras.src.saving.serialization_lib import SafeModeScope

            shim.record(f'the model with Lambda layer {", ".join(lambdas)} cloned with safe mode off')
            with SafeModeScope(safe_mode=False):
                return stock(model, custom_objects)

        for module in [m for name, m in list(sys.modules.items()) if name == 'rl' or name.startswith('rl.')]:
            if getattr(module, 'clone_model', None) is stock:  # rl.util and every `from rl.util import *`
                self.patch(module, 'clone_model', clone_model)



class WideStepCounter(Shim):
    """keras-rl2 counts steps in np.int16 (BUG-15); for a fit of more steps, count in int64."""

    name = 'step counter'
    fails = ('keras-rl2 counts steps in np.int16, which under numpy 2 wraps to -32768 after 32767: a longer fit '
             'never ends and stops learning.')
    change = 'at most 32767 steps per fit call (call fit again to go on)'

    def install(self):
        import rl.core

        self.patch(rl.core, 'np', _NumpyCountingInInt64())



class _NumpyCountingInInt64:
    """numpy, except that ``int16`` is ``int64``: what rl/core.py sees while the shim is in place."""

    int16 = np.int64

    def __getattr__(self, name):
        return getattr(np, name)


class Shims:
    """Every porting shim, installed for one run of a script: ``with Shims(files) as shims:``."""

    def __init__(self, files, source=None):
        self.files = files
        self.notebook = NotebookCommands(files)
        self.render = Render(files)
        self.infos = ArrayInfos(files)
        self.api = GymNewAPI(files, self.render, self.infos)
        self.keras_rl = KerasRL2Import(files)
        self.keras = StandaloneKeras(files, self.keras_rl)
        self.old_api = OldAPITimeLimit(files)
        self.unchecked = EnvChecker(files)
        self.gymnasium_envs = GymnasiumEnvs(files)
        self.env_ids = RetiredEnvIds(files, adapt=self.api.adapt, old_api=self.old_api,
                                     gymnasium_envs=self.gymnasium_envs, env_checker=self.unchecked)
        self.seed = EnvSeed(files)
        self.underscore = UnderscoreAPI(files)
        self.bool8 = NumpyBool8(files)
        self.numpy_aliases = NumpyAliases(files)
        self.scipy_tol = ScipyTolerance(files)
        self.optimizers = LegacyOptimizers(files)
        self.ragged = RaggedArrays(files)
        self.weights = H5Weights(files)
        self.monitor = GymMonitor(files)
        self.rendering = ClassicControlRendering(files)
        self.tensorboard = KerasTensorBoard(files)
        self.goal_env = GoalEnvBase(files)
        self.flatten = FlattenDict(files)
        self.batches = ObjectBatches(files)
        self.naf = NafGradients(files)
        self.lambdas = LambdaClones(files)
        self.counter = WideStepCounter(files)
        self.all = [self.notebook, self.keras_rl, self.keras, self.goal_env, self.env_ids, self.gymnasium_envs,
                    self.unchecked, self.old_api,
                    self.api, self.infos,
                    self.flatten, self.seed, self.underscore, self.bool8, self.numpy_aliases, self.scipy_tol,
                    self.ragged, self.monitor, self.rendering, self.optimizers, self.naf, self.lambdas, self.batches,
                    self.tensorboard, self.weights, self.counter, self.render]
        self._source = source
        self._installed = []

    def __enter__(self):
        for shim in self.all:
            shim.install()
            self._installed.append(shim)
        if self._source is not None:
            self.keras_rl.expect(self._source)
            self.weights.expect(self._source, self.files.main)
        return self

    def __exit__(self, *exc):
        for shim in reversed(self._installed):
            shim.uninstall()
        self._installed.clear()
        return False

    def used(self):
        """The shims this run needed, in the order of the list above."""
        return [shim for shim in self.all if shim.uses]

