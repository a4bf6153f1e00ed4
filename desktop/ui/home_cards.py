"""The home screen's cards: the chosen pack with a sample picture, the chosen opponent with a line about the model
(family, accuracy, size, where it runs), and the panels that bring a player back (daily challenge, streak and
achievements, last result, how to play, problems)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from classifiers.pack import Pack
from desktop.services.catalog import OpponentEntry

CARD_STYLE = "QFrame#card { background: white; border: 1px solid #d0d4da; border-radius: 10px; }"
FAMILIES = {
    "shallow": "classic machine learning on hand-made features",
    "deep_v1": "a small convolutional network",
    "deep_v2": "a convolutional network with attention",
    "transfer": "a pretrained network, fine-tuned",
}
DIFFICULTY_COLOURS = {"easy": "#2e7d32", "medium": "#ef6c00", "hard": "#c62828"}
SAMPLE_PX = 84


def card_frame() -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    frame.setStyleSheet(CARD_STYLE)
    return frame


def model_size(entry: OpponentEntry) -> str:
    """The ONNX files' size in plain units."""
    total = sum(p.stat().st_size for p in Path(entry.model_dir).glob("*.onnx"))
    return f"{total / 1e6:.1f} MB" if total >= 1e6 else f"{max(1, total // 1000)} kB"


def describe_model(entry: OpponentEntry) -> str:
    """ "a small convolutional network · 89 % on test images · 1.7 MB" """
    card = entry.card
    parts = [FAMILIES.get(card.family, card.family.replace("_", " "))]
    if card.test_accuracy is not None:
        parts.append(f"{card.test_accuracy:.0%} on test images".replace("%", " %"))
    parts.append(model_size(entry))
    return " · ".join(parts)


def sample_pixmap(pack: Pack, size: int = SAMPLE_PX) -> QPixmap | None:
    """The pack's first test picture, scaled with crisp pixels."""
    entries = pack.available("test")
    if not entries:
        return None
    try:
        image = QImage.fromData(pack.read_bytes(entries[0].sha256))
    except Exception:  # noqa: BLE001 - a damaged sample only costs the card its picture
        return None
    if image.isNull():
        return None
    mode = Qt.TransformationMode.FastTransformation
    return QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode))


class ChoiceCards(QWidget):
    """The pack card and the opponent card side by side, following the choice made in the form below them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pack_card, self.opponent_card = card_frame(), card_frame()
        self.sample = QLabel()
        self.sample.setFixedSize(SAMPLE_PX, SAMPLE_PX)
        self.pack_text = QLabel()
        self.pack_text.setWordWrap(True)
        self.opponent_text = QLabel()
        self.opponent_text.setWordWrap(True)
        self.opponent_text.setTextFormat(Qt.TextFormat.RichText)
        pack_row = QHBoxLayout(self.pack_card)
        pack_row.addWidget(self.sample)
        pack_row.addWidget(self.pack_text, 1)
        QVBoxLayout(self.opponent_card).addWidget(self.opponent_text)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.pack_card, 2)
        row.addWidget(self.opponent_card, 3)
        self.runs_on = ""

    def show_pack(self, pack: Pack | None) -> None:
        if pack is None:
            self.pack_text.setText("No playable pack")
            self.sample.clear()
            return
        pixmap = sample_pixmap(pack)
        if pixmap is not None:
            self.sample.setPixmap(pixmap)
        pictures = len(pack.available("test"))
        self.pack_text.setText(
            f"<b style='font-size:12pt'>{html.escape(pack.title)}</b><br>"
            f"{len(pack.classes)} kinds of picture · {pictures} to play"
        )

    def show_opponent(self, entry: OpponentEntry | None) -> None:
        self._entry = entry
        if entry is None:
            self.opponent_text.setText("No opponent for this choice")
            return
        colour = DIFFICULTY_COLOURS.get(entry.difficulty, "#555")
        runs = f"<br><small>runs on: {html.escape(self.runs_on)}</small>" if self.runs_on else ""
        self.opponent_text.setText(
            f"<span style='color:{colour}; font-weight:bold'>{entry.difficulty.upper()}</span> "
            f"<b style='font-size:13pt'>{html.escape(entry.card.title)}</b><br>"
            f"{html.escape(describe_model(entry))}{runs}"
        )

    def show_runs_on(self, text: str) -> None:
        self.runs_on = text
        self.show_opponent(getattr(self, "_entry", None))


class Panel(QFrame):
    """A card with a title line, a body and an optional button."""

    def __init__(self, title: str, button: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setStyleSheet(CARD_STYLE)
        self.title = QLabel(f"<b>{title}</b>")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton(button)
        self.button.setAutoDefault(True)
        self.button.setVisible(bool(button))
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.body)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)


class HowToPlay(Panel):
    """The first-launch "how to play", in three sentences; closed for good by its button."""

    TEXT = (
        "1. A picture appears and the AI locks in its answer — you see a padlock, not the answer.<br>"
        "2. Pick what the picture shows (click or press 1–4) before the time runs out; faster right answers "
        "score more.<br>"
        "3. The padlock opens and you see who was right; beat the AI over the session to win."
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("How to play", "Got it", parent)
        self.body.setText(self.TEXT)
        self.setStyleSheet(CARD_STYLE.replace("white", "#eef5ff"))


class ProblemsBanner(QWidget):
    """A persistent "N problems — details…" line; the details list every problem in a dialog.

    Signals:
        details_requested(): the player wants the list.
    """

    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setStyleSheet("color: #8a4b00;")
        self.details = QPushButton("details…")
        self.details.setAutoDefault(True)
        self.details.clicked.connect(self.details_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text)
        row.addWidget(self.details)
        row.addStretch(1)
        self.problems: list[str] = []
        self.setVisible(False)

    def show_problems(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(problems)
        self.text.setText(f"⚠ {count} problem{'s' if count != 1 else ''} with your packs or models —")
        self.setVisible(bool(problems))
