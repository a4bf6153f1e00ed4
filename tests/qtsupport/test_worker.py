"""The shared workers: a blocking call's result or failure comes back on the GUI thread; a generator's progress,
result and cancellation come back as signals."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest
from PySide6.QtCore import QObject

from qtsupport.worker import GeneratorWorker, run_in_background

pytestmark = pytest.mark.gui
WAIT_MS = 5_000


def test_a_blocking_call_reports_its_result_or_its_failure_on_the_gui_thread(qtbot) -> None:
    owner = QObject()
    seen: list[tuple[str, object, bool]] = []

    def on_done(value: object) -> None:
        seen.append(("done", value, threading.current_thread() is threading.main_thread()))

    def on_error(exc: Exception, details: str) -> None:
        seen.append(
            ("failed", f"{exc}|{'in broken' in details}", threading.current_thread() is threading.main_thread())
        )

    def broken() -> int:
        raise ValueError("bad input")

    run_in_background(lambda: 6 * 7, on_done, on_error, parent=owner)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=WAIT_MS)
    run_in_background(broken, on_done, on_error, parent=owner)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=WAIT_MS)
    assert seen == [("done", 42, True), ("failed", "bad input|True", True)]


def test_a_generator_reports_progress_and_stops_when_cancelled(qtbot) -> None:
    release, closed = threading.Event(), threading.Event()

    def work() -> Generator[int, None, str]:
        try:
            yield 1
            release.wait(WAIT_MS / 1000)
            yield 2
            return "never"
        finally:
            closed.set()

    worker = GeneratorWorker(work, name="test")
    progress: list[int] = []
    worker.progressed.connect(progress.append)
    with qtbot.waitSignal(worker.progressed, timeout=WAIT_MS):
        worker.start()
    with qtbot.waitSignals([worker.cancelled, worker.stopped], timeout=WAIT_MS):
        worker.cancel()
        release.set()
    assert worker.wait(1.0) and closed.is_set()  # the generator's clean-up ran
    assert progress[0] == 1
