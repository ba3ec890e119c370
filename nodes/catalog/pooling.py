"""TODO: filled in by the catalog work."""

SPECS: list = []
