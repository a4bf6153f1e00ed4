"""The round loop of every mode (classic, blitz, ranked) as a state machine. Pure: no Qt, no I/O.

    DEALING → SHOWN → ANSWERED (an answer, or the time ran out) → REVEALED → DEALING … → FINISHED

The machine only keeps the phase and the clocks, read from an injected monotonic clock. The rules decide
everything else: whether an answer counts and how many points it earns (`GameSession.answer` for classic and
blitz, the server for ranked). Where rounds come from and where answers go is a `RoundSource`: the local
`GameSession` (`LocalRounds`) or the server's ranked protocol. A source's calls may block (ranked goes over the
network), so the GUI controller makes them and tells the machine their outcome (`show`, `reveal`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from desktop.core.session import GameSession, RoundResult

Clock = Callable[[], float]

# How long blitz shows a result before the next round: a glance after a right answer; after a miss or a time-out
# long enough to read the truth and the AI's answer.
HIT_REVEAL_S = 0.7
MISS_REVEAL_S = 2.5


@dataclass(frozen=True)
class ShownRound:
    """A dealt round as the player sees it: no truth, just the image, the options and the AI's commitment."""

    number: int
    image: str  # sha256
    options: tuple[str, ...]
    commitment: str
    title: str  # "Round 3/10 · Opponent"
    seconds: float | None  # the round's time limit; None when only the session is timed (blitz)
    image_bytes: bytes = field(default=b"", repr=False, compare=False)  # empty: the image cannot be shown


@dataclass(frozen=True)
class Score:
    """The running totals shown above the round."""

    points: int
    player_correct: int
    ai_correct: int
    played: int

    @classmethod
    def of(cls, results: Sequence[RoundResult]) -> Score:
        return cls(
            sum(r.points for r in results),
            sum(r.player_correct for r in results),
            sum(r.ai_correct for r in results),
            len(results),
        )


class RoundSource(Protocol):
    """Where rounds come from and where answers go. `deal` and `answer` may block (the server)."""

    @property
    def session_seconds(self) -> float | None:
        """The whole session's time limit (blitz), else None."""

    @property
    def session_seconds_left(self) -> float:
        """What is left of the session's clock after the rounds played; read only when `session_seconds` is set."""

    @property
    def has_next_round(self) -> bool: ...

    @property
    def results(self) -> Sequence[RoundResult]: ...

    def deal(self) -> ShownRound:
        """The next round to show, with its image's bytes."""

    def answer(self, choice: str | None, elapsed_s: float) -> RoundResult:
        """Score the shown round (choice None: the time ran out) and reveal the AI's answer."""


class LocalRounds:
    """Classic and blitz: rounds from a local GameSession, whose rules score the answers."""

    def __init__(self, session: GameSession, read_image: Callable[[str], bytes]) -> None:
        """read_image(sha256) gives an image's bytes (empty when the pack cannot)."""
        self.session = session
        self.read_image = read_image

    @property
    def session_seconds(self) -> float | None:
        return self.session.mode.total_seconds if self.session.mode.is_blitz else None

    @property
    def session_seconds_left(self) -> float:
        total_ms = self.session.mode.total_ms or 0
        return max(0, total_ms - self.session.clock_used_ms) / 1000

    @property
    def has_next_round(self) -> bool:
        return self.session.has_next_round

    @property
    def results(self) -> Sequence[RoundResult]:
        return self.session.results

    def deal(self) -> ShownRound:
        session = self.session
        dealt = session.current_round()
        # Blitz deals more rounds than anyone plays: the count that matters is the rounds played so far.
        count = f" · {len(session.results)} played" if session.mode.is_blitz else f"/{len(session.rounds)}"
        return ShownRound(
            dealt.number,
            dealt.image,
            dealt.options,
            session.current_commitment(),
            f"Round {dealt.number}{count} · {session.opponent.title}",
            session.mode.seconds_per_round,
            self.read_image(dealt.image),
        )

    def answer(self, choice: str | None, elapsed_s: float) -> RoundResult:
        return self.session.answer(choice, elapsed_s)


class Phase(Enum):
    DEALING = "dealing"  # waiting for the source's next round
    SHOWN = "shown"  # on screen, the round's clock runs, an answer is accepted
    ANSWERED = "answered"  # answered or timed out; waiting for the source's reveal
    REVEALED = "revealed"  # the result is shown; waiting for "next"
    FINISHED = "finished"


class Step(Enum):
    """What `advance` asks the caller to do next."""

    NONE = "none"
    DEAL = "deal"
    FINISH = "finish"


@dataclass(frozen=True)
class Tick:
    """The clock to show: remaining and total seconds; `expired` once it ran out (`of_session`: the blitz clock)."""

    remaining_s: float
    limit_s: float
    expired: bool
    of_session: bool


class RoundPlay:
    """One session's round loop. Call `show` with each dealt round, `answer` for the player's choice, `reveal`
    with the source's result and `advance` for the next step; `tick` reads the clock."""

    def __init__(self, source: RoundSource, *, clock: Clock = time.monotonic) -> None:
        self.source = source
        self.clock = clock
        self.phase = Phase.DEALING
        self.current: ShownRound | None = None
        self.last_result: RoundResult | None = None
        self._shown_at = clock()

    @property
    def score(self) -> Score:
        return Score.of(self.source.results)

    @property
    def is_last(self) -> bool:
        return not self.source.has_next_round

    @property
    def auto_advances(self) -> bool:
        """Blitz moves on by itself after a look at the reveal (`reveal_seconds`), to the end after the last round."""
        return self.source.session_seconds is not None

    def reveal_seconds(self) -> float | None:
        """How long the revealed result stays before blitz moves on (None: the player moves on). A miss or a
        time-out shows the truth long enough to read it; the session clock stands still meanwhile."""
        if not self.auto_advances or self.last_result is None:
            return None
        return HIT_REVEAL_S if self.last_result.player_correct else MISS_REVEAL_S

    def show(self, shown: ShownRound) -> None:
        """The round is on screen: its clock starts now."""
        if self.phase is not Phase.DEALING:
            raise RuntimeError(f"A round cannot be shown while {self.phase.value}.")
        self.current, self.phase = shown, Phase.SHOWN
        self._shown_at = self.clock()

    def elapsed(self) -> float:
        """Seconds since the current round was shown."""
        return self.clock() - self._shown_at

    def tick(self) -> Tick | None:
        """The clock that runs now (the session's in blitz, else the shown round's); None when none runs."""
        if self.phase is Phase.FINISHED:
            return None
        total = self.source.session_seconds
        if total is not None:
            # The session clock runs only while a round is shown: the reveal and the dealing do not use it.
            running = self.elapsed() if self.phase is Phase.SHOWN else 0.0
            return self._tick(self.source.session_seconds_left - running, total, of_session=True)
        if self.phase is not Phase.SHOWN or self.current is None or self.current.seconds is None:
            return None
        return self._tick(self.current.seconds - self.elapsed(), self.current.seconds, of_session=False)

    @staticmethod
    def _tick(remaining: float, limit: float, *, of_session: bool) -> Tick:
        # The one time-limit comparison outside the rules: it only decides when to stop waiting for the player.
        # Whether a late answer still counts is the rules' call (GameSession.answer compares elapsed to the limit;
        # the server times ranked answers itself).
        return Tick(remaining, limit, expired=remaining <= 0, of_session=of_session)

    def answer(self, choice: str | None) -> float | None:
        """Take the player's answer (None: the time ran out); return the elapsed seconds to hand to the source, or
        None when no answer is accepted now (one answer per round)."""
        if self.phase is not Phase.SHOWN:
            return None
        self.phase = Phase.ANSWERED
        return self.elapsed()

    def reveal(self, result: RoundResult) -> None:
        """The source scored the answer."""
        if self.phase is not Phase.ANSWERED:
            raise RuntimeError(f"A result cannot be revealed while {self.phase.value}.")
        self.last_result, self.phase = result, Phase.REVEALED

    def advance(self) -> Step:
        """After the reveal: deal the next round, or finish after the last; anything else is ignored."""
        if self.phase is not Phase.REVEALED:
            return Step.NONE
        if self.source.has_next_round:
            self.phase = Phase.DEALING
            return Step.DEAL
        self.phase = Phase.FINISHED
        return Step.FINISH
