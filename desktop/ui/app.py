"""Start the Qt application with the window built from the composition root's objects, the error log and the
crash hook (an exception in any slot reaches the crash dialog, not a console nobody sees)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from desktop.services.catalog import Catalog
from desktop.services.online.connection import OnlineConnection
from desktop.services.store import Store
from desktop.ui.main_window import MainWindow, game_reporter
from desktop.ui.online_ui import OnlineUi
from qtsupport.errors import install_excepthook, log_to_file

SHUTDOWN_WAIT_MS = 10_000


def game_product() -> str:
    """The game and its version, for bug reports."""
    try:
        return f"eyevsai {version('eyevsai')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "eyevsai (version unknown)"


def run_game(
    catalog: Catalog,
    store: Store,
    *,
    device: str | None = None,
    quit_when_shown: Callable[[], None] | None = None,
    online: OnlineConnection | None = None,
    log_path: Path | None = None,
    reload_catalog: Callable[[], Catalog] | None = None,
) -> int:
    """Show the game window and run the event loop until it closes.

    Args:
        quit_when_shown: a packaging check: called once the first event loop pass has shown the window, after
            which the game quits.
        online: the server settings, sign-in and outbox (no server set: no network use at all).
        log_path: the file errors are logged to (named in the crash dialog); None logs nowhere but stderr.
        reload_catalog: looks for packs and models again (the home screen's Reload).
    """
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Eye vs AI")
    handler = log_to_file(log_path) if log_path is not None else None
    reporter = game_reporter(game_product(), log_path)
    window = MainWindow(catalog, store, device=device, reporter=reporter, reload_catalog=reload_catalog)
    online_ui = OnlineUi(window, online) if online is not None else None
    previous_hook = install_excepthook(reporter)
    window.show()
    if quit_when_shown is not None:

        def shown() -> None:
            quit_when_shown()
            app.quit()

        QTimer.singleShot(0, shown)
    try:
        return app.exec()
    finally:
        sys.excepthook = previous_hook
        # A model still loading in the background must finish before the window it reports to is deleted.
        QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)
        if online_ui is not None:
            online_ui.shutdown()
        store.close()
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
