"""The share card: the result text (copied to the clipboard) and a PNG of it drawn with QPainter, shown in a
dialog where the player can save or copy the picture."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.history import SessionRecap
from desktop.ui.round_widgets import GREEN, RED

CARD_W, CARD_H = 640, 340
CELL = 36


def render_card(recap: SessionRecap, title: str, subtitle: str) -> QImage:
    """The result as a picture: title, score, and a row of squares each for you and the AI."""
    image = QImage(CARD_W, CARD_H, QImage.Format.Format_ARGB32)
    image.fill(QColor("#0f1b2d"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = QFont("DejaVu Sans")
    font.setPixelSize(30)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(24, 18, CARD_W - 48, 40), Qt.AlignmentFlag.AlignLeft, title)
    font.setPixelSize(17)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor("#b8c4d6"))
    painter.drawText(QRectF(24, 62, CARD_W - 48, 26), Qt.AlignmentFlag.AlignLeft, subtitle)
    rounds = recap.rounds
    cell = min(CELL, (CARD_W - 120) // max(1, len(rounds)))
    for row, (name, who) in enumerate((("You", "player"), ("AI", "ai"))):
        y = 112 + row * (cell + 18)
        painter.setPen(QColor("white"))
        painter.drawText(QRectF(24, y, 60, cell), Qt.AlignmentFlag.AlignVCenter, name)
        for i, r in enumerate(rounds):
            right = r.player_correct if who == "player" else r.ai_correct
            timed_out = who == "player" and r.player_answer is None
            colour = QColor("#3b4658") if timed_out else QColor(GREEN if right else RED)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(84 + i * (cell + 4), y, cell, cell), 6, 6)
    font.setPixelSize(40)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    score = f"You {recap.player_correct} : {recap.ai_correct} AI"
    painter.drawText(QRectF(24, 220, CARD_W - 48, 56), Qt.AlignmentFlag.AlignLeft, score)
    font.setPixelSize(15)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor("#8fa3bf"))
    painter.drawText(
        QRectF(24, CARD_H - 40, CARD_W - 48, 24),
        Qt.AlignmentFlag.AlignLeft,
        f"{recap.player_points} pts · Eye vs AI — can you beat the machine?",
    )
    painter.end()
    return image


class ShareDialog(QDialog):
    """Shows the card; the text is already on the clipboard. Save the PNG or copy the picture."""

    def __init__(self, image: QImage, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Share your result")
        self.image, self.text = image, text
        picture = QLabel()
        picture.setPixmap(QPixmap.fromImage(image))
        note = QLabel("Your result, with a coloured square per round, is on your clipboard: paste it anywhere.")
        self.save = QPushButton("Save picture…")
        self.copy = QPushButton("Copy picture")
        self.save.clicked.connect(self._save)
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setImage(self.image))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(picture)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _save(self) -> None:
        default = str(Path.home() / "eyevsai-result.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save picture", default, "PNG image (*.png)")
        if path:
            self.image.save(path, "PNG")
