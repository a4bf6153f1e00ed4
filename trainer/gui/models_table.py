"""The Models screen's table: one row of cells per registry run, and the filter over them."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QStandardItem

from classifiers.chance import ADVICE
from classifiers.registry import family_label
from trainer.model_registry import DONE
from trainer.usecases import ModelRow

COLUMNS = (
    "model",
    "pack",
    "family",
    "variant",
    "status",
    "test accuracy",
    "macro F1",
    "difficulty",
    "tuned",
    "finished",
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
ALL = "all"


class ModelFilter(QSortFilterProxyModel):
    """Rows of one pack / family, active ones only if asked, containing a text."""

    def __init__(self) -> None:
        super().__init__()
        self.pack, self.family, self.text, self.only_active = ALL, ALL, "", True
        self.setSortRole(SORT_ROLE)

    def set(self, **values: object) -> None:
        self.beginFilterChange()
        for name, value in values.items():
            setattr(self, name, value)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        row: ModelRow = self.sourceModel().item(source_row, 0).data(ROW_ROLE)
        if self.pack != ALL and row.pack_id != self.pack:
            return False
        if self.family != ALL and row.family != self.family:
            return False
        if self.only_active and row.status != DONE:
            return False
        needle = self.text.strip().lower()
        return not needle or needle in f"{row.id} {row.title} {row.variant}".lower()


def _item(text: str, sort: object, row: ModelRow | None = None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(sort, SORT_ROLE)
    if row is not None:
        item.setData(row, ROW_ROLE)
        item.setToolTip(f"{row.title}\n{row.model_dir or ''}" + (f"\n{row.error}" if row.error else ""))
    return item


def model_cells(row: ModelRow, chosen: bool) -> list[QStandardItem]:
    accuracy = row.test_accuracy if row.test_accuracy is not None else -1.0
    f1 = row.macro_f1 if row.macro_f1 is not None else -1.0
    level = {"easy": 0, "medium": 1, "hard": 2}.get(row.difficulty or "", -1)
    items = [
        _item(row.id, row.id, row),
        _item(row.pack_id, row.pack_id),
        _item(family_label(row.family), row.family),
        _item(row.variant, row.variant),
        _item(row.status, row.status),
        _item("–" if accuracy < 0 else f"{accuracy:.1%}" + (" ⚠ at chance" if row.at_chance else ""), accuracy),
        _item("–" if f1 < 0 else f"{f1:.3f}", f1),
        _item(row.difficulty or "–", level),
        _item("yes" if row.tuned else "", int(row.tuned)),
        _item(row.created, row.created),
    ]
    for item in items[5:7]:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if row.is_playable:  # checked: goes to the game with Publish
        items[0].setCheckable(True)
        items[0].setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)
    if row.at_chance:
        items[5].setForeground(QBrush(QColor("#b35900")))
        items[5].setToolTip(f"Test accuracy at chance: {ADVICE}. Not published unless you confirm it.")
    if row.status != DONE:
        for item in items:
            item.setForeground(QBrush(QColor("#888")))
    return items
