"""Run blocking work (model loading, inference) off the GUI thread; results come back through signals."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


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
) -> _Signals:
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
