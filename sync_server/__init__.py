"""EyeVsAI sync server: accounts, OAuth sign-in, global leaderboards and ranked sessions (docs/design.md §6)."""

__version__ = "0.1.0"
