"""One of the kit's two variants of the question's setup; the other mirrors it file for file.

``original/`` is the question's setup on today's stack, bugs included and marked ``# BUG-n``;
``fixed/`` is the same files corrected, each change marked ``# FIX-n``, ``# IMPROVEMENT-n`` or
``# PORT`` (docs/bugs.md, docs/porting.md). Importing either registers its env: the original's
with gym as ``stepsignal-v0``, the fixed one with Gymnasium as ``stepsignal-v1``. ``python -m original
--out DIR`` and ``python -m fixed --out DIR`` run them.
"""
import gymnasium  # PORT: Gymnasium

from shared.scenario import question_scenario  # PORT: the scenario gymnasium.make builds by default

from .hyperparameters import HYPERPARAMETERS  # FIX-3: the time limit the registration gives the env

# PORT: Gymnasium's register, as a new version: its behaviour differs (Version History in
# fixed/env.py); the question's signals are the defaults, so make('stepsignal-v1') needs no arguments.
_question = question_scenario()
gymnasium.register(id='stepsignal-v1', entry_point='fixed.env:StepSignal',
                   kwargs=dict(input_signal=_question.input_signal, sample_rate=_question.sample_rate,
                               desired_signal=_question.desired_signal,
                               time_limit=HYPERPARAMETERS.max_episode_steps))  # FIX-3
