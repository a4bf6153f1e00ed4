"""Waiting for the window to reach a state from scripts (screenshots, benchmarks), without a busy loop.

PySide6 6.12 crashes ("none_dealloc") when Python calls QApplication.processEvents() in a loop while another
Python thread runs (our model-loading workers do). A nested QEventLoop polled by a QTimer is safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QTimer

POLL_MS = 2


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Run the Qt event loop until condition() is true.

    Raises:
        TimeoutError: the condition did not become true within timeout_s.
    """
    if condition():
        return
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(POLL_MS)
    timer.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline else None)
    timer.start()
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError(f"the window did not reach the expected state within {timeout_s:.0f} s")
