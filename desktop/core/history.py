"""A played session as history reads it: the summary and rounds the stats, achievements and share text work on.

Pure data: the store builds these from its rows (`desktop.services.progress`), a finished `GameSession` converts
directly, and tests write them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from desktop.core.session import GameSession


@dataclass(frozen=True)
class RoundRecap:
    """One played round: the truth, both answers (None: the player ran out of time) and the player's time."""

    number: int
    image: str
    truth: str
    player_answer: str | None
    ai_answer: str
    elapsed_ms: int
    points: int

    @property
    def player_correct(self) -> bool:
        return self.player_answer == self.truth

    @property
    def ai_correct(self) -> bool:
        return self.ai_answer == self.truth


@dataclass(frozen=True)
class SessionRecap:
    """A finished session. `started` is an ISO-8601 UTC timestamp; `daily` the challenge's day, if it was one."""

    session_id: str
    pack_id: str
    model_id: str
    difficulty: str
    mode: str
    started: str
    rounds: tuple[RoundRecap, ...]
    daily: date | None = None

    @property
    def player_points(self) -> int:
        return sum(r.points for r in self.rounds)

    @property
    def player_correct(self) -> int:
        return sum(r.player_correct for r in self.rounds)

    @property
    def ai_correct(self) -> int:
        return sum(r.ai_correct for r in self.rounds)

    @property
    def winner(self) -> str:
        """'player', 'ai' or 'draw', by correct answers (docs/design.md §4)."""
        if self.player_correct == self.ai_correct:
            return "draw"
        return "player" if self.player_correct > self.ai_correct else "ai"


def recap_of(session: GameSession, *, started: str, daily: date | None = None) -> SessionRecap:
    """The recap of a session just played (its played rounds only)."""
    rounds = tuple(
        RoundRecap(r.number, r.image, r.truth, r.player_answer, r.ai.answer, r.elapsed_ms, r.points)
        for r in session.results
    )
    return SessionRecap(
        session.session_id,
        session.pack_id,
        session.opponent.model_id,
        session.opponent.difficulty,
        session.mode.name,
        started,
        rounds,
        daily,
    )
