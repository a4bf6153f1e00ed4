"""The HTTP API (v1): thin routes over the data functions."""
