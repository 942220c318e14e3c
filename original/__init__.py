"""The question's setup, reproduced faithfully on today's stack, bugs included.

Importing this package registers the question's env as ``stepsignal-v0`` with gym.
Run it with ``python -m original --out DIR``; see docs/bugs.md for what is wrong with it.
"""
import gym

gym.envs.registration.register(id='stepsignal-v0', entry_point='original.env:StepSignal')
