"""The kit's base: what both variants of the question's setup build on, and nothing that drives them.

Imports only the outside world (numpy, scipy, Gymnasium, keras-rl2 through ``shared.keras_rl``),
never ``original``, ``fixed`` or ``stepsignal`` (``tests/test_structure.py`` checks it).
"""
