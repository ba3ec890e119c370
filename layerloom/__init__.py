"""Layerloom: build Keras models as node graphs, train them anywhere, deploy them everywhere.

The repository's top-level folders are this package's subpackages (``pyproject.toml`` maps them):
``layerloom.nodes`` (the domain), ``layerloom.backends`` (training), ``layerloom.exporters``
(deploy targets), ``layerloom.app`` (workbench, CLI, GUI) and ``layerloom.resources``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("layerloom")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
