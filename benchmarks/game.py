"""Game responsiveness: the real window, offscreen, playing classic sessions against each bundled opponent.

Measures what a player waits for: Play → first round with its commitment shown and options unlocked (dealing
plus the AI's inference for all rounds), answer → reveal shown, and Next → next round shown with its
commitment and unlocked options.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass(frozen=True)
class GameResult:
    model: str
    sessions: int
    start_p50_ms: float
    start_p95_ms: float
    reveal_p50_ms: float
    reveal_p95_ms: float
    next_p50_ms: float
    next_p95_ms: float


def _wait(app, condition, timeout_s: float = 30.0) -> None:
    from desktop.ui.waiting import wait_until

    wait_until(condition, timeout_s)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000.0, q))


def measure_game(sessions: int = 3, device: str | None = None) -> list[GameResult]:
    """Play `sessions` classic sessions against every bundled opponent; p50/p95 of each wait in ms."""
    from PySide6.QtWidgets import QApplication

    from desktop.app import content_roots
    from desktop.services.catalog import load_catalog
    from desktop.services.store import Store
    from desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    data = Path(tempfile.mkdtemp(prefix="eyevsai-bench-"))
    store = Store(data / "bench.db")
    window = MainWindow(load_catalog(content_roots(data)), store, device=device)
    window.show()
    results = []
    for d_index in range(window.home.difficulty.count()):
        window.home.difficulty.setCurrentIndex(d_index)
        model = window.home.selection().opponent.card.id
        _wait(app, lambda model=model: model in window.opponents)  # warmed on the home screen, as in play
        starts, reveals, nexts = [], [], []
        for _ in range(sessions):
            window.show_home()
            began = time.perf_counter()
            window.home.play.click()
            _wait(app, lambda: window.stack.currentWidget() is window.round and window.round.buttons[0].isEnabled())
            starts.append(time.perf_counter() - began)
            session = window.session
            while True:
                dealt = session.current_round()
                began = time.perf_counter()
                window.round.answered.emit(dealt.truth)
                window.round.reveal.repaint()  # paint synchronously: what the player sees
                reveals.append(time.perf_counter() - began)
                if not session.has_next_round:
                    window.round.next.click()
                    break
                began = time.perf_counter()
                window.round.next.click()
                _wait(app, lambda: window.round.buttons[0].isEnabled())
                nexts.append(time.perf_counter() - began)
        results.append(
            GameResult(
                model,
                sessions,
                _pct(starts, 50),
                _pct(starts, 95),
                _pct(reveals, 50),
                _pct(reveals, 95),
                _pct(nexts, 50),
                _pct(nexts, 95),
            )
        )
    window.close()
    store.close()
    return results


def game_table(rows: list[GameResult]) -> Table:
    table = Table(title="Game responsiveness (offscreen window, classic sessions; ms)", title_justify="left")
    for column in (
        "opponent",
        "sessions",
        "Play → round 1 p50",
        "p95",
        "answer → reveal p50",
        "p95",
        "next → round shown p50",
        "p95",
    ):
        table.add_column(column, justify="left" if column == "opponent" else "right")
    for r in rows:
        table.add_row(
            r.model,
            str(r.sessions),
            f"{r.start_p50_ms:.1f}",
            f"{r.start_p95_ms:.1f}",
            f"{r.reveal_p50_ms:.2f}",
            f"{r.reveal_p95_ms:.2f}",
            f"{r.next_p50_ms:.2f}",
            f"{r.next_p95_ms:.2f}",
        )
    return table
