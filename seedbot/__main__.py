"""`python -m seedbot`: the same command line as the `seedbot` script."""

import sys

from seedbot.cli import main

if __name__ == "__main__":
    sys.exit(main())
