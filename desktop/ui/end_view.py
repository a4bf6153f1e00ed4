"""The end screen (scores, winner, per-round review, proof export) and the history screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.session import GameSession


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
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
    play_again_requested(): same choices, new session.
    home_requested(): back to the home screen.
    export_requested(): save the proof file.
    """

    play_again_requested = Signal()
    home_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.review = _table(["Round", "Truth", "You", "AI (confidence)", "Time", "Points", "Commitment"])
        self.status = QLabel()
        buttons = QHBoxLayout()
        for text, signal in (
            ("Home", self.home_requested),
            ("Export proof…", self.export_requested),
            ("Play again", self.play_again_requested),
        ):
            button = QPushButton(text)
            button.clicked.connect(signal)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.review, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def show_session(self, session: GameSession, consistency: str) -> None:
        played = len(session.results)
        verdict = {"player": "You win! 🎉", "ai": "The AI wins.", "draw": "It's a draw."}[session.winner]

        def pct(who: str) -> str:
            accuracy = session.accuracy(who)
            return "-" if accuracy is None else f"{accuracy:.0%}"

        self.summary.setText(
            f"<h2>{verdict}</h2>"
            f"<p>You: <b>{session.player_points} points</b>, {session.player_correct}/{played} right "
            f"({pct('player')}) · {session.opponent.title}: {session.ai_correct}/{played} right ({pct('ai')})</p>"
            f"<p><small>Session commitment <code>{session.session_commitment}</code></small></p>"
            f"<p>{consistency}</p>"
        )
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
                    "verified ✓" if r.verified else "MISMATCH ✗",
                ]
                for r in session.results
            ],
        )
        self.status.setText("")

    def show_status(self, text: str) -> None:
        """A line under the review (where the proof was saved)."""
        self.status.setText(text)


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
        back = QPushButton("Home")
        back.clicked.connect(self.home_requested)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.consistency)
        layout.addWidget(self.table, 1)
        layout.addWidget(back, 0, Qt.AlignmentFlag.AlignRight)

    def show_history(self, rows: list[dict], consistency: str, titles: dict[str, str] | None = None) -> None:
        """Past sessions, newest first; `titles` maps model ids to the names shown on the home screen."""
        titles = titles or {}
        self.consistency.setText(consistency)
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
