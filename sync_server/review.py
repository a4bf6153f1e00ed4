"""The operator's review of held ranked sessions (docs/design.md §6): list, show, approve (onto the boards), reject.

A session is held when it had an answer faster than a human can give or its plausibility score passed the
threshold (sync_server.plausibility). Listing first expires every overdue open session, so that abandoned play
is counted and scored before anyone looks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.errors import EyeVsAIError
from sync_server import crowd, leaderboards
from sync_server.models import GameSession, User
from sync_server.ranked_ending import APPROVED, HELD, RANKED, REJECTED, expire_overdue, rounds_of


class ReviewError(EyeVsAIError):
    """A review command about a session that does not exist or is not held."""


@dataclass(frozen=True)
class HeldSession:
    id: str
    player: str
    pack_id: str
    difficulty: str
    ended_as: str
    finished_at: dt.datetime | None
    score: int
    correct: int
    rounds: int
    fast_answers: int
    plausibility: float | None
    review: str | None


def _held(session: Session, game: GameSession) -> HeldSession:
    user = session.get(User, game.user_id)
    return HeldSession(
        game.public_id,
        f"{user.display_name} ({user.public_id})" if user else "?",
        game.pack_id,
        game.difficulty,
        game.ended_as or "",
        game.finished_at,
        game.score,
        game.correct,
        game.rounds_played,
        game.fast_answers,
        game.plausibility,
        game.review,
    )


def list_held(*, session: Session, now: dt.datetime) -> list[HeldSession]:
    """Sessions waiting for review, oldest first (overdue open sessions expire first)."""
    expire_overdue(session=session, now=now)
    query = (
        select(GameSession)
        .where(GameSession.mode == RANKED, GameSession.review == HELD)
        .order_by(GameSession.finished_at, GameSession.id)
    )
    return [_held(session, game) for game in session.scalars(query)]


def _find(session: Session, public_id: str) -> GameSession:
    game = session.scalar(select(GameSession).where(GameSession.public_id == public_id, GameSession.mode == RANKED))
    if game is None:
        raise ReviewError(f"No ranked session {public_id!r}; `eyevsai-server review list` shows the held ones.")
    return game


def show(*, session: Session, public_id: str) -> tuple[HeldSession, list[dict]]:
    """A session and its rounds (time, answer, truth, points) for the operator."""
    game = _find(session, public_id)
    rounds = [
        {
            "number": r.number,
            "elapsed_ms": r.elapsed_ms,
            "answer": r.player_answer,
            "truth": r.truth,
            "points": r.points,
            "ai_answer": r.ai_answer,
        }
        for r in rounds_of(session=session, game=game)
    ]
    return _held(session, game), rounds


def decide(*, session: Session, public_id: str, approve: bool) -> HeldSession:
    """Approve a held session (it is offered to the boards now) or reject it (it stays off them for good).

    Raises:
        ReviewError: no such session, or one that is not held.
    """
    game = _find(session, public_id)
    if game.review != HELD:
        raise ReviewError(f"Session {public_id} is not held for review (review: {game.review or 'none'}).")
    game.review = APPROVED if approve else REJECTED
    if approve:
        leaderboards.record_session(session=session, game=game)
        crowd.fold_ranked(session=session, game=game, rounds=rounds_of(session=session, game=game))
    session.commit()
    return _held(session, game)
