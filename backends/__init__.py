"""Training backends: one worker protocol, several transports."""
