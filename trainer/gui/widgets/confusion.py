"""The confusion matrix as a clickable table: rows are true classes, columns predicted classes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

CORRECT_RGB = (44, 160, 44)
WRONG_RGB = (214, 39, 40)


def cell_colour(count: int, row_total: int, *, is_diagonal: bool) -> QColor:
    """Green on the diagonal, red off it, stronger for a larger share of the true class's images."""
    share = count / row_total if row_total else 0.0
    red, green, blue = CORRECT_RGB if is_diagonal else WRONG_RGB
    alpha = 0 if count == 0 else int(40 + 200 * share)
    return QColor(red, green, blue, alpha)


class ConfusionMatrixView(QTableWidget):
    """Counts with row-normalised colours; clicking a cell emits which (true, predicted) pair it is.

    Signals:
        cell_chosen(int, int): the true class index and the predicted class index of the clicked cell.
    """

    cell_chosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setMinimumSectionSize(36)
        self.setToolTip("Rows: true class. Columns: predicted class. Click a cell to see its images.")
        self.cellClicked.connect(self._on_cell_clicked)
        self.classes: list[str] = []

    def set_matrix(self, classes: list[str], matrix: list[list[int]] | np.ndarray) -> None:
        matrix = np.asarray(matrix, dtype=np.int64)
        self.classes = list(classes)
        self.clear()
        self.setRowCount(len(classes))
        self.setColumnCount(len(classes))
        self.setHorizontalHeaderLabels([_header(c) for c in classes])
        self.setVerticalHeaderLabels(classes)
        for i, name in enumerate(classes):
            self.horizontalHeaderItem(i).setToolTip(f"predicted {name}")
            self.verticalHeaderItem(i).setToolTip(f"true {name}")
        totals = matrix.sum(1) if matrix.size else np.zeros(len(classes), np.int64)
        for i in range(len(classes)):
            for j in range(len(classes)):
                count = int(matrix[i, j]) if matrix.size else 0
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(cell_colour(count, int(totals[i]), is_diagonal=i == j)))
                share = count / totals[i] if totals[i] else 0.0
                item.setToolTip(
                    f"true {classes[i]}, predicted {classes[j]}: {count} image(s), {share:.0%} of {classes[i]}"
                )
                self.setItem(i, j, item)

    def count(self, truth: int, predicted: int) -> int:
        item = self.item(truth, predicted)
        return int(item.text()) if item else 0

    def _on_cell_clicked(self, row: int, column: int) -> None:
        self.cell_chosen.emit(row, column)


def _header(name: str, limit: int = 9) -> str:
    """A column title that fits a narrow column: words on their own lines, long words cut with an ellipsis."""
    return "\n".join(word if len(word) <= limit else word[: limit - 1] + "…" for word in name.split())
