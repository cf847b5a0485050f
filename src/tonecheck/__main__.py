"""``python -m tonecheck``: the same command line as the ``tonecheck`` script."""

import sys

from tonecheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
