"""A player's session history: offline sessions uploaded from the desktop (unverified) and ranked ones.

An upload is idempotent by the client's session uuid: sending the same session again (a retry after a lost
reply, an outbox replayed after a crash) returns the stored one and changes nothing. Uploaded values are bounded
and the points are recomputed here from the rounds by the game's own rules (game_rules.scoring: the same
milliseconds, the same time-out rule; game_rules.modes: the same blitz clock with its miss penalty), but an
offline session stays unverified: the server did not deal, time or watch it, so it never enters a global
leaderboard.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from game_rules.modes import MODES
from game_rules.scoring import is_timed_out, points
from sync_server import crowd
from sync_server.errors import ServiceError
from sync_server.models import GameSession, SessionRound, User
from sync_server.schemas.games import RoundUpload, SessionUpload

CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_AGE = dt.timedelta(days=366)
NOT_FOUND = ServiceError(404, "Session not found")


def upload_session(*, session: Session, user: User, body: SessionUpload, now: dt.datetime) -> tuple[GameSession, bool]:
    """Store an offline session once; returns (session, created).

    Raises:
        ServiceError: 409 when the uuid belongs to another account or to a different session; 422 for
        times in the future or too far in the past.
    """
    existing = session.scalar(select(GameSession).where(GameSession.public_id == body.client_session_id))
    if existing is not None:
        return _same_upload(existing, user, body), False
    if body.finished_at > now + CLOCK_SKEW:
        raise ServiceError(422, "finished_at is in the future; check the device's clock")
    if body.started_at < now - MAX_AGE:
        raise ServiceError(422, "Sessions older than a year are not accepted")
    game = GameSession(
        public_id=body.client_session_id,
        user_id=user.id,
        pack_id=body.pack_id,
        difficulty=body.difficulty,
        mode=body.mode,
        model_id=body.model_id,
        model_sha256=body.model_sha256,
        is_verified=False,
        status="finished",
        session_commitment=body.session_commitment,
        started_at=body.started_at,
        finished_at=body.finished_at,
        created_at=now,
        score=0,
        correct=0,
        ai_correct=0,
        total_time_ms=0,
    )
    mode = MODES[body.mode]
    clock_used_ms = 0  # the session clock (blitz): answer times plus the penalty of each wrong answer
    for number, r in enumerate(body.rounds, start=1):
        scored = _scored_round(number, r, difficulty=body.difficulty, limit_ms=mode.limit_ms(clock_used_ms))
        clock_used_ms += mode.charged_ms(
            r.elapsed_ms, missed=scored.player_answer is not None and not scored.is_correct
        )
        game.rounds.append(scored)
        game.score += scored.points
        game.correct += int(scored.is_correct)
        game.ai_correct += int(r.ai_answer == r.truth)
        game.total_time_ms += r.elapsed_ms
    game.rounds_played = len(body.rounds)
    session.add(game)
    try:
        if body.share_answers:  # in this transaction (its flush may meet the race below): undone with the session
            crowd.fold_offline(session=session, game=game, rounds=game.rounds)
        session.commit()
    except IntegrityError:  # the same upload raced this one and won: answer as a retry would be answered
        session.rollback()
        existing = session.scalar(select(GameSession).where(GameSession.public_id == body.client_session_id))
        if existing is None:
            raise
        return _same_upload(existing, user, body), False
    return game, True


def _scored_round(number: int, r: RoundUpload, *, difficulty: str, limit_ms: int | None) -> SessionRound:
    """An uploaded round scored again by the game's rules; `limit_ms` is the time the round had (see Mode.limit_ms).

    An answer the game should have refused as late counts as a time-out, as it does in the game.
    """
    timed_out = r.player_answer is None or is_timed_out(r.elapsed_ms, limit_ms)
    is_correct = not timed_out and r.player_answer == r.truth
    return SessionRound(
        number=number,
        image_sha256=r.image_sha256,
        options=list(r.options),
        truth=r.truth,
        player_answer=None if timed_out else r.player_answer,
        is_correct=is_correct,
        ai_answer=r.ai_answer,
        ai_confidence=r.ai_confidence,
        ai_top1=r.ai_top1,
        commitment=r.commitment,
        salt=r.salt,
        elapsed_ms=r.elapsed_ms,
        points=points(is_correct=is_correct, elapsed_ms=r.elapsed_ms, difficulty=difficulty),
        timed_out=timed_out,
    )


def _same_upload(existing: GameSession, user: User, body: SessionUpload) -> GameSession:
    if existing.user_id != user.id or existing.mode != body.mode or existing.pack_id != body.pack_id:
        raise ServiceError(409, "This session id is already used by another session")
    return existing


def history(*, session: Session, user: User, limit: int, before: int | None) -> tuple[list[GameSession], int | None]:
    """The user's sessions, newest first; `before` is the cursor (an internal id) from the previous page."""
    query = select(GameSession).where(GameSession.user_id == user.id)
    if before is not None:
        query = query.where(GameSession.id < before)
    games = list(session.scalars(query.order_by(GameSession.id.desc()).limit(limit + 1)))
    next_before = games[limit - 1].id if len(games) > limit else None
    return games[:limit], next_before


def session_of(*, session: Session, user: User, public_id: str) -> GameSession:
    """Raises: ServiceError 404 when the session does not exist or is someone else's."""
    game = session.scalar(select(GameSession).where(GameSession.public_id == public_id))
    if game is None or game.user_id != user.id:
        raise NOT_FOUND
    return game
