"""The `eyevsai-trainer` entry point: opens the window on the given workspace, restores the hook it installs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from trainer.gui import __main__ as entry
from trainer.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_entry_point_opens_the_window_on_the_workspace(qtbot, tmp_path: Path) -> None:
    hook = sys.excepthook
    seen: list[tuple[str, bool]] = []

    def look_and_close() -> None:
        # closing the window ends the event loop as a user does; QApplication.quit() here would leave the shared
        # test QApplication in a state where later tests' worker threads starve
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                seen.append((widget.workspace_label.text(), sys.excepthook is not hook))
                widget.close()

    QTimer.singleShot(300, look_and_close)
    assert entry.main(["--workspace", str(tmp_path / "ws"), "--game-data-dir", str(tmp_path / "game")]) == 0
    assert seen == [(f"workspace: {tmp_path / 'ws'}", True)]
    assert sys.excepthook is hook


def test_entry_point_without_a_display_says_so(monkeypatch, tmp_path: Path, capsys) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert entry.main(["--workspace", str(tmp_path / "ws")]) == 2
    err = capsys.readouterr().err
    assert "no display to open a window on" in err and "eyevsai-train --help" in err
