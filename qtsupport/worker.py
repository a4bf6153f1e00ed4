"""Background work for both GUIs: a blocking call on a thread pool, or a generator on a thread of its own.

The worker never touches widgets: results, progress, failures and cancellations come back to the GUI thread
through signals (Qt queues signals emitted from another thread to a receiver living in the GUI thread).

`run_in_background` runs one blocking call (model loading, a network call) on a `QThreadPool`.
`GeneratorWorker` drives a Progress generator (training, pack building, tuning, prediction), the same one a CLI
drives with a progress bar. Cancelling it is cooperative: the worker stops at the next item the generator yields
and closes it, so the generator's `finally` blocks run in the worker (a half-written model folder is removed, a
registry row marked interrupted).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Generator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

WorkFactory = Callable[[], Generator[Any, None, Any]]


class _Signals(QObject):
    """Signals:
    finished(object): the callable's return value.
    failed(object, str): the exception and its formatted traceback.
    """

    finished = Signal(object)
    failed = Signal(object, str)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:  # runs on a pool thread: never touches widgets
        try:
            result = self.fn()
        except Exception as exc:  # handed to the GUI thread's single error handler
            self.signals.failed.emit(exc, traceback.format_exc())
        else:
            self.signals.finished.emit(result)


# Signal carriers of jobs still running: they belong to no widget, so a window closed while its job runs cannot
# delete the object a pool thread is about to emit on (that crashed the interpreter).
_in_flight: set[_Signals] = set()


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception, str], None],
    *,
    parent: QObject,
    pool: QThreadPool | None = None,
) -> QObject:
    """Start fn on `pool` (default: the global thread pool); on_done/on_error are called on the GUI thread,
    and only while `parent` still exists: the result of a job that outlives its window is dropped."""
    signals = _Signals()
    _in_flight.add(signals)

    def deliver(callback: Callable[..., None]) -> Callable[..., None]:
        def call(*args: Any) -> None:
            _in_flight.discard(signals)
            signals.deleteLater()
            if shiboken6.isValid(parent):
                callback(*args)

        return call

    signals.finished.connect(deliver(on_done))
    signals.failed.connect(deliver(on_error))
    (pool or QThreadPool.globalInstance()).start(_Job(fn, signals))
    return signals


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
