"""The GUI's one error handler: known problems become plain dialogs, bugs a crash dialog with copyable details.

A known problem is an `EyeVsAIError` (bad pack, bad hyperparameter, missing framework, parity failure): the
person can act on its message. Anything else is a bug: the crash dialog shows what happened and the traceback
with a "Copy details" button for a bug report. `install_excepthook` routes uncaught exceptions (in slots and
event handlers) to the same dialog instead of a console nobody sees.
"""

from __future__ import annotations

import platform
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from classifiers.errors import EyeVsAIError
from trainer.training import TRAINER_VERSION


def is_known_problem(exc: BaseException) -> bool:
    return isinstance(exc, EyeVsAIError)


def crash_details(exc: BaseException, formatted_traceback: str | None = None) -> str:
    """The text a bug report needs: versions, the exception and its traceback."""

    tb = formatted_traceback or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (
        f"eyevsai-trainer {TRAINER_VERSION}, Python {platform.python_version()}, {platform.platform()}\n"
        f"{type(exc).__name__}: {exc}\n\n{tb}"
    )


class CrashDialog(QDialog):
    """Shows an unexpected error with its details and a button that copies them."""

    def __init__(self, summary: str, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Eye vs AI trainer: unexpected error")
        self.setObjectName("crash-dialog")
        self.resize(720, 460)
        self.details = details
        message = QLabel(
            f"<b>Something went wrong that the trainer did not expect.</b><br>{summary}<br><br>"
            "Your packs and models are safe. Copy the details below into a bug report."
        )
        message.setWordWrap(True)
        message.setTextFormat(Qt.TextFormat.RichText)
        self.text = QPlainTextEdit(details)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy details")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(message)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")


class ErrorReporter(QObject):
    """Shows errors as dialogs over `parent`; dialogs open window-modal and never block the caller.

    Signals:
        reported(str, str): the kind ("problem" or "crash") and the message shown.
    """

    reported = Signal(str, str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._window = parent
        self.last_dialog: QDialog | None = None

    def problem(self, title: str, message: str) -> None:
        """A plain-language dialog for something the person can fix."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self._window)
        box.setObjectName("problem-dialog")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._show(box)
        self.reported.emit("problem", message)

    def error(self, exc: BaseException, formatted_traceback: str | None = None, *, action: str = "") -> None:
        """Route an exception: known problem → problem dialog; anything else → crash dialog."""
        if is_known_problem(exc):
            self.problem(f"Could not {action}" if action else "Problem", str(exc))
            return
        summary = f"{'While trying to ' + action + ': ' if action else ''}{type(exc).__name__}: {exc}"
        self._show(CrashDialog(summary, crash_details(exc, formatted_traceback), self._window))
        self.reported.emit("crash", summary)

    def _show(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_dialog = dialog
        dialog.open()


ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], None]


def install_excepthook(reporter: ErrorReporter) -> ExceptHook:
    """Show uncaught exceptions in the crash dialog (deferred to the event loop); return the previous hook."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        text = "".join(traceback.format_exception(kind, exc, tb))
        sys.stderr.write(text)
        if QApplication.instance() is not None:
            QTimer.singleShot(0, lambda: reporter.error(exc, text))

    sys.excepthook = hook
    return previous
