"""The end screen's pictures: a thumbnail per round marked "fooled the AI" / "fooled you" / "fooled both", and a
dialog that shows one round large (click or Enter on a thumbnail)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.session import RoundResult
from desktop.ui.picture import PictureView
from desktop.ui.round_widgets import GREEN, ORANGE, RED

THUMB = 84
COLUMNS = 5


def verdict_of(result: RoundResult) -> tuple[str, str]:
    """The round's tag and colour for the review; empty where both of you were right."""
    if result.player_correct and not result.ai_correct:
        return "fooled the AI", GREEN
    if result.ai_correct and not result.player_correct:
        return "fooled you", RED
    if not result.ai_correct and not result.player_correct:
        return "fooled both", ORANGE
    return "", ""


def thumbnail(data: bytes, size: int = THUMB) -> QPixmap:
    image = QImage.fromData(data)
    if image.isNull():
        blank = QPixmap(size, size)
        blank.fill(Qt.GlobalColor.lightGray)
        return blank
    sharp = image.width() * 2 <= size  # small pictures stay crisp squares, like on the round screen
    mode = Qt.TransformationMode.FastTransformation if sharp else Qt.TransformationMode.SmoothTransformation
    return QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode))


class RoundCard(QToolButton):
    """One round: thumbnail, truth and the tag; coloured frame where someone was fooled."""

    def __init__(self, result: RoundResult, data: bytes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result, self.data = result, data
        tag, colour = verdict_of(result)
        you = "✓" if result.player_correct else "✗"
        ai = "✓" if result.ai_correct else "✗"
        self.setIcon(QIcon(thumbnail(data)))
        self.setIconSize(QSize(THUMB, THUMB))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setText(f"{result.number}. {result.truth}\nyou {you}  AI {ai}" + (f"\n{tag}" if tag else "\n"))
        border = f"3px solid {colour}" if colour else "1px solid #d0d4da"
        background = "#ffffff" if not colour else {GREEN: "#e8f5e9", RED: "#ffebee", ORANGE: "#fff3e0"}[colour]
        self.setStyleSheet(
            f"QToolButton {{ border: {border}; border-radius: 8px; background: {background}; padding: 4px; }}"
            "QToolButton:focus { outline: none; border: 3px solid #1e6fd9; }"
        )
        self.setMinimumWidth(THUMB + 40)
        self.setToolTip("Click or press Enter to see this round large")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()
        else:
            super().keyPressEvent(event)


class RoundDialog(QDialog):
    """One round large: the picture, the truth, both answers with the AI's confidence."""

    def __init__(self, result: RoundResult, data: bytes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Round {result.number}")
        picture = PictureView()
        picture.set_image_bytes(data)
        tag, colour = verdict_of(result)
        you = result.player_answer or "no answer (time ran out)"
        text = QLabel(
            f"<h3>Round {result.number}: a {result.truth}</h3>"
            f"<p>You: <b>{you}</b> {'✓' if result.player_correct else '✗'} in {result.elapsed_s:.1f} s, "
            f"+{result.points} pts<br>AI: <b>{result.ai.answer}</b> {'✓' if result.ai_correct else '✗'} "
            f"({result.ai.confidence / 10:.0f} % sure)</p>"
            + (f"<p style='color:{colour}'><b>This one {tag}.</b></p>" if tag else "")
        )
        text.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(picture, 1)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.resize(460, 560)


class RoundGallery(QScrollArea):
    """Every round of a session as a card; `read_image(sha256)` gives the bytes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.cards: list[RoundCard] = []
        self.dialog: RoundDialog | None = None

    def show_rounds(self, results: list[RoundResult], read_image: Callable[[str], bytes]) -> None:
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setSpacing(8)
        self.cards = []
        for i, result in enumerate(results):
            card = RoundCard(result, read_image(result.image))
            card.clicked.connect(lambda _=False, c=card: self.enlarge(c))
            grid.addWidget(card, i // COLUMNS, i % COLUMNS)
            self.cards.append(card)
        grid.setRowStretch(len(results) // COLUMNS + 1, 1)
        self.setWidget(inner)

    def enlarge(self, card: RoundCard) -> None:
        self.dialog = RoundDialog(card.result, card.data, self)
        self.dialog.open()
