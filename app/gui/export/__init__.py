"""Exporting from the GUI: the Export dialog (targets, run, options, progress, parity report,
history) and the main window's File ▸ Export… command."""
