"""The Training panel: live curves, progress, runs, evaluation and the settings form.

pyqtgraph must bind to PySide6 (the only Qt the app ships); naming it here, before any submodule
imports pyqtgraph, makes that independent of import order.
"""

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
