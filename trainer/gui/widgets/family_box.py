"""The family chooser shared by the Train and Tune screens."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox

from classifiers.registry import FamilyInfo, family_label


def fill_family_box(box: QComboBox, families: Iterable[FamilyInfo]) -> None:
    """One item per family (data: its name); a family whose extra is missing is greyed out with the pip command
    that installs it. The first available family is selected."""
    model: QStandardItemModel = box.model()  # type: ignore[assignment]
    first_available = None
    for info in families:
        box.addItem(family_label(info.name), info.name)
        item = model.item(box.count() - 1)
        missing = info.missing_modules()
        if missing:
            item.setEnabled(False)
            item.setToolTip(f"Needs {', '.join(missing)}: pip install 'eyevsai[{info.extra}]'")
        else:
            item.setToolTip(info.title)
            if first_available is None:
                first_available = box.count() - 1
    box.setCurrentIndex(first_available or 0)
