"""``python -m layerloom ...``: the command line, exactly as the ``layerloom`` script runs it."""

import sys

from layerloom.app.cli import main

sys.exit(main())
