"""The stats screen over the player's history on a pack: accuracy per class against each opponent's and, online,
the crowd's (every player's ranked rounds on the server), your confusion matrix next to the AI's, and progress over
time."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from desktop.core.stats import PlayerStats
from desktop.ui.charts import PALETTE, ClassBars, MatrixChart, ProgressChart, Series

YOU_COLOUR = "#1e6fd9"
AI_COLOURS = PALETTE[1:]
MAX_OPPONENTS = 3
CROWD_COLOUR = PALETTE[1 + MAX_OPPONENTS]  # never an opponent's
CROWD_NAME = "All players"
LAST_SESSIONS = 30


class StatsView(QWidget):
    """Signals:
    home_requested(): back (Esc).
    """

    home_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("<h2>Your stats</h2>")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.bars = ClassBars()
        self.crowd_note = QLabel()
        self.crowd_note.setWordWrap(True)
        self.crowd_note.setVisible(False)
        self._own_series: list[Series] = []
        self.mine = MatrixChart("You: what you answered", YOU_COLOUR)
        self.theirs = MatrixChart("The AI: what it answered", AI_COLOURS[0])
        self.progress = ProgressChart()
        self.back = QPushButton("Home  (Esc)")
        self.back.setAutoDefault(True)
        self.back.clicked.connect(self.home_requested)
        matrices = QHBoxLayout()
        matrices.addWidget(self.mine)
        matrices.addWidget(self.theirs)
        content = QWidget()
        body = QVBoxLayout(content)
        body.addWidget(self.summary)
        body.addWidget(QLabel("<b>Right answers per kind of picture</b>"))
        body.addWidget(self.bars)
        body.addWidget(self.crowd_note)
        body.addWidget(QLabel("<b>What you mix up</b> (rows: what it was)"))
        body.addLayout(matrices)
        body.addWidget(QLabel("<b>Progress</b> (share of right answers per session)"))
        body.addWidget(self.progress)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.back, 0, Qt.AlignmentFlag.AlignRight)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self.home_requested.emit()
        else:
            super().keyPressEvent(event)

    def show_stats(self, stats: PlayerStats, pack_title: str, titles: dict[str, str]) -> None:
        """`titles` names the opponents by model id."""
        self.title.setText(f"<h2>Your stats — {html.escape(pack_title)}</h2>")
        classes = list(stats.classes)
        if stats.sessions == 0:
            self.summary.setText("Play a session on this pack and your stats appear here.")
        else:
            self.summary.setText(self._summary(stats))
        series = [Series("You", YOU_COLOUR, [_rate(stats.player_accuracy.get(c)) for c in classes])]
        opponents = sorted(stats.ai_accuracy.items(), key=lambda kv: -sum(t.total for t in kv[1].values()))
        for colour, (model_id, tallies) in zip(AI_COLOURS, opponents[:MAX_OPPONENTS], strict=False):
            series.append(Series(titles.get(model_id, model_id), colour, [_rate(tallies.get(c)) for c in classes]))
        self._own_series = series
        self.bars.set_data(classes, series)
        self.crowd_note.setVisible(False)
        self.mine.set_data(classes, stats.player_confusion.counts)
        self.theirs.set_data(classes, stats.ai_confusion.counts)
        recent = stats.progress[-LAST_SESSIONS:]
        self.progress.set_data(
            [
                Series("You", YOU_COLOUR, [p.player_correct / p.rounds if p.rounds else None for p in recent]),
                Series("AI", AI_COLOURS[0], [p.ai_correct / p.rounds if p.rounds else None for p in recent]),
            ]
        )
        self.back.setFocus()

    def show_crowd(self, class_accuracy: dict[str, float] | None, players: int = 0) -> None:
        """Add every player's share of right answers per class (ranked rounds on the server) as a series after
        yours and the AI's; None or empty (offline, too few players) shows none."""
        series = list(self._own_series)
        if class_accuracy:
            series.append(Series(CROWD_NAME, CROWD_COLOUR, [class_accuracy.get(c) for c in self.bars.labels]))
            self.crowd_note.setText(
                f"<small><span style='color:{CROWD_COLOUR}'>■</span> {CROWD_NAME}: the ranked rounds of "
                f"{players} players on the server, on this pack's ranked images.</small>"
            )
        self.crowd_note.setVisible(bool(class_accuracy))
        self.bars.set_data(self.bars.labels, series)

    @staticmethod
    def _summary(stats: PlayerStats) -> str:
        wins = sum(p.winner == "player" for p in stats.progress)
        worst = _most_mixed_up(stats)
        text = f"{stats.sessions} session{'s' if stats.sessions != 1 else ''} played, {wins} won against the AI."
        if worst:
            text += f" You mix up <b>{worst[0]}</b> with <b>{worst[1]}</b> most ({worst[2]:.0%} of the {worst[0]}s)."
        return text


def _rate(tally) -> float | None:  # noqa: ANN001 - a Tally or None
    return tally.rate if tally is not None else None


def _most_mixed_up(stats: PlayerStats) -> tuple[str, str, float] | None:
    """The pair you confuse most (truth, answered, share of that truth's rounds)."""
    best: tuple[str, str, float] | None = None
    confusion = stats.player_confusion
    for i, row in enumerate(confusion.counts):
        total = sum(row) + confusion.no_answer[i]
        for j, count in enumerate(row):
            if i != j and count and total and (best is None or count / total > best[2]):
                best = (confusion.classes[i], confusion.classes[j], count / total)
    return best
