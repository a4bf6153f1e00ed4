"""`python -m trainer` runs the trainer CLI."""

import sys

from trainer.cli import main

if __name__ == "__main__":  # pipeline worker processes (spawn) may import this module
    sys.exit(main())
