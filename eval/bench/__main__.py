"""`python -m eval.bench`: see eval.bench.cli."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
