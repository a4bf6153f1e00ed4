"""The warning the Results and Tune screens show when a model's accuracy is no better than guessing."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from classifiers.chance import ChanceCheck

STYLE = "background: #fff3cd; color: #664d03; border: 1px solid #e0c36a; border-radius: 4px; padding: 6px;"


class ChanceBanner(QLabel):
    """A label, hidden unless the check it is given says "at chance"; then it says so with the numbers."""

    def __init__(self) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setStyleSheet(STYLE)
        self.setVisible(False)
        self.is_at_chance = False  # what is shown (isVisible also depends on the window being shown)

    def show_check(self, check: ChanceCheck | None, *, split: str = "test") -> None:
        """Show `check`'s verdict when it is at chance, else hide; None (nothing measured yet) hides too."""
        self.is_at_chance = check is not None and check.is_at_chance
        self.setText(f"⚠ {check.describe(split)}" if check is not None and self.is_at_chance else "")
        self.setVisible(self.is_at_chance)
