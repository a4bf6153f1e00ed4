"""PySide6 views of the game."""
