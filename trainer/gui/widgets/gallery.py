"""A grid of image thumbnails with captions (pack samples, misclassified test images)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

THUMB = 84


def to_qimage(rgb: np.ndarray) -> QImage:
    """A deep copy of an RGB uint8 (H, W, 3) array as a QImage (safe to keep after the array is gone)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim == 2:
        rgb = np.ascontiguousarray(np.repeat(rgb[:, :, None], 3, axis=2))
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


@dataclass(frozen=True)
class Tile:
    """One gallery entry: a thumbnail (RGB uint8), a short caption and a longer tooltip."""

    image: np.ndarray
    caption: str
    tooltip: str = ""


class ImageGallery(QListWidget):
    """Read-only icon grid; `set_tiles` replaces its content."""

    def __init__(self, parent: QWidget | None = None, *, thumb: int = THUMB, caption_lines: int = 2) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setSpacing(4)
        self.setIconSize(QSize(thumb, thumb))
        self.setGridSize(QSize(thumb + 44, thumb + 18 * caption_lines + 10))
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self._thumb = thumb

    def set_tiles(self, tiles: list[Tile]) -> None:
        self.clear()
        for tile in tiles:
            pixmap = QPixmap.fromImage(to_qimage(tile.image)).scaled(
                self._thumb, self._thumb, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
            item = QListWidgetItem(QIcon(pixmap), tile.caption)
            item.setToolTip(tile.tooltip or tile.caption)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.addItem(item)

    def captions(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
