"""Package data: templates, styles, icons and sample datasets."""
