"""The question's setup, corrected so that it learns; every change is marked ``# FIX-n``.

Importing this package registers the corrected env with Gymnasium as ``stepsignal-v0``, and as
``stepsignal-random-v0`` the same env drawing a new step scenario at every reset.
Run it with ``python -m fixed --seed N --out DIR``; docs/bugs.md explains each fix.
"""
import gymnasium

gymnasium.register(id='stepsignal-v0', entry_point='fixed.env:StepSignal')
gymnasium.register(id='stepsignal-random-v0', entry_point='fixed.env:RandomStepSignal')

NB_STEPS = 5000
"""Default budget in environment steps, training and the policy checks of IMPROVEMENT-1 together
(the learning bar allows at most 5,000)."""
