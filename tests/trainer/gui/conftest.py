"""Fixtures of the trainer GUI tests: the trainer window, offscreen, on a trained or a fresh workspace."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from trainer.workspace import Workspace

WAIT_MS = 120_000


def make_window(qtbot: Any, workspace: Workspace, game_dir: Path) -> Any:
    """The trainer window on `workspace`, shown offscreen, answering yes to every confirmation."""
    from trainer.gui.main_window import MainWindow
    from trainer.usecases import TrainerUseCases

    window = MainWindow(TrainerUseCases(workspace), game_data_dir=game_dir, confirm=lambda title, text: True)
    qtbot.addWidget(window)
    window.resize(1280, 820)
    window.show()
    return window


@pytest.fixture()
def window(qtbot: Any, trained_workspace: Workspace, tmp_path: Path) -> Generator[Any, None, None]:
    window = make_window(qtbot, trained_workspace, tmp_path / "game")
    qtbot.waitUntil(lambda: not window.tasks.running, timeout=WAIT_MS)
    yield window
    assert not window.tasks.shutdown(), "a background task did not stop"


@pytest.fixture()
def empty_window(qtbot: Any, tmp_path: Path) -> Generator[Any, None, None]:
    window = make_window(qtbot, Workspace(tmp_path / "fresh-workspace"), tmp_path / "game")
    qtbot.waitUntil(lambda: not window.tasks.running, timeout=WAIT_MS)
    yield window
    assert not window.tasks.shutdown(), "a background task did not stop"
