"""pyqtgraph plots: live training curves with phase markers, horizontal bar charts and a tuning history."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QStackedWidget, QWidget

from trainer.curves import TrainingCurves

TRAIN_PEN = pg.mkPen("#1f77b4", width=2)
VAL_PEN = pg.mkPen("#ff7f0e", width=2)
LR_PEN = pg.mkPen("#2ca02c", width=2)
PHASE_PEN = pg.mkPen("#7f7f7f", width=1, style=Qt.PenStyle.DashLine)
BAR_BRUSH = pg.mkBrush("#4c78a8")

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


def _plot(title: str, left: str) -> pg.PlotWidget:
    widget = pg.PlotWidget()
    widget.setTitle(title, size="10pt")
    widget.setLabel("left", left)
    widget.setLabel("bottom", "epoch")
    widget.showGrid(x=True, y=True, alpha=0.2)
    widget.setMenuEnabled(False)
    widget.setMinimumHeight(150)
    widget.getAxis("left").enableAutoSIPrefix(False)  # 0.002, not "2 (x0.001)"
    return widget


def _points(xs: list[float], ys: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """The finite (x, y) pairs (an epoch without validation reports NaN)."""
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    keep = np.isfinite(y)
    return x[keep], y[keep]


class CurvesView(QWidget):
    """Loss, accuracy (train and validation) and learning rate per epoch, with dashed phase markers."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        placeholder: str = "Curves appear after the first epoch.",
    ) -> None:
        super().__init__(parent)
        self.loss = _plot("Loss", "cross entropy")
        self.accuracy = _plot("Accuracy", "fraction correct")
        self.accuracy.setYRange(0, 1)
        self.lr = _plot("Learning rate", "lr")
        self.loss.addLegend(offset=(-8, 8))
        self.accuracy.addLegend(offset=(-8, -8))
        self.lines = {
            "loss": self.loss.plot([], [], pen=TRAIN_PEN, name="train", symbol="o", symbolSize=5),
            "val_loss": self.loss.plot([], [], pen=VAL_PEN, name="validation", symbol="o", symbolSize=5),
            "accuracy": self.accuracy.plot([], [], pen=TRAIN_PEN, name="train", symbol="o", symbolSize=5),
            "val_accuracy": self.accuracy.plot([], [], pen=VAL_PEN, name="validation", symbol="o", symbolSize=5),
            "lr": self.lr.plot([], [], pen=LR_PEN, symbol="o", symbolSize=4),
        }
        self._markers: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []
        grid = QWidget()
        layout = QGridLayout(grid)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss, 0, 0)
        layout.addWidget(self.accuracy, 0, 1)
        layout.addWidget(self.lr, 1, 0, 1, 2)
        layout.setRowStretch(0, 3)
        layout.setRowStretch(1, 2)
        self.placeholder = QLabel(placeholder)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: #666; font-size: 13px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(grid)
        outer = QGridLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)

    @property
    def shows_plots(self) -> bool:
        return self.stack.currentIndex() == 1

    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.stack.setCurrentIndex(0)

    def clear(self, placeholder: str | None = None) -> None:
        for line in self.lines.values():
            line.setData([], [])
        self._remove_markers()
        if placeholder:
            self.placeholder.setText(placeholder)
        self.stack.setCurrentIndex(0)

    def show_curves(self, curves: TrainingCurves) -> None:
        """Redraw every series and phase marker from `curves`."""
        if not curves.has_epochs():
            return
        self.stack.setCurrentIndex(1)
        spacing = max(1, math.ceil(len(curves.epochs) / 10))  # whole epochs only, about ten ticks
        for plot in (self.loss, self.accuracy, self.lr):
            plot.getAxis("bottom").setTickSpacing(spacing, spacing)
        for name, line in self.lines.items():
            line.setData(*_points(curves.epochs, curves.series[name]))
        losses = [v for key in ("loss", "val_loss") for v in curves.series[key] if math.isfinite(v)]
        if losses:
            self.loss.setYRange(0, max(losses) * 1.05 or 1, padding=0)
        self._draw_markers(curves)

    def _draw_markers(self, curves: TrainingCurves) -> None:
        if len(self._markers) == 3 * len(curves.phases):
            return
        self._remove_markers()
        for phase in curves.phases:
            for plot in (self.loss, self.accuracy, self.lr):
                line = pg.InfiniteLine(
                    pos=phase.x,
                    angle=90,
                    pen=PHASE_PEN,
                    label=phase.label,
                    labelOpts={"position": 0.9, "color": "#555", "rotateAxis": (1, 0)},
                )
                plot.addItem(line)
                self._markers.append((plot, line))

    def _remove_markers(self) -> None:
        for plot, line in self._markers:
            plot.removeItem(line)
        self._markers.clear()

    def marker_labels(self) -> list[str]:
        return [line.label.format for _, line in self._markers[::3]]


class BarChart(pg.PlotWidget):
    """Horizontal bars with category names on the y axis (per-class accuracy, parameter importances)."""

    def __init__(
        self, title: str, value_label: str, *, x_range: tuple[float, float] | None = (0, 1), percent: bool = True
    ) -> None:
        super().__init__()
        self.setTitle(title, size="10pt")
        self.setLabel("bottom", value_label)
        self.showGrid(x=True, alpha=0.2)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self._x_range = x_range
        self._percent = percent
        self.getAxis("bottom").enableAutoSIPrefix(False)
        self._bars: pg.BarGraphItem | None = None
        self._texts: list[pg.TextItem] = []
        self.values: dict[str, float] = {}

    def set_values(self, values: dict[str, float]) -> None:
        """Bars top to bottom in the given order."""
        self.values = dict(values)
        if self._bars is not None:
            self.removeItem(self._bars)
        for text in self._texts:
            self.removeItem(text)
        self._texts.clear()
        names = list(values)
        ys = np.arange(len(names))[::-1].astype(float)
        widths = np.array([values[n] for n in names], float)
        self._bars = pg.BarGraphItem(x0=0, y=ys, height=0.7, width=widths, brush=BAR_BRUSH, pen=None)
        self.addItem(self._bars)
        for y, value in zip(ys, widths, strict=True):
            text = pg.TextItem(f"{value:.0%}" if self._percent else f"{value:.2f}", color="#222", anchor=(0, 0.5))
            text.setPos(value, y)
            self.addItem(text)
            self._texts.append(text)
        self.getAxis("left").setTicks([[(y, name) for name, y in zip(names, ys, strict=True)]])
        top = max(widths.max() if len(widths) else 1.0, 1e-9)
        low, high = self._x_range or (0, top)
        self.setXRange(low, high + 0.12 * (high - low), padding=0)  # room for the value labels
        self.setYRange(-0.6, max(len(names) - 0.4, 0.6), padding=0)


class TrialHistoryPlot(pg.PlotWidget):
    """Each finished trial's objective (dots; pruned and failed trials leave gaps) and the best so far (line)."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Trials", size="10pt")
        self.setLabel("bottom", "trial")
        self.setLabel("left", "validation accuracy")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(x=True, y=True, alpha=0.2)
        self.setMenuEnabled(False)
        self.addLegend(offset=(-8, -8))
        self.dots = self.plot([], [], pen=None, symbol="o", symbolSize=7, symbolBrush="#4c78a8", name="trial")
        self.best_line = self.plot([], [], pen=VAL_PEN, name="best so far", stepMode=None)

    def set_trials(self, numbers: list[int], values: list[float | None]) -> None:
        xs = np.array([n for n, v in zip(numbers, values, strict=True) if v is not None], float)
        ys = np.array([v for v in values if v is not None], float)
        self.dots.setData(xs, ys)
        spacing = max(1, math.ceil((max(numbers, default=0) + 1) / 10))  # whole trial numbers
        self.getAxis("bottom").setTickSpacing(spacing, spacing)
        self.best_line.setData(xs, np.maximum.accumulate(ys) if len(ys) else ys)
        if len(ys):
            low = float(ys.min())
            self.setYRange(max(0.0, low - 0.05), min(1.0, float(ys.max()) + 0.05) + 0.01, padding=0)
