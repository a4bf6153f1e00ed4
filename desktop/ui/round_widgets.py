"""The round screen's lively parts: a timer bar that turns orange then red, the you-vs-AI strip of round results,
the points pop-up over the image and the padlock that stands for the AI's commitment (drawn, not an emoji: the
game cannot count on an emoji font)."""

from __future__ import annotations

from PySide6.QtCore import (
    QEasingCurve,
    QParallelAnimationGroup,
    QPoint,
    QPropertyAnimation,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

GREEN, RED, GREY, BLUE, ORANGE = "#2e7d32", "#c62828", "#9e9e9e", "#1e6fd9", "#ef6c00"


def urgency_colour(fraction_left: float) -> str:
    """Blue while there is time, orange under half, red in the last quarter."""
    if fraction_left <= 0.25:
        return RED
    return ORANGE if fraction_left <= 0.5 else BLUE


class TimerBar(QWidget):
    """A slim countdown bar with the seconds beside it (never across the bar's edge)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(12)
        self.text = QLabel("")
        self.text.setMinimumWidth(70)
        self.text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._colour = ""
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.text)
        self._paint(BLUE)

    def show_time(self, remaining_s: float, total_s: float) -> None:
        left = max(0.0, remaining_s)
        self.bar.setMaximum(max(1, int(total_s * 10)))
        self.bar.setValue(int(left * 10))
        self.text.setText(f"{left:.1f} s")
        self._paint(urgency_colour(left / total_s if total_s > 0 else 0.0))

    @property
    def colour(self) -> str:
        return self._colour

    def _paint(self, colour: str) -> None:
        if colour == self._colour:
            return
        self._colour = colour
        self.bar.setStyleSheet(
            "QProgressBar { border: none; border-radius: 6px; background: #e3e6ea; }"
            f"QProgressBar::chunk {{ border-radius: 6px; background: {colour}; }}"
        )
        self.text.setStyleSheet(f"color: {colour}; font-weight: bold;")


class ResultStrip(QWidget):
    """Two rows of dots, you and the AI, one column per round: green right, red wrong, grey still to play."""

    CELL = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: list[tuple[bool, bool]] = []
        self.total: int | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(2 * self.CELL + 6)

    def reset(self, total: int | None) -> None:
        """`total` rounds to come (None: blitz, as many as fit)."""
        self.results, self.total = [], total
        self.update()

    def add(self, player_correct: bool, ai_correct: bool) -> None:
        self.results.append((player_correct, ai_correct))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(300, 2 * self.CELL + 6)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_w = 34
        painter.setPen(QColor("#555"))
        for row, name in enumerate(("You", "AI")):
            painter.drawText(QRectF(0, row * (self.CELL + 4), label_w, self.CELL), Qt.AlignmentFlag.AlignVCenter, name)
        columns = max(len(self.results), self.total or 0)
        available = max(1, (self.width() - label_w) // self.CELL)
        shown = self.results[-available:] if len(self.results) > available else self.results
        for col in range(min(columns, available)):
            pair = shown[col] if col < len(shown) else None
            for row in range(2):
                colour = GREY if pair is None else (GREEN if pair[row] else RED)
                x, y = label_w + col * self.CELL + 3, row * (self.CELL + 4) + 3
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(colour) if pair is not None else QColor("#e0e0e0"))
                painter.drawEllipse(QRectF(x, y, self.CELL - 6, self.CELL - 6))
        painter.end()


class PointsPopup(QLabel):
    """Floats up and fades over its parent (the image): "+14", "miss", "Fooled the AI!"."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        self.setFont(font)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._fade = QGraphicsOpacityEffect(self)
        self.setGraphicsEffect(self._fade)
        self._group: QParallelAnimationGroup | None = None
        self.hide()

    def pop(self, text: str, colour: str) -> None:
        self.setText(text)
        self.setStyleSheet(
            f"color: {colour}; background: rgba(255,255,255,215); border-radius: 10px; padding: 4px 12px;"
        )
        self.adjustSize()
        parent = self.parentWidget()
        start = QPoint((parent.width() - self.width()) // 2, parent.height() // 2 - self.height() // 2)
        self.move(start)
        self.show()
        self.raise_()
        rise = QPropertyAnimation(self, b"pos", self)
        rise.setDuration(900)
        rise.setStartValue(start)
        rise.setEndValue(start - QPoint(0, parent.height() // 5))
        rise.setEasingCurve(QEasingCurve.Type.OutCubic)
        fade = QPropertyAnimation(self._fade, b"opacity", self)
        fade.setDuration(900)
        fade.setKeyValues([(0.0, 1.0), (0.6, 1.0), (1.0, 0.0)])
        self._group = QParallelAnimationGroup(self)
        self._group.addAnimation(rise)
        self._group.addAnimation(fade)
        self._group.finished.connect(self.hide)
        self._group.start()


class PadlockIcon(QWidget):
    """A padlock drawn with QPainter: closed (grey-blue) while the AI's answer is locked, open (green) once the
    reveal matched the lock, open and red on a mismatch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.is_open = False
        self.colour = "#546e7a"
        self.setFixedSize(26, 36)

    def set_state(self, is_open: bool, colour: str) -> None:
        self.is_open, self.colour = is_open, colour
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(0, 6)  # headroom for the raised shackle of the open lock
        colour = QColor(self.colour)
        painter.setPen(QPen(colour, 3.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        shackle = QPainterPath()
        lift = 6 if self.is_open else 0
        shackle.moveTo(7, 15)
        shackle.lineTo(7, 9 - lift)
        shackle.arcTo(QRectF(7, 3 - lift, 12, 12), 180, -180)
        shackle.lineTo(19, 15 - (0 if not self.is_open else 4))
        painter.drawPath(shackle)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(QRectF(3, 14, 20, 15), 3, 3)
        painter.setBrush(QColor("white"))
        painter.drawEllipse(QRectF(11, 18.5, 4, 4))
        painter.drawRect(QRectF(12.2, 21, 1.6, 4))
        painter.end()


class Padlock(QWidget):
    """The AI's commitment as a padlock with one line of plain words; the hashes behind a "details" toggle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon = PadlockIcon()
        self.line = QLabel()
        self.toggle = QToolButton()
        self.toggle.setText("details")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolTip("Show the hashes that prove the AI could not change its answer (D)")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setVisible(False)
        self.toggle.toggled.connect(self.details.setVisible)
        self.copy = QToolButton()
        self.copy.setText("copy hash")
        self.copy.setAutoRaise(True)
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.full_hash))
        self.copy.setVisible(False)
        self.toggle.toggled.connect(self.copy.setVisible)
        self.full_hash = ""
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.icon)
        top.addWidget(self.line, 1)
        top.addWidget(self.copy)
        top.addWidget(self.toggle)
        grid = QVBoxLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        grid.addLayout(top)
        grid.addWidget(self.details)

    def add_detail(self, widget: QWidget) -> None:
        """Another line behind the "details" toggle."""
        self.layout().addWidget(widget)
        widget.setVisible(self.toggle.isChecked())
        self.toggle.toggled.connect(widget.setVisible)

    def show_locked(self, commitment: str) -> None:
        self.full_hash = commitment
        self.icon.set_state(False, "#546e7a")
        self.line.setText("The AI has <b>locked in</b> its answer before you see the options.")

    def show_opened(self, verified: bool) -> None:
        if verified:
            self.icon.set_state(True, GREEN)
            self.line.setText(f"<span style='color:{GREEN}'>Lock opened: the AI's answer was unchanged ✓</span>")
        else:
            self.icon.set_state(True, RED)
            self.line.setText(f"<span style='color:{RED}'><b>The AI's answer does not match its lock ✗</b></span>")

    def set_details(self, html_text: str) -> None:
        self.details.setText(html_text)
