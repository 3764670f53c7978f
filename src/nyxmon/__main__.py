"""``python -m nyxmon``: the same as the ``nyxmon`` command."""

import sys

from nyxmon.cli import main

sys.exit(main())
