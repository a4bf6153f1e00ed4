"""The end screen (the verdict, both scores and the margin, a picture per round, personal bests, share and proof
export) and the history screen."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.session import GameSession
from desktop.services.online.crowd import PackCrowd
from desktop.ui.crowd_gallery import CrowdGalleries
from desktop.ui.round_review import RoundGallery
from desktop.ui.round_widgets import GREEN, ORANGE, RED


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setTabKeyNavigation(False)  # Tab leaves the table: no keyboard trap
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(i, j, item)


class EndView(QWidget):
    """Signals:
    play_again_requested(): same choices, new session (R).
    home_requested(): back to the home screen (Esc).
    export_requested(): save the proof file.
    share_requested(): copy the result text and show the share card.
    stats_requested(): the statistics over the player's history.
    """

    play_again_requested = Signal()
    home_requested = Signal()
    export_requested = Signal()
    share_requested = Signal()
    stats_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bests = QLabel()
        self.bests.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.bests.setWordWrap(True)
        self.consistency = QLabel()
        self.consistency.setWordWrap(True)
        self.consistency.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.gallery = RoundGallery()
        self.review = _table(["Round", "Truth", "You", "AI (confidence)", "Time", "Points", "Lock"])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.gallery, "Pictures")
        self.tabs.addTab(self.review, "Table")
        self.crowd = CrowdGalleries()
        self.tabs.addTab(self.crowd, "People vs AI")
        self.tabs.setTabVisible(self.tabs.indexOf(self.crowd), False)  # online, with enough players, only
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for key, text, signal in (
            ("home", "Home  (Esc)", self.home_requested),
            ("stats", "Your stats", self.stats_requested),
            ("export", "Export proof…", self.export_requested),
            ("share", "Share result", self.share_requested),
            ("again", "Play again  (R)", self.play_again_requested),
        ):
            button = QPushButton(text)
            button.setAutoDefault(True)  # Enter presses the focused button
            button.clicked.connect(signal)
            buttons.addWidget(button)
            self.buttons[key] = button
            if key == "share":
                buttons.addStretch(1)
        self.buttons["again"].setMinimumHeight(40)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.bests)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.consistency)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """R plays again, Esc goes home; Enter presses the focused button (Play again after a session)."""
        if event.key() == Qt.Key.Key_R:
            self.play_again_requested.emit()
        elif event.key() == Qt.Key.Key_Escape:
            self.home_requested.emit()
        else:
            super().keyPressEvent(event)

    def show_session(self, session: GameSession, consistency: str | None) -> None:
        """The verdict, both scores and the margin, the rounds' table; `consistency` None hides that line."""
        self.summary.setText(verdict_html(session))
        self.consistency.setText(consistency or "")
        self.consistency.setVisible(bool(consistency))
        _fill(
            self.review,
            [
                [
                    str(r.number),
                    r.truth,
                    r.player_answer or "—",
                    f"{r.ai.answer} ({r.ai.confidence / 10:.0f}%)",
                    f"{r.elapsed_s:.1f} s",
                    str(r.points),
                    "unchanged ✓" if r.verified else "MISMATCH ✗",
                ]
                for r in session.results
            ],
        )
        self.status.setText("")
        self.bests.setText("")
        self.show_crowd(None, lambda _: b"")
        self.tabs.setCurrentWidget(self.gallery)
        self.buttons["again"].setFocus()

    def show_pictures(self, session: GameSession, read_image: Callable[[str], bytes]) -> None:
        """A thumbnail per round, from the pack's image files."""
        self.gallery.show_rounds(list(session.results), read_image)

    def show_crowd(self, crowd: PackCrowd | None, read_image: Callable[[str], bytes]) -> None:
        """The pack's crowd galleries in their own tab; None (offline, too few players) hides the tab."""
        self.crowd.show_crowd(crowd, read_image)
        self.tabs.setTabVisible(self.tabs.indexOf(self.crowd), self.crowd.is_shown)

    def show_bests(self, text: str) -> None:
        """A line about personal bests ("New personal best!")."""
        self.bests.setText(text)

    def show_status(self, text: str) -> None:
        """A line under the review (where the proof was saved)."""
        self.status.setText(text)


def verdict_html(session: GameSession) -> str:
    """ "You win!" with both scores side by side and the margin in words."""
    played = len(session.results)
    you, ai = session.player_correct, session.ai_correct
    verdict, colour = {
        "player": ("You beat the AI!", GREEN),
        "ai": ("The AI wins this time", RED),
        "draw": ("It's a draw", ORANGE),
    }[session.winner]
    margin = abs(you - ai)
    if margin == 0:
        margin_text = "Level on right answers."
    else:
        margin_text = f"{'You' if you > ai else 'The AI'} got {margin} more right."
    return (
        f"<h1 style='color:{colour}; margin-bottom:0'>{verdict}</h1>"
        f"<p style='font-size:20pt; margin:4px'><b>You {you}</b> : <b>{ai} AI</b>"
        f"<span style='font-size:11pt; color:#555'>  of {played}</span></p>"
        f"<p>{margin_text} You scored <b>{session.player_points} points</b> against "
        f"{html.escape(session.opponent.title)} ({session.opponent.difficulty}).</p>"
    )


class HistoryView(QWidget):
    """Signals:
    home_requested(): back to the home screen.
    """

    home_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<h2>Your history</h2>")
        self.consistency = QLabel()
        self.consistency.setWordWrap(True)
        self.table = _table(["Date", "Pack", "Opponent", "Difficulty", "Mode", "Points", "You", "AI"])
        self.back = QPushButton("Home  (Esc)")
        self.back.setAutoDefault(True)
        self.back.clicked.connect(self.home_requested)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.consistency)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.back, 0, Qt.AlignmentFlag.AlignRight)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.home_requested.emit()
        else:
            super().keyPressEvent(event)

    def show_history(self, rows: list[dict], consistency: str | None, titles: dict[str, str] | None = None) -> None:
        """Past sessions, newest first; `titles` maps model ids to the names shown on the home screen;
        `consistency` None hides that line."""
        titles = titles or {}
        self.consistency.setText(consistency or "")
        self.consistency.setVisible(bool(consistency))
        _fill(
            self.table,
            [
                [
                    row["started"].replace("T", " ")[:16],
                    row["pack_id"],
                    titles.get(row["model_id"], row["model_id"]),
                    row["difficulty"],
                    row["mode"],
                    str(row["player_points"]),
                    f"{row['player_correct']}/{row['rounds_played']}",
                    f"{row['ai_correct']}/{row['rounds_played']}",
                ]
                for row in rows
            ],
        )
