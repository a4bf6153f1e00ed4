"""Start the trainer GUI: the Qt application, the crash hook and the window built from the composition root."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from qtsupport.errors import install_excepthook
from trainer.gui.main_window import MainWindow
from trainer.usecases import TrainerUseCases
from trainer.workspace import Workspace


def run_trainer(workspace: Workspace, *, game_data_dir: Path, argv: list[str] | None = None) -> int:
    """Show the window and run the event loop until it closes; return the exit code."""
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Eye vs AI trainer")
    window = MainWindow(TrainerUseCases(workspace), game_data_dir=game_data_dir)
    previous_hook = install_excepthook(window.reporter)
    window.show()
    try:
        return app.exec()
    finally:
        window.tasks.shutdown()  # the loop can also end without the window closing: still stop and join workers
        sys.excepthook = previous_hook
        window.deleteLater()
