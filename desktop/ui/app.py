"""Start the Qt application with the window built from the composition root's objects."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from desktop.services.catalog import Catalog
from desktop.services.store import Store
from desktop.ui.main_window import MainWindow


def run_game(catalog: Catalog, store: Store, *, device: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Eye vs AI")
    window = MainWindow(catalog, store, device=device)
    window.show()
    try:
        return app.exec()
    finally:
        store.close()
