"""The contest can be won: easier opponents lose more often to the average player (issue 17)."""

from __future__ import annotations

from benchmarks.contest import HUMAN_ACCURACY, contest_table, measure_contest, pooled


def test_the_average_player_beats_easy_more_often_than_medium_and_medium_more_often_than_hard() -> None:
    rows = measure_contest(sessions=60, accuracies=(HUMAN_ACCURACY,), images=300)
    win = {r.difficulty: r.win_rate for r in pooled(rows)}
    assert win["easy"] > win["medium"] > win["hard"]
    assert win["easy"] > 0.5 and win["hard"] < 0.25
    assert contest_table(rows).row_count == len(rows) + 3  # a row per opponent and a pooled row per difficulty
