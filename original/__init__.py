"""One of the kit's two variants of the question's setup; the other mirrors it file for file.

``original/`` is the question's setup on today's stack, bugs included and marked ``# BUG-n``;
``fixed/`` is the same files corrected, each change marked ``# FIX-n``, ``# IMPROVEMENT-n`` or
``# PORT`` (docs/bugs.md, docs/porting.md). Importing either registers its env: the original's
with gym as ``stepsignal-v0``, the fixed one with Gymnasium as ``stepsignal-v1``. ``python -m original
--out DIR`` and ``python -m fixed --out DIR`` run them.
"""
import warnings

from shared.quiet import GYM_NOISE, held_back  # PORT: gym 0.26's "unmaintained" notice, held back

with held_back(GYM_NOISE):  # (docs/porting.md says why the original still runs on gym)
    import gym
    # gym 0.26 warns of float16 Box bounds, which the question's gym did not: BUG-7, the kit's to explain.
    warnings.filterwarnings('ignore', message='.*Box bound precision lowered by casting to float16')

gym.envs.registration.register(id='stepsignal-v0', entry_point='original.env:StepSignal')
