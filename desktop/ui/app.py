"""Start the Qt application with the window built from the composition root's objects."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from desktop.services.catalog import Catalog
from desktop.services.online.connection import OnlineConnection
from desktop.services.store import Store
from desktop.ui.main_window import MainWindow
from desktop.ui.online_ui import OnlineUi

SHUTDOWN_WAIT_MS = 10_000


def run_game(
    catalog: Catalog,
    store: Store,
    *,
    device: str | None = None,
    quit_when_shown: Callable[[], None] | None = None,
    online: OnlineConnection | None = None,
) -> int:
    """Show the game window and run the event loop until it closes.

    Args:
        quit_when_shown: a packaging check: called once the first event loop pass has shown the window, after
            which the game quits.
        online: the server settings, sign-in and outbox (no server set: no network use at all).
    """
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Eye vs AI")
    window = MainWindow(catalog, store, device=device)
    online_ui = OnlineUi(window, online) if online is not None else None
    window.show()
    if quit_when_shown is not None:

        def shown() -> None:
            quit_when_shown()
            app.quit()

        QTimer.singleShot(0, shown)
    try:
        return app.exec()
    finally:
        # A model still loading in the background must finish before the window it reports to is deleted.
        QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)
        if online_ui is not None:
            online_ui.shutdown()
        store.close()
