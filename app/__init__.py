"""The application: workbench use cases, the CLI and (only here) the Qt GUI."""
