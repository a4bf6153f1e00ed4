"""A bug in a game slot reaches the player: the crash dialog with copyable details, and a line in the log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from classifiers.errors import PackError
from desktop.app import content_roots
from desktop.services.catalog import load_catalog
from desktop.services.store import Store
from qtsupport.errors import CrashDialog, install_excepthook, log_to_file
from tests.helpers.fakes import fake_loader

pytestmark = pytest.mark.gui
WAIT_MS = 10_000


@pytest.fixture
def game(qtbot, tmp_path: Path):
    """The window as the composition root builds it: a reporter that logs to a file, and the crash hook."""
    from desktop.ui.main_window import MainWindow, game_reporter

    log_path = tmp_path / "eyevsai.log"
    handler = log_to_file(log_path)
    reporter = game_reporter("eyevsai test", log_path)
    store = Store(tmp_path / "errors.db")
    window = MainWindow(load_catalog(content_roots(tmp_path)), store, opponent_loader=fake_loader(), reporter=reporter)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "Fake device" in window.home.device.text(), timeout=WAIT_MS)
    previous = install_excepthook(reporter)
    yield window, log_path
    sys.excepthook = previous
    logging.getLogger().removeHandler(handler)
    handler.close()
    store.close()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_game_slot_shows_the_crash_dialog_and_is_logged(qtbot, game, monkeypatch) -> None:
    window, log_path = game
    window.home.play.click()
    qtbot.waitUntil(lambda: bool(window.round.buttons) and window.round.buttons[0].isEnabled(), timeout=WAIT_MS)

    def broken_save(session_id: str, result: object) -> None:
        raise RuntimeError("the history table is locked")

    monkeypatch.setattr(window.store, "save_round", broken_save)
    with qtbot.waitSignal(window.reporter.reported, timeout=WAIT_MS) as reported:
        qtbot.mouseClick(window.round.buttons[0], Qt.MouseButton.LeftButton)
    assert reported.args[0] == "crash"
    dialog = window.reporter.last_dialog
    assert isinstance(dialog, CrashDialog) and dialog.isVisible()
    assert dialog.windowTitle() == "Eye vs AI: unexpected error"
    assert "RuntimeError: the history table is locked" in dialog.details and "broken_save" in dialog.details
    assert dialog.details.startswith("eyevsai test, Python ")  # the version line a bug report needs
    assert str(log_path) in dialog.message.text()  # the player is told where the log is
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == dialog.details
    logged = log_path.read_text(encoding="utf-8")
    assert "ERROR" in logged and "RuntimeError: the history table is locked" in logged and "broken_save" in logged


def test_a_known_problem_is_a_plain_dialog_and_is_logged(qtbot, game) -> None:
    window, log_path = game
    with qtbot.waitSignal(window.reporter.reported, timeout=WAIT_MS) as reported:
        window.reporter.error(PackError("Pack 'birds' is missing 3 images. Reinstall it."), "")
    assert reported.args == ["problem", "Pack 'birds' is missing 3 images. Reinstall it."]
    dialog = window.reporter.last_dialog
    assert isinstance(dialog, QMessageBox) and dialog.windowTitle() == "Eye vs AI"
    assert "Pack 'birds' is missing 3 images" in log_path.read_text(encoding="utf-8")
