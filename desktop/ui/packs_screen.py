"""The "Get more packs" screen: the server's catalog with sample pictures, and downloads of a pack and its opponents
(desktop.services.downloads) in a GeneratorWorker with a progress bar and Cancel. Installing or removing a pack
asks the window to look for packs again, so it is playable (or gone) at once. Without a server or a connection the
screen says so and still lists the downloaded packs, which can be removed offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from classifiers.errors import EyeVsAIError
from classifiers.locations import bundled_assets_dir
from classifiers.pack import PACK_FILE
from desktop.services.downloads import (
    DownloadProgress,
    InstalledPack,
    download_pack,
    installed_downloads,
    partial_downloads,
    remove_pack,
)
from desktop.services.online.errors import OnlineError
from desktop.ui.online_controller import OnlineController
from desktop.ui.pack_rows import PackRow
from qtsupport.worker import GeneratorWorker

NO_SERVER = (
    "No server is set, so there is no catalog to get packs from. Choose a server with “Server…” on the home screen; "
    "the packs you downloaded are listed below and can be removed."
)
SHUTDOWN_WAIT_S = 5.0


class PacksScreen(QWidget):
    """Signals:
    home_requested(): back to the home screen.
    packs_changed(): a pack was installed or removed (the window looks for packs again).
    """

    home_requested = Signal()
    packs_changed = Signal()

    def __init__(
        self,
        controller: OnlineController,
        report_bug: Callable[[Exception, str], None],
        *,
        local_roots: Callable[[], list[Path]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """local_roots(): folders whose packs count as installed without a receipt (default: the bundled assets)."""
        super().__init__(parent)
        self.controller = controller
        self.report_bug = report_bug
        self.local_roots = local_roots or (lambda: [bundled_assets_dir()])
        self.rows: dict[str, PackRow] = {}
        self.worker: GeneratorWorker | None = None
        self.downloading: str | None = None
        self.title = QLabel("<h2 style='margin:0'>Get more packs</h2>")
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.back = QPushButton("← Home")
        self.refresh = QPushButton("Refresh")
        self.back.clicked.connect(self.home_requested)
        self.refresh.clicked.connect(self.load)
        self.list = QVBoxLayout()
        content = QWidget()
        column = QVBoxLayout(content)
        column.addLayout(self.list)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.refresh)
        top.addWidget(self.back)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(scroll, 1)

    @property
    def data_dir(self) -> Path:
        return self.controller.online.data_dir

    # -- the list ----------------------------------------------------------------------------------------------------
    def load(self) -> None:
        """Ask the server for its catalog (in the background); until it answers, show the downloaded packs."""
        self._show([], None)
        client = self.controller.online.client
        if client is None:
            self.notice.setText(NO_SERVER)
            return
        self.notice.setText(f"Asking {client.base_url} for its packs…")
        self.controller.run(client.catalog_packs, self._on_listed, self._on_list_failed)

    def _on_listed(self, packs: list[dict[str, Any]]) -> None:
        self.notice.setText(
            f"{len(packs)} pack{'s' if len(packs) != 1 else ''} on the server. A download brings the pack and its AI "
            "opponents; you can play them as soon as it ends."
            if packs
            else "The server offers no packs yet."
        )
        self._show(packs, self.controller.online.client)

    def _on_list_failed(self, exc: Exception, details: str) -> None:
        if not isinstance(exc, EyeVsAIError):
            self.report_bug(exc, details)
            return
        offline = isinstance(exc, OnlineError)
        self.notice.setText(f"{'You seem to be offline. ' if offline else ''}{exc}")

    def _show(self, packs: list[dict[str, Any]], client: Any) -> None:
        for row in self.rows.values():
            row.setParent(None)
            row.deleteLater()
        self.rows.clear()
        installed = installed_downloads(self.data_dir)
        entries = {str(p["id"]): p for p in packs}
        for pack_id, done in installed.items():  # downloaded, whether or not the server still offers them
            entries.setdefault(pack_id, {"id": pack_id, "title": pack_id, "size_bytes": done.total_bytes})
        for pack_id in partial_downloads(self.data_dir):
            entries.setdefault(pack_id, {"id": pack_id, "title": pack_id})
        for entry in entries.values():
            row = PackRow(entry)
            row.download_requested.connect(self.start_download)
            row.cancel_requested.connect(self.cancel_download)
            row.remove_requested.connect(self.remove)
            self.rows[row.pack_id] = row
            self.list.addWidget(row)
            if client is not None and entry.get("samples"):
                self._fetch_samples(client, row, entry["samples"])
        self._show_states()

    def _fetch_samples(self, client: Any, row: PackRow, samples: list[dict[str, Any]]) -> None:
        def fetch() -> list[tuple[bytes, str]]:
            return [(client.catalog_file_bytes(s["sha256"]), str(s.get("label") or "")) for s in samples[:8]]

        def show(pictures: list[tuple[bytes, str]]) -> None:
            if self.rows.get(row.pack_id) is not row:
                return  # the list was shown again meanwhile
            for data, label in pictures:
                pixmap = QPixmap()
                if pixmap.loadFromData(data):
                    row.add_sample(pixmap, label)

        # a preview that cannot be fetched is only a missing picture: the row says the rest
        self.controller.run(fetch, show, lambda exc, details: None)

    def _show_states(self) -> None:
        installed, partial = installed_downloads(self.data_dir), partial_downloads(self.data_dir)
        roots = [self.data_dir, *self.local_roots()]
        local = {p.parent.name for root in roots for p in (root / "packs").glob(f"*/{PACK_FILE}")}
        for pack_id, row in self.rows.items():
            if pack_id == self.downloading:
                continue
            row.show_state(
                installed=pack_id in installed or pack_id in local,
                partial_bytes=partial.get(pack_id, 0),
                removable=pack_id in installed,
            )
            row.download.setEnabled(self.downloading is None and "manifest_url" in row.entry)

    # -- downloads ---------------------------------------------------------------------------------------------------
    def start_download(self, pack_id: str) -> None:
        client = self.controller.online.client
        if client is None or self.downloading is not None:
            return
        self.downloading = pack_id
        row = self.rows[pack_id]
        row.show_downloading()
        data_dir = self.data_dir
        self.worker = GeneratorWorker(lambda: download_pack(client, data_dir, pack_id), name="download", parent=self)
        self.worker.progressed.connect(self._on_progress)
        self.worker.finished.connect(self._on_installed)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(lambda: self._on_stopped("Cancelled; what arrived is kept for Resume."))
        self.worker.stopped.connect(self._on_worker_stopped)
        self._show_states()
        self.worker.start()

    def cancel_download(self, pack_id: str) -> None:
        if self.worker is not None and self.downloading == pack_id:
            self.rows[pack_id].cancel.setEnabled(False)
            self.worker.cancel()

    def _on_progress(self, progress: DownloadProgress) -> None:
        if self.downloading in self.rows:
            self.rows[self.downloading].show_progress(progress)

    def _on_installed(self, installed: InstalledPack) -> None:
        title = self.rows[installed.pack_id].entry.get("title", installed.pack_id)
        self.packs_changed.emit()
        self._on_stopped(f"✓ Installed {title}: choose it on the home screen and play.")

    def _on_failed(self, exc: Exception, details: str) -> None:
        if not isinstance(exc, EyeVsAIError):
            self.report_bug(exc, details)
        self._on_stopped(str(exc), problem=True)

    def _on_stopped(self, message: str, *, problem: bool = False) -> None:
        pack_id, self.downloading = self.downloading, None
        self._show_states()
        if pack_id in self.rows:
            self.rows[pack_id].show_message(message, problem=problem)

    def _on_worker_stopped(self) -> None:
        self.worker = None

    def remove(self, pack_id: str) -> None:
        try:
            remove_pack(self.data_dir, pack_id)
        except (EyeVsAIError, OSError) as exc:
            self.rows[pack_id].show_message(str(exc), problem=True)
            return
        self.packs_changed.emit()
        self._show_states()
        self.rows[pack_id].show_message("Removed. Download it again at any time.")

    def shutdown(self) -> None:
        """Stop a running download (it resumes next time) before the window goes."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(SHUTDOWN_WAIT_S)
