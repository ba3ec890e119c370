"""Built-in node specs, one module per layer family. Each module exposes ``SPECS``."""
