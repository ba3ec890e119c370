"""``python -m app.gui [P.loom]``: start the desktop editor."""

import sys

from app.gui.app import main

sys.exit(main())
