"""The round's image drawn as large as the space allows, with sharp pixels or smooth scaling, and an optional
overlay (where the AI looked) painted over it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

SHARP, SMOOTH = "sharp", "smooth"
OVERLAY_ALPHA = 0.7
HEAT_FLOOR = 0.45  # below this share of the peak a patch did not matter enough to colour


def heat_image(heat: np.ndarray) -> QImage:
    """A float grid (any size; higher = mattered more) as a translucent colour image: clear where the AI did not
    look, through yellow to red where covering the picture changed its mind most."""
    grid = np.asarray(heat, dtype=np.float32)
    span = float(grid.max() - grid.min())
    norm = (grid - grid.min()) / span if span > 1e-9 else np.zeros_like(grid)
    strength = np.clip((norm - HEAT_FLOOR) / (1.0 - HEAT_FLOOR), 0.0, 1.0)  # the cool part stays untouched
    red = np.full_like(norm, 255.0)
    green = 255.0 * np.clip(1.0 - strength, 0.0, 1.0) * 0.85
    blue = np.zeros_like(norm)
    alpha = 255.0 * OVERLAY_ALPHA * np.sqrt(strength)
    argb = np.stack([blue, green, red, alpha], axis=-1).round().astype(np.uint8)  # BGRA bytes = ARGB32 (LE)
    height, width = grid.shape
    image = QImage(np.ascontiguousarray(argb).data, width, height, 4 * width, QImage.Format.Format_ARGB32)
    return image.copy()  # own the pixels: the numpy buffer goes away


class PictureView(QWidget):
    """Paints one image centred and scaled to fit; `scaling` is SHARP (whole-factor nearest neighbour: the
    pixels of a 28 px image stay crisp squares) or SMOOTH."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.scaling = SHARP
        self.source: QPixmap | None = None
        self.overlay: QImage | None = None
        self.message = ""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(420, 420)

    def set_image_bytes(self, data: bytes) -> bool:
        """Show encoded image bytes; False (and a line of text instead) when they cannot be decoded."""
        image = QImage.fromData(data)
        self.overlay = None
        if image.isNull():
            self.source, self.message = None, "This image could not be shown."
            self.update()
            return False
        self.source, self.message = QPixmap.fromImage(image), ""
        self.update()
        return True

    def set_scaling(self, scaling: str) -> None:
        self.scaling = scaling
        self.update()

    def set_overlay(self, overlay: QImage | None) -> None:
        self.overlay = overlay
        self.update()

    def image_rect(self) -> QRectF:
        """Where the image is painted, in widget coordinates."""
        if self.source is None:
            return QRectF()
        ratio = self.devicePixelRatioF()
        src_w, src_h = self.source.width(), self.source.height()
        factor = min(self.width() * ratio / src_w, self.height() * ratio / src_h)
        if self.scaling == SHARP and factor >= 2:
            factor = float(int(factor))
        width, height = src_w * factor / ratio, src_h * factor / ratio
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        if self.source is None:
            painter.setPen(QColor("#666"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            painter.end()
            return
        target = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scaling == SMOOTH)
        painter.drawPixmap(target, self.source, QRectF(self.source.rect()))
        if self.overlay is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self.overlay, QRectF(self.overlay.rect()))
        painter.setPen(QColor("#d0d4da"))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
        painter.end()
