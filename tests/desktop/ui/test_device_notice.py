"""The home screen says which device runs the opponent, and why an expected GPU is not used."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from desktop.app import content_roots
from desktop.services.catalog import load_catalog
from desktop.services.store import Store
from tests.helpers.fakes import fake_loader

pytestmark = pytest.mark.gui


def _window(qtbot, tmp_path: Path, classifier: SimpleNamespace, device: str):
    from desktop.ui.main_window import MainWindow

    store = Store(tmp_path / "notice.db")
    win = MainWindow(
        load_catalog(content_roots(tmp_path)), store, opponent_loader=fake_loader(classifier=classifier, device=device)
    )
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: device in win.home.device.text(), timeout=5_000)
    return win, store


def test_cpu_fallback_of_a_gpu_build_is_shown(qtbot, tmp_path: Path) -> None:
    reason = "the CUDA execution provider did not start: EP Error CUDA failure 100"
    classifier = SimpleNamespace(provider="CPUExecutionProvider", fallback_reason=reason)
    win, store = _window(qtbot, tmp_path, classifier, "CPU")
    text = win.home.device.text()
    assert text.startswith("runs on: CPU")  # plain words, not the execution provider's name
    assert "GPU not used: the CUDA execution provider did not start." in text
    assert win.home.device.toolTip() == reason
    store.close()


def test_a_working_gpu_shows_no_notice(qtbot, tmp_path: Path) -> None:
    classifier = SimpleNamespace(provider="CUDAExecutionProvider", fallback_reason=None)
    win, store = _window(qtbot, tmp_path, classifier, "CUDA (GPU)")
    assert win.home.device.text() == "runs on: CUDA (GPU)"
    assert win.home.device.toolTip() == ""
    store.close()
