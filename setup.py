"""Refuse another Python before pip downloads anything; everything else is in setup.cfg."""
import sys

from setuptools import setup

if not (3, 11) <= sys.version_info[:2] <= (3, 13):
    sys.exit(f'stepsignal-kit needs Python 3.11, 3.12 or 3.13 (its pinned TensorFlow, keras-rl2 and gym were '
             f'verified together there; TensorFlow 2.21 has no wheels for 3.14); this is Python '
             f'{sys.version.split()[0]}. README.md, "Python 3.11 to 3.13", says how to get one beside yours.')

setup()
