"""One pack of the server's catalog on the "Get more packs" screen: title, licence, sample pictures, its opponents,
and what can be done with it (download, resume, cancel, remove), with a progress bar while it downloads."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.services.downloads import DownloadProgress, human_size
from desktop.ui.home_cards import DIFFICULTY_COLOURS, card_frame

THUMB_PX = 64


def _opponents_line(models: list[dict[str, Any]]) -> str:
    parts = []
    for model in models:
        accuracy = model.get("test_accuracy")
        level = model.get("difficulty")
        colour = DIFFICULTY_COLOURS.get(level or "", "#555")
        tail = f" {accuracy:.0%}" if isinstance(accuracy, int | float) else ""
        parts.append(
            f"{html.escape(str(model.get('title') or model.get('id')))}"
            f"{f' <span style=color:{colour}>({level}{tail})</span>' if level else tail}"
        )
    return "AI opponents: " + (", ".join(parts) if parts else "none")


class PackRow(QWidget):
    """Signals:
    download_requested(str): download (or resume) this pack.
    cancel_requested(str): stop its download (what arrived is kept).
    remove_requested(str): remove the downloaded pack and its opponents.
    """

    download_requested = Signal(str)
    cancel_requested = Signal(str)
    remove_requested = Signal(str)

    def __init__(self, entry: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pack_id = str(entry["id"])
        self.entry = entry
        frame = card_frame()
        classes = entry.get("classes") or []
        self.title = QLabel(
            f"<b style='font-size:13pt'>{html.escape(str(entry.get('title') or self.pack_id))}</b>"
            f"<br>{len(classes)} classes: {html.escape(', '.join(map(str, classes[:8])))}"
            f"{'…' if len(classes) > 8 else ''}"
        )
        self.title.setWordWrap(True)
        self.details = QLabel(self._details_text(entry))
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.samples = QHBoxLayout()
        self.samples.setSpacing(4)
        self.samples.addStretch(1)
        self.thumbs: list[QLabel] = []
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setVisible(False)
        self.download = QPushButton("Download")
        self.cancel = QPushButton("Cancel")
        self.remove = QPushButton("Remove")
        self.download.clicked.connect(lambda: self.download_requested.emit(self.pack_id))
        self.cancel.clicked.connect(lambda: self.cancel_requested.emit(self.pack_id))
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.pack_id))
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.download, self.cancel, self.remove):
            buttons.addWidget(button)
        inner = QVBoxLayout(frame)
        inner.addWidget(self.title)
        inner.addLayout(self.samples)
        inner.addWidget(self.details)
        inner.addWidget(self.bar)
        inner.addLayout(buttons)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(frame)
        self.show_state(installed=False, partial_bytes=0, removable=False)

    @staticmethod
    def _details_text(entry: dict[str, Any]) -> str:
        size = entry.get("download_bytes") or entry.get("size_bytes")
        facts = [
            f"{entry['images']} pictures" if entry.get("images") else "",
            f"download {human_size(size)}" if size else "",
            f"licence: {html.escape(str(entry['licence']))}" if entry.get("licence") else "",
        ]
        line = " · ".join(f for f in facts if f)
        return f"{line}<br>{_opponents_line(entry.get('models') or [])}" if "models" in entry else line

    def add_sample(self, pixmap: QPixmap, label: str) -> None:
        thumb = QLabel()
        thumb.setPixmap(
            pixmap.scaled(
                THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
            )
        )
        thumb.setToolTip(label)
        thumb.setAccessibleName(f"sample picture: {label}")
        self.thumbs.append(thumb)
        self.samples.insertWidget(len(self.thumbs) - 1, thumb)

    def show_state(self, *, installed: bool, partial_bytes: int, removable: bool) -> None:
        """The buttons for an idle row: Download, Resume (with what is here) or Installed/Remove."""
        self.bar.setVisible(partial_bytes > 0 and not installed)
        self.cancel.setVisible(False)
        self.download.setVisible(not installed or removable)
        self.download.setEnabled(True)
        self.download.setText("Update" if installed else "Resume" if partial_bytes else "Download")
        self.remove.setVisible(removable)
        if installed:
            self.status.setText("✓ Installed" + ("" if removable else " (comes with the game or the trainer)"))
        elif partial_bytes:
            self.status.setText(f"Paused: {human_size(partial_bytes)} here; Resume goes on from there.")
        else:
            self.status.setText("")

    def show_downloading(self) -> None:
        self.bar.setVisible(True)
        self.cancel.setVisible(True)
        self.cancel.setEnabled(True)
        self.download.setVisible(False)
        self.remove.setVisible(False)
        self.status.setText("Starting the download…")

    def show_progress(self, progress: DownloadProgress) -> None:
        total = max(progress.total_bytes, 1)
        self.bar.setValue(int(1000 * progress.done_bytes / total))
        self.status.setText(progress.message)

    def show_message(self, text: str, *, problem: bool = False) -> None:
        self.status.setText(f"<span style='color:#b00020'>{html.escape(text)}</span>" if problem else text)
