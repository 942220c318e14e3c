"""Refuse another Python before pip downloads anything; everything else is in setup.cfg."""
import sys

from setuptools import setup

if sys.version_info[:2] != (3, 11):
    sys.exit(f'stepsignal-kit needs Python 3.11 (its pinned TensorFlow, keras-rl2 and gym were verified '
             f'together there); this is Python {sys.version.split()[0]}. README.md, "Python 3.11", '
             f'says how to get it beside the one you have.')

setup()
