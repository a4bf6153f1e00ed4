"""Cancelling a deep training run cleanly, and errors shown as dialogs (plain for problems, crash with details)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from classifiers.errors import PackError
from classifiers.progress import Progress
from qtsupport.errors import CrashDialog, install_excepthook
from tests.trainer.gui.conftest import WAIT_MS
from trainer.model_registry import INTERRUPTED

pytestmark = pytest.mark.gui


@pytest.mark.torch
def test_cancel_a_deep_training_run(window, qtbot) -> None:
    pytest.importorskip("torch")
    models_dir = window.usecases.workspace.models_dir
    before = sorted(p.name for p in models_dir.iterdir())
    window.pack_page.select_pack("stripes")
    train = window.train_page
    window.show_screen("Train")
    train.family_box.setCurrentIndex(train.family_box.findData("deep_v1"))
    train.form.set_values(
        {
            "epochs": 500,
            "batch_size": 4,
            "image_size": 16,
            "width": 8,
            "blocks": 2,
            "workers": 0,
            "patience": 0,
            "device": "cpu",
        }
    )
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(train.curves.epochs) >= 1, timeout=WAIT_MS)

    # the window stays responsive while the worker trains
    window.show_screen("Models")
    assert window.current_screen == "Models" and train.is_training
    assert train.curves_view.shows_plots and "ETA" in train.status.text()
    with qtbot.waitSignal(train.training_stopped, timeout=WAIT_MS) as stopped:
        qtbot.mouseClick(train.cancel_button, Qt.MouseButton.LeftButton)
    assert stopped.args == ["cancelled"]
    assert train.status.text() == "Training cancelled; no model was saved."
    assert sorted(p.name for p in models_dir.iterdir()) == before  # no model, no half-written .partial folder
    assert train.start_button.isEnabled() and not train.cancel_button.isEnabled()
    rows, _ = window.usecases.models()
    run = [row for row in rows if row.family == "deep_v1"]
    assert len(run) == 1 and run[0].status == INTERRUPTED
    assert window.reporter.last_dialog is None


def test_training_a_game_pack_is_refused_with_a_plain_dialog(empty_window, qtbot) -> None:
    train = empty_window.train_page
    assert train.pack is not None and not train.pack.splits["train"]  # the bundled game pack: test images only
    qtbot.mouseClick(train.start_button, Qt.MouseButton.LeftButton)
    dialog = empty_window.reporter.last_dialog
    assert isinstance(dialog, QMessageBox) and dialog.isVisible()
    assert dialog.windowTitle() == "Cannot start training"
    assert "game pack without training images" in dialog.text()
    assert not train.is_training


def test_a_failing_task_shows_a_problem_or_a_crash_dialog(empty_window, qtbot) -> None:
    window = empty_window

    def failing(exc: Exception):
        yield Progress("work", 0, 1)
        raise exc

    with qtbot.waitSignal(window.reporter.reported, timeout=WAIT_MS) as reported:
        window.tasks.start("read the pack", lambda: failing(PackError("Pack 'x' is missing 3 images. Rebuild it.")))
    assert reported.args == ["problem", "Pack 'x' is missing 3 images. Rebuild it."]
    assert window.reporter.last_dialog.windowTitle() == "Could not read the pack"

    with qtbot.waitSignal(window.reporter.reported, timeout=WAIT_MS) as reported:
        window.tasks.start("export", lambda: failing(RuntimeError("index 7 is out of bounds")))
    assert reported.args[0] == "crash"
    dialog = window.reporter.last_dialog
    assert isinstance(dialog, CrashDialog) and dialog.isVisible()
    assert "RuntimeError: index 7 is out of bounds" in dialog.details
    assert "in failing" in dialog.details and "eyevsai-trainer" in dialog.details  # traceback and versions
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == dialog.details
    qtbot.waitUntil(lambda: not window.tasks.running, timeout=WAIT_MS)


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_opens_the_crash_dialog(empty_window, qtbot) -> None:
    previous = install_excepthook(empty_window.reporter)
    try:

        def broken_slot() -> None:
            raise KeyError("missing-column")

        with qtbot.waitSignal(empty_window.reporter.reported, timeout=WAIT_MS) as reported:
            QTimer.singleShot(0, broken_slot)
    finally:
        sys.excepthook = previous
    assert reported.args[0] == "crash"
    dialog = empty_window.reporter.last_dialog
    assert isinstance(dialog, CrashDialog)
    assert "KeyError: 'missing-column'" in dialog.details and "broken_slot" in dialog.details
