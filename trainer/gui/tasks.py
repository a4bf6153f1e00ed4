"""The window's background tasks: start a generator on a worker, route its signals, cancel and join at exit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from qtsupport.errors import ErrorReporter
from qtsupport.worker import GeneratorWorker, WorkFactory

SHUTDOWN_WAIT_S = 20.0


class Tasks(QObject):
    """Starts and tracks GeneratorWorkers; failures go to the window's ErrorReporter unless a page handles them.

    Signals:
        busy_changed(int): how many tasks run now.
    """

    busy_changed = Signal(int)

    def __init__(self, reporter: ErrorReporter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reporter = reporter
        self.running: dict[GeneratorWorker, str] = {}

    def start(
        self,
        action: str,
        make_work: WorkFactory,
        *,
        on_progress: Callable[[Any], None] | None = None,
        on_finished: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_stopped: Callable[[], None] | None = None,
    ) -> GeneratorWorker:
        """Run make_work() on a worker thread; `action` ("train the model") names it in error dialogs."""
        worker = GeneratorWorker(make_work, name=action.replace(" ", "-"), parent=self)
        if on_progress:
            worker.progressed.connect(on_progress)
        if on_finished:
            worker.finished.connect(on_finished)
        if on_cancelled:
            worker.cancelled.connect(on_cancelled)
        worker.failed.connect(on_failed or (lambda exc, tb: self.reporter.error(exc, tb, action=action)))
        worker.stopped.connect(lambda: self._forget(worker))
        if on_stopped:
            worker.stopped.connect(on_stopped)
        self.running[worker] = action
        worker.start()
        self.busy_changed.emit(len(self.running))
        return worker

    def _forget(self, worker: GeneratorWorker) -> None:
        if self.running.pop(worker, None) is not None:
            worker.deleteLater()
            self.busy_changed.emit(len(self.running))

    def cancel_all(self) -> None:
        for worker in list(self.running):
            worker.cancel()

    def shutdown(self, timeout_s: float = SHUTDOWN_WAIT_S) -> list[str]:
        """Cancel every task and wait for the threads; return the actions still running after the wait."""
        self.cancel_all()
        return [action for worker, action in list(self.running.items()) if not worker.wait(timeout_s)]
