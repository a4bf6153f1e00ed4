"""The server load test (`python -m benchmarks --only server`): it runs, and it fails when rows go missing."""

from __future__ import annotations

import pytest

from benchmarks.server import ROUNDS, ServerBenchError, _Load, _Recorder, _verify, measure_server


@pytest.mark.slow
def test_a_small_load_test_runs_against_two_workers() -> None:
    run = measure_server(workers=2, concurrency=4, uploads=20, ranked_sessions=2, reads=20, players=3)
    kinds = {(r.phase, r.kind) for r in run.results}
    assert {
        ("uploads", "POST /sessions"),
        ("ranked sessions", "POST …/answer"),
        ("leaderboard reads", "GET board"),
    } <= kinds
    assert all(r.failed == 0 and r.requests_per_s > 0 and r.p99_ms >= r.p50_ms > 0 for r in run.results)
    assert "stored once each" in run.checks[0]


def test_lost_or_duplicated_rows_fail_the_run() -> None:
    load = _Load([{"access_token": "t"}], _Recorder())
    load.uploaded = {"a": {}, "b": {}}
    load.ranked_sessions = ["r"]
    fine = {"classic": 2, "classic_distinct": 2, "ranked_finished": 1, "ranked_rounds": ROUNDS}
    assert len(_verify(load, fine, [])) == 3
    with pytest.raises(ServerBenchError, match="classic: 3 rows, expected 2"):
        _verify(load, {**fine, "classic": 3}, [])
    with pytest.raises(ServerBenchError, match="ranked_rounds"):
        _verify(load, {**fine, "ranked_rounds": ROUNDS - 1}, [])
    with pytest.raises(ServerBenchError, match="HTTP 500"):
        _verify(load, fine, ["POST /sessions: HTTP 500"])
