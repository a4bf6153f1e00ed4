"""Pure game logic: rules and sessions (no Qt, no I/O)."""
