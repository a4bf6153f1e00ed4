"""Small window helpers: an initial size that fits the screen (a scale factor of 2 halves the logical screen) and
the non-blocking "quit this session?" question."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

SCREEN_SHARE_W, SCREEN_SHARE_H = 0.95, 0.9


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize to width × height, clamped to the available part of the screen the window will open on."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        available = screen.availableGeometry()
        width = min(width, int(available.width() * SCREEN_SHARE_W))
        height = min(height, int(available.height() * SCREEN_SHARE_H))
    window.resize(width, height)


def ask_to_quit_session(parent: QWidget, on_quit: Callable[[], None]) -> QMessageBox:
    """Ask before a session is thrown away; Enter and Esc keep playing, "Quit session" (Alt+Q) leaves."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Quit this session?")
    box.setText("Quit and lose this session?")
    box.setInformativeText("It will not be saved or counted on the leaderboard.")
    leave = box.addButton("&Quit session", QMessageBox.ButtonRole.DestructiveRole)
    stay = box.addButton("&Keep playing", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    box.setEscapeButton(stay)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setObjectName("quitSessionBox")
    box.finished.connect(lambda _result: on_quit() if box.clickedButton() is leave else None)
    box.finished.connect(box.deleteLater)
    box.open()
    return box
