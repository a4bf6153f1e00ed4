"""A game session: commitments fixed at start, answers, totals and the proof."""

from __future__ import annotations

import itertools

import pytest

from desktop.core.session import GameSession, Opponent
from game_rules.commitment import session_commitment, verify_round
from game_rules.deal import deal
from game_rules.modes import BLITZ, CLASSIC
from game_rules.proof import Proof

CLASSES = ["bag", "coat", "dress", "sandal"]
IMAGES = [(f"{i:064x}", CLASSES[i % 4]) for i in range(30)]
OPPONENT = Opponent("m1", "Test model", "e" * 64, "hard")


def _probabilities(always_right: bool) -> dict[str, dict[str, float]]:
    probs = {}
    for sha, label in IMAGES:
        guess = label if always_right else CLASSES[(CLASSES.index(label) + 1) % 4]
        probs[sha] = {c: (0.7 if c == guess else 0.1) for c in CLASSES}
    return probs


def _salts():
    counter = itertools.count()
    return lambda: f"{next(counter):064x}"


def _session(mode=CLASSIC, always_right=True, n=10, session_id="s-1") -> GameSession:
    return GameSession.start(
        session_id=session_id,
        seed="seed",
        pack_id="p",
        mode=mode,
        opponent=OPPONENT,
        rounds=deal("seed", IMAGES, CLASSES, n),
        probabilities=_probabilities(always_right),
        new_salt=_salts(),
    )


def test_every_round_is_committed_before_play_and_the_session_commitment_binds_them() -> None:
    session = _session()
    assert len(session.commitments) == 10
    assert session.session_commitment == session_commitment(session.commitments)
    for record, commitment in zip(session.records, session.commitments, strict=True):
        assert verify_round(record, commitment)
        assert record.model == OPPONENT.onnx_sha256


def test_answers_score_and_reveal_a_verified_record() -> None:
    session = _session(always_right=False)
    first = session.current_round()
    result = session.answer(first.truth, 1.0)
    assert result.player_correct and result.points == 30 + 5
    assert not result.ai_correct and result.verified
    wrong = next(o for o in session.current_round().options if o != session.current_round().truth)
    assert session.answer(wrong, 3.0).points == 0
    assert session.player_correct == 1 and session.ai_correct == 0 and session.player_points == 35


def test_time_out_scores_zero_even_with_an_answer_after_the_limit() -> None:
    session = _session()
    late = session.answer(session.current_round().truth, 15.0)
    assert late.player_answer is None and late.points == 0 and not late.player_correct
    assert session.answer(None, 15.0).player_answer is None


def test_options_outside_the_round_are_rejected() -> None:
    session = _session()
    with pytest.raises(ValueError, match="not one of this round's options"):
        session.answer("hat", 1.0)


def test_winner_and_end_of_session() -> None:
    session = _session(always_right=True)
    while session.has_next_round:
        session.answer(None, 15.0)
    assert session.winner == "ai" and session.accuracy("ai") == 1.0 and session.accuracy("player") == 0.0
    with pytest.raises(IndexError):
        session.current_round()


def test_blitz_has_no_per_round_limit_but_its_total_ends_the_answers() -> None:
    session = _session(mode=BLITZ, n=30)
    assert session.answer(session.current_round().truth, 40.0).player_correct
    assert session.answer(session.current_round().truth, 19.999).player_correct  # 59.999 s of answer time in all
    late = session.answer(session.current_round().truth, 0.001)  # exactly 60 s: the blitz clock has run out
    assert late.player_answer is None and late.points == 0


def test_answer_times_are_scored_and_kept_in_whole_milliseconds() -> None:
    session = _session()
    result = session.answer(session.current_round().truth, 1.9996)  # rounds to 2.000 s: bonus 4, not 5
    assert result.elapsed_ms == 2000 and result.elapsed_s == 2.0 and result.points == 30 + 4


def test_proof_holds_every_record_and_round_trips() -> None:
    session = _session()
    session.answer(session.current_round().truth, 2.0)
    proof = session.proof()
    assert proof.session_commitment == session.session_commitment
    assert [r.commitment() for r in proof.records] == list(proof.commitments)
    assert proof.played[0].player_answer == session.results[0].truth
    assert Proof.parse(proof.to_json()) == proof
