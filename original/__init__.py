"""One of the kit's two variants of the question's setup; the other mirrors it file for file.

``original/`` is the question's setup on today's stack, bugs included and marked ``# BUG-n``;
``fixed/`` is the same files corrected, each change marked ``# FIX-n``, ``# IMPROVEMENT-n`` or
``# PORT`` (docs/bugs.md, docs/porting.md). Importing either registers its env: the original's
with gym as ``stepsignal-v0``, the fixed one with Gymnasium as ``stepsignal-v1``. ``python -m original
--out DIR`` and ``python -m fixed --out DIR`` run them.
"""
import gym

gym.envs.registration.register(id='stepsignal-v0', entry_point='original.env:StepSignal')
