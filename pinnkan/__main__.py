"""``python -m pinnkan``: the command line, as the ``pinnkan`` command (and ``torchrun -m pinnkan``)."""

import sys

from .run.cli import main

sys.exit(main())
