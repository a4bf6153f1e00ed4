"""The round state machine (desktop.core.play) driven by a fake clock: classic time-outs, the blitz session clock,
and a ranked-like source that scores on its own."""

from __future__ import annotations

import pytest

from desktop.core.play import HIT_REVEAL_S, MISS_REVEAL_S, LocalRounds, Phase, RoundPlay, ShownRound, Step
from desktop.core.session import GameSession, Opponent, RoundResult
from game_rules.commitment import RoundRecord
from game_rules.deal import AiAnswer, DealtRound
from game_rules.modes import BLITZ, BLITZ_MISS_PENALTY_MS, CLASSIC, Mode

CLASSES = ("cat", "dog", "owl", "fox")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _session(mode: Mode, n_rounds: int = 3) -> GameSession:
    rounds = [DealtRound(i, f"{i:064x}", CLASSES, CLASSES[i % 4]) for i in range(1, n_rounds + 1)]
    probabilities = {r.image: {c: (0.7 if c == r.truth else 0.1) for c in CLASSES} for r in rounds}
    return GameSession.start(
        session_id="s-1",
        seed="seed",
        pack_id="pack",
        mode=mode,
        opponent=Opponent("m", "Model M", "ab" * 32, "easy"),
        rounds=rounds,
        probabilities=probabilities,
        new_salt=lambda: "00" * 32,
    )


def _play(mode: Mode, n_rounds: int = 3) -> tuple[RoundPlay, GameSession, FakeClock]:
    session, clock = _session(mode, n_rounds), FakeClock()
    play = RoundPlay(LocalRounds(session, lambda sha: b"png"), clock=clock)
    play.show(play.source.deal())
    return play, session, clock


def _answer(play: RoundPlay, choice: str | None) -> RoundResult:
    elapsed = play.answer(choice)
    assert elapsed is not None
    result = play.source.answer(choice, elapsed)
    play.reveal(result)
    return result


def test_classic_round_times_out_and_the_rules_score_it() -> None:
    play, session, clock = _play(CLASSIC)
    assert play.current is not None and play.current.title == "Round 1/3 · Model M"
    assert play.current.image_bytes == b"png"
    clock.advance(14.9)
    tick = play.tick()
    assert tick is not None and not tick.expired and tick.remaining_s == pytest.approx(0.1)
    clock.advance(0.1)
    tick = play.tick()
    assert tick is not None and tick.expired and not tick.of_session and tick.limit_s == 15.0
    result = _answer(play, None)
    assert result.player_answer is None and result.points == 0 and result.elapsed_s == 15.0
    assert play.tick() is None  # no round clock runs while the reveal is shown
    assert play.answer("cat") is None  # one answer per round
    assert session.results == [result]


def test_a_quick_right_answer_earns_the_speed_bonus_and_the_session_ends_after_the_last_round() -> None:
    play, session, clock = _play(CLASSIC, n_rounds=2)
    clock.advance(1.0)
    first = _answer(play, session.rounds[0].truth)
    assert first.player_correct and first.points == 10 + 5
    assert play.score.points == 15 and play.score.played == 1 and not play.is_last
    assert play.advance() is Step.DEAL and play.phase is Phase.DEALING
    play.show(play.source.deal())
    clock.advance(3.0)
    _answer(play, session.rounds[1].options[0])
    assert play.is_last and play.advance() is Step.FINISH and play.phase is Phase.FINISHED
    assert play.advance() is Step.NONE


def test_blitz_counts_the_round_running_when_time_ends_and_then_ends() -> None:
    play, session, clock = _play(BLITZ, n_rounds=50)
    assert play.auto_advances and play.current is not None and play.current.seconds is None
    assert play.current.title == "Round 1 · 0 played · Model M"
    clock.advance(20.0)
    _answer(play, session.rounds[0].truth)
    assert play.reveal_seconds() == HIT_REVEAL_S
    clock.advance(5.0)  # the reveal and the dealing do not use the session clock
    play.advance()
    play.show(play.source.deal())
    assert play.current.title == "Round 2 · 1 played · Model M"
    clock.advance(39.9)
    tick = play.tick()
    assert tick is not None and tick.of_session and not tick.expired and tick.limit_s == BLITZ.total_seconds
    clock.advance(0.1)
    tick = play.tick()
    assert tick is not None and tick.expired and tick.of_session
    late = _answer(play, None)  # what the controller does when the clock runs out
    assert late.player_answer is None and late.points == 0 and len(session.results) == 2
    assert play.reveal_seconds() == MISS_REVEAL_S and play.is_last
    assert play.advance() is Step.FINISH and play.tick() is None


def test_a_blitz_miss_costs_five_seconds_of_the_clock_and_stays_on_screen_longer() -> None:
    play, session, clock = _play(BLITZ, n_rounds=50)
    clock.advance(1.0)
    wrong = next(o for o in session.rounds[0].options if o != session.rounds[0].truth)
    assert _answer(play, wrong).points == 0
    assert play.reveal_seconds() == MISS_REVEAL_S > HIT_REVEAL_S * 3
    tick = play.tick()
    assert tick is not None and tick.remaining_s == pytest.approx(60.0 - 1.0 - BLITZ_MISS_PENALTY_MS / 1000)


class ServerLikeSource:
    """A ranked-like source: deals its own rounds and scores answers itself (ignoring the client's clock)."""

    session_seconds = None

    def __init__(self) -> None:
        self.results: list[RoundResult] = []
        self.sent: list[tuple[str | None, float]] = []

    @property
    def has_next_round(self) -> bool:
        return len(self.results) < 2

    def deal(self) -> ShownRound:
        n = len(self.results) + 1
        return ShownRound(n, f"{n:064x}", CLASSES, "c" * 64, f"Ranked round {n}/2", 10.0)

    def answer(self, choice: str | None, elapsed_s: float) -> RoundResult:
        self.sent.append((choice, elapsed_s))
        n = len(self.results) + 1
        record = RoundRecord("srv", n, f"{n:064x}", "ab" * 32, CLASSES, "cat", 700, "00" * 32)
        result = RoundResult(
            n, record.image, CLASSES, "cat", choice, 4.2, choice == "cat", 33, AiAnswer("cat", 700, "cat"),
            True, record, record.commitment(), True,
        )  # fmt: skip
        self.results.append(result)
        return result


def test_ranked_source_plays_on_the_same_machine() -> None:
    clock, source = FakeClock(), ServerLikeSource()
    play = RoundPlay(source, clock=clock)
    play.show(source.deal())
    clock.advance(2.0)
    elapsed = play.answer("cat")
    assert elapsed == 2.0 and play.phase is Phase.ANSWERED
    play.reveal(source.answer("cat", elapsed))
    assert play.score.points == 33  # the source's points, not recomputed here
    assert play.advance() is Step.DEAL
    play.show(source.deal())
    clock.advance(10.0)
    tick = play.tick()
    assert tick is not None and tick.expired  # the round's own limit from the deal
    play.reveal(source.answer(None, play.answer(None) or 0.0))
    assert source.sent == [("cat", 2.0), (None, 10.0)]
    assert play.advance() is Step.FINISH


def test_a_round_cannot_be_shown_twice_or_revealed_unanswered() -> None:
    play, _session, _clock = _play(CLASSIC)
    with pytest.raises(RuntimeError, match="cannot be shown while shown"):
        play.show(play.source.deal())
    with pytest.raises(RuntimeError, match="cannot be revealed while shown"):
        play.reveal(play.source.answer(None, 1.0))
