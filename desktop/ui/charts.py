"""Charts drawn with QPainter (the game adds no plotting dependency): accuracy per class as grouped bars, a
confusion matrix as a shaded grid, and progress over sessions as lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#1e6fd9", "#c62828", "#ef6c00", "#6a1b9a", "#00897b")
AXIS = QColor("#777")


@dataclass(frozen=True)
class Series:
    """One named set of values (None: no data for that point)."""

    name: str
    colour: str
    values: Sequence[float | None]


def _legend(painter: QPainter, series: Sequence[Series], x: float, y: float) -> None:
    for item in series:
        painter.fillRect(QRectF(x, y + 3, 10, 10), QColor(item.colour))
        painter.setPen(QColor("#333"))
        painter.drawText(QPointF(x + 14, y + 12), item.name)
        x += 24 + painter.fontMetrics().horizontalAdvance(item.name)


class ClassBars(QWidget):
    """Per class, one horizontal bar per series (accuracy 0..1)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.series: list[Series] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_data(self, labels: Sequence[str], series: Sequence[Series]) -> None:
        self.labels, self.series = list(labels), list(series)
        self.setMinimumHeight(self._height())
        self.updateGeometry()
        self.update()

    def _row(self) -> int:
        return max(16, 7 * max(1, len(self.series)) + 6)

    def _height(self) -> int:
        return 30 + len(self.labels) * self._row()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(420, self._height())

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        left = 8 + max((metrics.horizontalAdvance(label) for label in self.labels), default=0)
        width = max(10, self.width() - left - 56)
        _legend(painter, self.series, left, 0)
        row = self._row()
        bar = max(4, (row - 6) // max(1, len(self.series)))
        for i, label in enumerate(self.labels):
            top = 24 + i * row
            painter.setPen(QColor("#333"))
            painter.drawText(
                QRectF(0, top, left - 6, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label
            )
            for j, item in enumerate(self.series):
                value = item.values[i] if i < len(item.values) else None
                y = top + 3 + j * bar
                painter.fillRect(QRectF(left, y, width, bar - 1), QColor("#eef0f3"))
                if value is not None:
                    painter.fillRect(QRectF(left, y, width * value, bar - 1), QColor(item.colour))
            first = self.series[0].values[i] if self.series and i < len(self.series[0].values) else None
            if first is not None:  # the first series (you) in numbers; the bars compare
                painter.setPen(QColor(self.series[0].colour))
                painter.drawText(QRectF(left + width + 4, top, 52, row), Qt.AlignmentFlag.AlignVCenter, f"{first:.0%}")
        painter.end()


class MatrixChart(QWidget):
    """A confusion matrix: rows the truth, columns the answer; shade by the row's share, counts written in."""

    def __init__(self, title: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title, self.colour = title, QColor(colour)
        self.labels: list[str] = []
        self.counts: list[list[int]] = []
        self.setMinimumSize(260, 260)

    def set_data(self, labels: Sequence[str], counts: Sequence[Sequence[int]]) -> None:
        self.labels, self.counts = list(labels), [list(row) for row in counts]
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(340, 340)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        painter.setPen(QColor("#222"))
        painter.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignmentFlag.AlignCenter, self.title)
        n = len(self.labels)
        if n == 0:
            painter.end()
            return
        left = 6 + max(metrics.horizontalAdvance(label) for label in self.labels)
        size = max(4.0, min((self.width() - left - 4) / n, (self.height() - 44) / n))
        for i, row in enumerate(self.counts):
            total = sum(row) or 1
            y = 24 + i * size
            painter.setPen(QColor("#333"))
            painter.drawText(
                QRectF(0, y, left - 4, size),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                self.labels[i],
            )
            for j, count in enumerate(row):
                share = count / total
                colour = QColor(self.colour if i == j else "#c62828")
                colour.setAlphaF(0.08 + 0.85 * share if count else 0.04)
                cell = QRectF(left + j * size, y, size - 1, size - 1)
                painter.fillRect(cell, colour)
                if count and size >= 14:
                    painter.setPen(QColor("white" if share > 0.55 else "#222"))
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(count))
        painter.setPen(AXIS)
        painter.drawText(
            QRectF(left, 26 + n * size, n * size, 18), Qt.AlignmentFlag.AlignCenter, "answered → (same order as rows)"
        )
        painter.end()


class ProgressChart(QWidget):
    """Lines over sessions, oldest left: each series a share 0..1 per session."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: list[Series] = []
        self.setMinimumHeight(180)

    def set_data(self, series: Sequence[Series]) -> None:
        self.series = list(series)
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(420, 200)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _legend(painter, self.series, 40, 0)
        plot = QRectF(36, 22, self.width() - 46, self.height() - 42)
        painter.setPen(QPen(QColor("#e0e3e8"), 1))
        for k in range(5):
            y = plot.bottom() - plot.height() * k / 4
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(AXIS)
            painter.drawText(QRectF(0, y - 8, 32, 16), Qt.AlignmentFlag.AlignRight, f"{k * 25}%")
            painter.setPen(QPen(QColor("#e0e3e8"), 1))
        count = max((len(s.values) for s in self.series), default=0)
        painter.setPen(AXIS)
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 2, plot.width(), 18),
            Qt.AlignmentFlag.AlignCenter,
            f"your last {count} session{'s' if count != 1 else ''}, oldest first" if count else "no sessions yet",
        )
        for item in self.series:
            points = [
                QPointF(
                    plot.left() + plot.width() * (i / max(1, count - 1) if count > 1 else 0.5),
                    plot.bottom() - plot.height() * v,
                )
                for i, v in enumerate(item.values)
                if v is not None
            ]
            path = QPainterPath()
            for k, point in enumerate(points):
                path.moveTo(point) if k == 0 else path.lineTo(point)
            painter.setPen(QPen(QColor(item.colour), 2.2))
            painter.drawPath(path)
            painter.setBrush(QColor(item.colour))
            for point in points:
                painter.drawEllipse(point, 3, 3)
        painter.end()
