"""``python -m original`` and ``python -m fixed``: hand over to the command line in ``stepsignal.run``.

Commands sit above the variants (docs/index.md#how-the-kit-is-built); Python looks for a
package's command in its ``__main__.py``, so this file is the door, for the variant it is in.
"""
import sys

from stepsignal.run import main

if __name__ == '__main__':
    sys.exit(main(__package__))
