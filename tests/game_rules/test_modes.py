"""The game's modes (docs/design.md §4) and the bounds the server derives from them."""

from __future__ import annotations

from typing import get_args

from game_rules.modes import BLITZ, BLITZ_TOTAL_MS, CLASSIC, CLASSIC_ROUND_MS, CLASSIC_ROUNDS, MODES, ModeName


def test_modes_follow_the_design() -> None:
    assert (CLASSIC.rounds, CLASSIC.seconds_per_round, CLASSIC.round_ms) == (10, 15.0, 15_000)
    assert BLITZ.is_blitz and BLITZ.total_seconds == 60.0 and BLITZ.total_ms == 60_000
    assert (CLASSIC_ROUNDS, CLASSIC_ROUND_MS, BLITZ_TOTAL_MS) == (10, 15_000, 60_000)


def test_the_upload_schemas_mode_names_are_the_modes() -> None:
    assert set(get_args(ModeName)) == set(MODES)


def test_a_classic_round_always_has_15_s_and_blitz_what_is_left_of_60_s() -> None:
    assert CLASSIC.limit_ms(used_ms=0) == CLASSIC.limit_ms(used_ms=140_000) == 15_000
    assert BLITZ.limit_ms(used_ms=0) == 60_000
    assert BLITZ.limit_ms(used_ms=59_999) == 1
    assert BLITZ.limit_ms(used_ms=61_000) == 0
