"""The server load test (`python -m benchmarks --only server`): it runs, and it fails when rows go missing."""

from __future__ import annotations

import pytest

from benchmarks.server import ROUNDS, ServerBenchError, _Load, _verify, measure_server
from benchmarks.server_data import Seeded


@pytest.mark.slow
def test_a_small_load_test_runs_against_two_workers() -> None:
    run = measure_server(workers=(2,), players=300, seconds=0.4)
    kinds = {r.kind for r in run.results}
    assert {
        "top page",
        "around-me (new player)",
        "around-me (returning player)",
        "upload",
        "ranked round (next + answer)",
        "login",
    } <= kinds
    assert all(r.failed == 0 and r.requests_per_s > 0 and r.p99_ms >= r.p50_ms > 0 for r in run.results)
    assert "each stored once" in run.checks[0]


def test_lost_or_duplicated_rows_fail_the_run() -> None:
    load = _Load(Seeded(players=[], login_emails=[]), ["token"])
    load.uploads, load.rounds = 2, ROUNDS
    assert "each stored once" in _verify("sqlite", load, (2, ROUNDS))
    with pytest.raises(ServerBenchError, match="3 uploads"):
        _verify("sqlite", load, (3, ROUNDS))
    with pytest.raises(ServerBenchError, match="lost or duplicated"):
        _verify("sqlite", load, (2, ROUNDS - 1))
