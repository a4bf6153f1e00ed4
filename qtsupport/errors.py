"""The one error path of both GUIs: known problems become plain dialogs, bugs a crash dialog with copyable details.

A known problem is an `EyeVsAIError` (bad pack, bad hyperparameter, missing framework, no network): the person can
act on its message. Anything else is a bug: the crash dialog shows what happened and the traceback with a "Copy
details" button for a bug report. `install_excepthook` routes uncaught exceptions (in slots and event handlers) to
the same dialog instead of a console nobody sees. Every reported error is also logged with `logging`; a program
that logs to a file passes its path, and the crash dialog says where it is.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
import weakref
from collections.abc import Callable
from pathlib import Path
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

log = logging.getLogger(__name__)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def is_known_problem(exc: BaseException) -> bool:
    return isinstance(exc, EyeVsAIError)


def crash_details(exc: BaseException, formatted_traceback: str | None = None, *, product: str) -> str:
    """The text a bug report needs: the program and its version (`product`), Python, the platform, the exception
    and its traceback."""
    tb = formatted_traceback or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{product}, Python {platform.python_version()}, {platform.platform()}\n{type(exc).__name__}: {exc}\n\n{tb}"


def log_to_file(path: Path, level: int = logging.WARNING) -> logging.Handler:
    """Append the root logger's records to `path` (its folder is created); return the handler, to remove it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handler


class CrashDialog(QDialog):
    """Shows an unexpected error with its details and a button that copies them."""

    def __init__(
        self,
        summary: str,
        details: str,
        parent: QWidget | None = None,
        *,
        app_name: str,
        reassurance: str = "",
        log_path: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{app_name}: unexpected error")
        self.setObjectName("crash-dialog")
        self.resize(720, 460)
        self.details = details
        logged = f"<br>It was also written to the log file <code>{log_path}</code>." if log_path else ""
        message = QLabel(
            f"<b>Something went wrong that {app_name} did not expect.</b><br>{summary}<br><br>"
            f"{reassurance + ' ' if reassurance else ''}Copy the details below into a bug report.{logged}"
        )
        message.setWordWrap(True)
        message.setTextFormat(Qt.TextFormat.RichText)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = message
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
    """Shows errors as dialogs over its window; dialogs open window-modal and never block the caller.

    `error(exc, traceback)` has the shape of the workers' `failed(object, str)` signal, so it can be connected or
    passed wherever a failure callback is wanted.

    Signals:
        reported(str, str): the kind ("problem" or "crash") and the message shown.
    """

    reported = Signal(str, str)

    def __init__(
        self,
        window: QWidget | None = None,
        *,
        app_name: str,
        product: str,
        reassurance: str = "",
        log_path: Path | None = None,
    ) -> None:
        """Args:
        window: the widget dialogs open over (also the reporter's Qt parent); `set_window` sets it later.
        app_name: the program's name in dialog titles ("Eye vs AI").
        product: program and version for bug reports ("eyevsai 0.1.0").
        reassurance: a sentence for the crash dialog ("Your packs and models are safe.").
        log_path: the log file errors are written to, named in the crash dialog (None: not named).
        """
        super().__init__(window)
        self._window_ref = weakref.ref(window) if window is not None else None
        self.app_name = app_name
        self.product = product
        self.reassurance = reassurance
        self.log_path = log_path
        self.last_dialog: QDialog | None = None

    def set_window(self, window: QWidget) -> None:
        """Open dialogs over `window` from now on."""
        # A weak reference: the window usually owns its reporter, and a cycle would keep a closed window alive.
        self._window_ref = weakref.ref(window)

    @property
    def _window(self) -> QWidget | None:
        return self._window_ref() if self._window_ref is not None else None

    def problem(self, title: str, message: str) -> None:
        """A plain-language dialog for something the person can fix."""
        log.warning("%s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self._window)
        box.setObjectName("problem-dialog")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._show(box)
        self.reported.emit("problem", message)

    def error(self, exc: BaseException, formatted_traceback: str | None = None, *, action: str = "") -> None:
        """Route an exception: known problem → problem dialog; anything else → crash dialog."""
        if is_known_problem(exc):
            self.problem(f"Could not {action}" if action else self.app_name, str(exc))
            return
        summary = f"{'While trying to ' + action + ': ' if action else ''}{type(exc).__name__}: {exc}"
        details = crash_details(exc, formatted_traceback, product=self.product)
        log.error("Unexpected error: %s\n%s", summary, details)
        dialog = CrashDialog(
            summary,
            details,
            self._window,
            app_name=self.app_name,
            reassurance=self.reassurance,
            log_path=self.log_path,
        )
        self._show(dialog)
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
