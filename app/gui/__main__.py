"""``python -m layerloom.app.gui [P.loom]``: start the desktop editor."""

import sys

from layerloom.app.gui.app import main

sys.exit(main())
