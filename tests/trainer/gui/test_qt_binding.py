"""The Qt binding keeps Python's reference counts: a long GUI session must not abort the interpreter.

PySide6 6.12.0 on CPython 3.11 returned None (and True/False) from every void (bool) call without a new
reference, so after a few thousand calls, e.g. one training run's progress updates, the interpreter aborted
with "none_dealloc". constraints.txt pins a release without the bug; this test catches a return of it.
"""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui

CALLS = 2000


def test_void_calls_and_signals_keep_none_and_bool_alive(qtbot) -> None:
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QLabel

    class Emitter(QObject):
        fired = Signal(object)

    label = QLabel()
    qtbot.addWidget(label)
    emitter = Emitter()
    received = []
    emitter.fired.connect(received.append)
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(CALLS):
        label.setText(str(i))  # returns None
        emitter.fired.emit(i)  # returns True
    # other code may create or drop a few references meanwhile; a lost reference per call shows as -CALLS
    assert sys.getrefcount(None) - none_before > -CALLS // 2
    assert sys.getrefcount(True) - true_before > -CALLS // 2
    assert len(received) == CALLS
