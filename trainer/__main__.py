"""`python -m trainer` runs the trainer CLI."""

import sys

from trainer.cli import main

sys.exit(main())
