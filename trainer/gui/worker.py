"""Run a Progress generator (training, pack building, tuning, prediction) on a thread of its own.

The generator is the same one the CLI drives with a progress bar. The worker never touches widgets: every
yielded item, the result, a failure or a cancellation comes back to the GUI thread through a signal (Qt queues
signals emitted from another thread to a receiver living in the GUI thread).

Cancelling is cooperative: the worker stops at the next item the generator yields and closes it, so the
generator's `finally` blocks run in the worker (a half-written model folder is removed, a registry row marked
interrupted). Deep families yield a few dozen times per epoch, so a deep run stops within a fraction of an
epoch; a single scikit-learn fit cannot be interrupted and stops when it returns.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, Signal

WorkFactory = Callable[[], Generator[Any, None, Any]]


class GeneratorWorker(QObject):
    """Drives one generator on a Python thread.

    Signals:
        progressed(object): an item the generator yielded (usually a Progress event).
        finished(object): the generator's return value.
        failed(object, str): the exception it raised and the formatted traceback.
        cancelled(): the run stopped because `cancel()` was called.
        stopped(): emitted last, whatever the outcome.
    """

    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()
    stopped = Signal()

    def __init__(self, make_work: WorkFactory, *, name: str = "worker", parent: QObject | None = None) -> None:
        """make_work() creates the generator; it runs on the worker thread, so it may do slow set-up too."""
        super().__init__(parent)
        self._make_work = make_work
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"eyevsai-{name}", daemon=True)

    @property
    def is_running(self) -> bool:
        return self._thread.is_alive()

    @property
    def is_cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the run to stop at its next progress event (returns at once)."""
        self._cancel.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the thread ends (for shutdown); return whether it did."""
        if self._thread.ident is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:  # on the worker thread
        try:
            self._drive()
        finally:
            self.stopped.emit()

    def _drive(self) -> None:
        try:
            work = self._make_work()
            while True:
                if self._cancel.is_set():
                    work.close()  # GeneratorExit inside the generator: its clean-up runs here
                    self.cancelled.emit()
                    return
                try:
                    item = next(work)
                except StopIteration as stop:
                    self.finished.emit(stop.value)
                    return
                self.progressed.emit(item)
        except Exception as exc:  # handed to the GUI thread's single error handler
            self.failed.emit(exc, traceback.format_exc())
