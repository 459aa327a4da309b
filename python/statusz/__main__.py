"""``python -m statusz``: the statusz command line (see statusz.cli)."""

import sys

from .cli import main

sys.exit(main())
