"""Ranked sessions (docs/design.md §6): dealt one round at a time, timed and scored by the server.

Flow: `start_session` draws a secret server seed and shows its hash (status seeding); `seed_session` takes the
client's seed (status playing); `next_round` deals the next image and options (game_rules.ranked_deal), renders
the round's variant of the image (classifiers.variants), runs the AI on exactly those bytes and commits to its
answer (game_rules.commitment); `answer_round` measures the answer time with the server's clock and scores it by
the game's rules, revealing the AI's record but not the truth. The session ends after its last round, when
abandoned or when it expires (sync_server.ranked_ending). Data functions take `session` keyword-only and commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from classifiers.variants import render_variant
from game_rules.commitment import RoundRecord, new_salt
from game_rules.deal import ai_answer
from game_rules.modes import DEFAULT_OPTIONS
from game_rules.ranked_deal import deal_round, seed_hash, variant_for
from game_rules.scoring import BASE_POINTS, is_timed_out, points, to_ms
from sync_server import catalog
from sync_server.errors import ServiceError
from sync_server.inference import ModelRunner
from sync_server.models import AiModel, GameSession, SessionRound, User
from sync_server.plausibility import MIN_HUMAN_MS
from sync_server.ranked_ending import (
    ABANDONED,
    FINISHED,
    OPEN,
    PLAYING,
    RANKED,
    SEEDING,
    end_session,
    expire_overdue,
    rounds_of,
)

SESSION_NOT_FOUND = ServiceError(404, "Ranked session not found")


class OpenSessionError(ServiceError):
    """The account already has an open ranked session (409); `session_id` names it so the client can end it."""

    def __init__(self, session_id: str) -> None:
        super().__init__(409, "You already have an open ranked session; finish or abandon it first")
        self.session_id = session_id


@dataclass(frozen=True)
class Served:
    """A dealt round and the bytes of the image served for it (the variant, re-rendered on a repeat)."""

    round: SessionRound
    image: bytes


def start_session(
    *,
    session: Session,
    user: User,
    pack_id: str,
    difficulty: str,
    model_id: str | None,
    rounds: int,
    round_ms: int,
    now: dt.datetime,
) -> GameSession:
    """A new ranked session against `model_id` (or a random opponent of that difficulty), waiting for the client's
    seed. The account's overdue sessions expire first.

    Raises:
        ServiceError: 404 unknown pack or opponent; 409 an open session (OpenSessionError), or a pack with too few
        ranked images.
    """
    # Serialise the account's starts (PostgreSQL; SQLite already holds its write lock) so only one stays open.
    session.scalar(select(User.id).where(User.id == user.id).with_for_update())
    expire_overdue(session=session, now=now, user_id=user.id)
    open_session = session.scalar(
        select(GameSession.public_id).where(
            GameSession.user_id == user.id, GameSession.mode == RANKED, GameSession.status.in_(OPEN)
        )
    )
    if open_session is not None:
        raise OpenSessionError(open_session)
    if catalog.pack_classes(session=session, pack_id=pack_id) is None:
        raise ServiceError(404, f"Pack '{pack_id}' is not available for ranked play")
    models = catalog.active_models(session=session, pack_id=pack_id, difficulty=difficulty)
    if model_id is not None:
        models = [m for m in models if m.id == model_id]
    if not models:
        raise ServiceError(
            404, f"No {difficulty} AI opponent" + (f" '{model_id}'" if model_id else "") + f" for pack '{pack_id}'"
        )
    if catalog.ranked_image_count(session=session, pack_id=pack_id) < rounds:
        raise ServiceError(409, f"Pack '{pack_id}' has fewer than {rounds} ranked images")
    model = secrets.choice(models)
    server_seed = secrets.token_hex(32)
    game = GameSession(
        public_id=str(uuid.uuid4()),
        user_id=user.id,
        pack_id=pack_id,
        difficulty=difficulty,
        mode=RANKED,
        model_id=model.id,
        model_sha256=model.onnx_sha256,
        is_verified=True,
        status=SEEDING,
        server_seed=server_seed,
        server_seed_hash=seed_hash(server_seed),
        rounds_total=rounds,
        round_ms=round_ms,
        started_at=now,
        created_at=now,
    )
    session.add(game)
    session.commit()
    return game


def seed_session(*, session: Session, game: GameSession, client_seed: str) -> GameSession:
    """Take the client's seed, sent after it saw the server seed's hash; rounds can be dealt from now on.

    Raises:
        ServiceError: 409 when the session already has its seed or has ended.
    """
    if game.status != SEEDING:
        raise ServiceError(409, "This ranked session already has its client seed")
    game.client_seed, game.status = client_seed, PLAYING
    session.commit()
    return game


def load_session(
    *, session: Session, user: User, public_id: str, now: dt.datetime | None = None, for_update: bool = False
) -> GameSession:
    """The user's ranked session (locked for the rest of the transaction when `for_update`). With `now`, the
    user's overdue sessions expire first (pass it only in a writing request).

    Raises:
        ServiceError: 404 when it does not exist or belongs to someone else.
    """
    if now is not None:
        expire_overdue(session=session, now=now, user_id=user.id)
    query = select(GameSession).where(GameSession.public_id == public_id, GameSession.mode == RANKED)
    game = session.scalar(query.with_for_update() if for_update else query)
    if game is None or game.user_id != user.id:
        raise SESSION_NOT_FOUND
    return game


def model_of(*, session: Session, game: GameSession) -> AiModel:
    model = session.get(AiModel, game.model_id)
    if model is None or model.onnx_sha256 != game.model_sha256:  # removed or replaced by an admin mid-session
        raise ServiceError(409, "The AI opponent of this session is no longer available")
    return model


def _render(session: Session, game: GameSession, number: int, source: str) -> bytes:
    data = catalog.ranked_image_bytes(session=session, pack_id=game.pack_id, sha256=source)
    if data is None:
        raise ServiceError(409, "This pack's ranked images are not on the server; ask an admin to re-import the pack")
    return render_variant(data, variant_for(game.server_seed or "", game.client_seed or "", number))


def next_round(*, session: Session, game: GameSession, runner: ModelRunner, now: dt.datetime) -> Served:
    """Deal the next round, or return the current one again while it is unanswered (safe to retry).

    Raises:
        ServiceError: 409 when the session waits for its client seed or has ended.
    """
    if game.status == SEEDING:
        raise ServiceError(409, "Send the client seed first (POST …/seed)")
    if game.status != PLAYING:
        raise ServiceError(409, "This ranked session is finished")
    rounds = rounds_of(session=session, game=game)
    if rounds and rounds[-1].answered_at is None:
        current = rounds[-1]
        return Served(current, _render(session, game, current.number, current.source_sha256 or ""))
    number = len(rounds) + 1
    dealt = deal_round(
        server_seed=game.server_seed or "",
        client_seed=game.client_seed or "",
        number=number,
        images=catalog.ranked_images(session=session, pack_id=game.pack_id),
        shown={r.source_sha256 or r.image_sha256 for r in rounds},
        classes=catalog.pack_classes(session=session, pack_id=game.pack_id) or [],
        n_options=DEFAULT_OPTIONS,
    )
    served = _render(session, game, number, dealt.image)
    model = model_of(session=session, game=game)
    ai = ai_answer(runner.probabilities(session=session, model=model, image=served), dealt.options)
    salt = new_salt()
    record = RoundRecord(
        session=game.public_id,
        round=number,
        image=hashlib.sha256(served).hexdigest(),
        model=model.onnx_sha256,
        options=dealt.options,
        answer=ai.answer,
        confidence=ai.confidence,
        salt=salt,
    )
    current = SessionRound(
        session_id=game.id,
        number=number,
        image_sha256=record.image,
        source_sha256=dealt.image,
        options=list(dealt.options),
        truth=dealt.truth,
        ai_answer=ai.answer,
        ai_confidence=ai.confidence,
        ai_top1=ai.top1,
        commitment=record.commitment(),
        salt=salt,
        shown_at=now,
    )
    session.add(current)
    try:
        session.commit()
    except IntegrityError:  # another request dealt this round first (PostgreSQL without the row lock): use it
        session.rollback()
        current = session.get(SessionRound, (game.id, number))
        if current is None:
            raise
    return Served(current, served)


def answer_round(
    *, session: Session, game: GameSession, number: int, answer: str | None, now: dt.datetime
) -> SessionRound:
    """Score the player's answer to round `number`, timed by the server from the moment the round was dealt.

    A round answered when its time is up (`game_rules.scoring.is_timed_out`) scores 0 whatever the answer. An
    answer under MIN_HUMAN_MS earns no speed bonus and marks the session. After the last round the session ends.

    Raises:
        ServiceError: 404 no such round; 409 already answered or session ended; 422 an answer not among the
        options.
    """
    current = session.get(SessionRound, (game.id, number))
    if current is None:
        raise ServiceError(404, f"Round {number} has not been dealt")
    if current.answered_at is not None or game.status != PLAYING:
        raise ServiceError(409, f"Round {number} is already answered")
    if answer is not None and answer not in current.options:
        raise ServiceError(422, "The answer must be one of the round's options")
    shown_at = current.shown_at or now
    elapsed_ms = to_ms(max(0.0, (now - shown_at).total_seconds()))
    timed_out = is_timed_out(elapsed_ms, game.round_ms or 0)
    current.answered_at, current.timed_out = now, timed_out
    current.elapsed_ms = min(elapsed_ms, game.round_ms or elapsed_ms)
    current.player_answer = None if timed_out else answer
    current.is_correct = (not timed_out) and answer == current.truth
    is_fast = answer is not None and not timed_out and elapsed_ms < MIN_HUMAN_MS
    if is_fast:  # not a human reaction: no speed bonus, and the session is held for review at its end
        game.fast_answers += 1
        current.points = BASE_POINTS[game.difficulty] if current.is_correct else 0
    else:
        current.points = points(
            is_correct=current.is_correct, elapsed_ms=current.elapsed_ms, difficulty=game.difficulty
        )
    game.rounds_played = number
    game.score += current.points
    game.correct += int(current.is_correct)
    game.ai_correct += int(current.ai_answer == current.truth)
    game.total_time_ms += current.elapsed_ms
    if number >= (game.rounds_total or 0):
        end_session(session=session, game=game, now=now, ended_as=FINISHED)
    session.commit()
    return current


def abandon(*, session: Session, game: GameSession, now: dt.datetime) -> GameSession:
    """End an open session now; it counts as played, its missing rounds timed out.

    Raises:
        ServiceError: 409 when it has already ended.
    """
    if game.status not in OPEN:
        raise ServiceError(409, "This ranked session has already ended")
    end_session(session=session, game=game, now=now, ended_as=ABANDONED)
    session.commit()
    return game
