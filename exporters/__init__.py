"""Deploy targets: one module per target plus parity checking."""
