"""``python -m constpot.cli``: the ``constpot`` command without its script."""

import sys

from . import main

sys.exit(main())
