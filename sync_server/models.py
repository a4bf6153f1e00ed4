"""SQLAlchemy 2 models: accounts, tokens, OAuth flows, ranked packs and models, sessions, leaderboards.

The schema is created and changed only by the Alembic migrations in `sync_server/migrations`; a test checks that
the migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Naive datetimes are ambiguous; pass an aware UTC datetime.")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A player: email account, OAuth-only account or guest (a device account that can be upgraded)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(40))
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    identities: Mapped[list[OAuthIdentity]] = relationship(back_populates="user", cascade="all, delete-orphan")


class OAuthIdentity(Base):
    """A provider account linked to a user; found only by (provider, subject), never by email."""

    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_oauth_identities_provider_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))  # as the provider reported it; informational only
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities")


class RefreshToken(Base):
    """One refresh token (only its SHA-256 is kept); a family is one sign-in's chain of rotations."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OAuthFlow(Base):
    """One sign-in through a provider: the provider leg (state, PKCE verifier) and the client leg (loopback)."""

    __tablename__ = "oauth_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    code_verifier: Mapped[str] = mapped_column(String(128))
    client_redirect_uri: Mapped[str] = mapped_column(String(255))
    client_state: Mapped[str] = mapped_column(String(255))
    client_code_challenge: Mapped[str] = mapped_column(String(128))
    link_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    callback_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    grant_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Pack(Base):
    """A pack that ranked sessions can be played on (imported by an admin with its ranked labels)."""

    __tablename__ = "packs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    classes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RankedImage(Base):
    """An image of a pack's ranked split and its label, which only the server knows."""

    __tablename__ = "ranked_images"

    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))


class AiModel(Base):
    """An AI opponent for ranked play: its card's identity and difficulty; answers come from its predictions."""

    __tablename__ = "ai_models"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    difficulty: Mapped[str] = mapped_column(String(10))
    onnx_sha256: Mapped[str] = mapped_column(String(64))
    classes: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Prediction(Base):
    """A model's probabilities for one ranked image, in the model's class order."""

    __tablename__ = "predictions"

    model_id: Mapped[str] = mapped_column(ForeignKey("ai_models.id", ondelete="CASCADE"), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    probabilities: Mapped[list[float]] = mapped_column(JSON)


class GameSession(Base):
    """A finished offline session (uploaded, unverified) or a ranked one (dealt and scored here, verified)."""

    __tablename__ = "game_sessions"
    __table_args__ = (Index("ix_game_sessions_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[str] = mapped_column(String(100))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))  # playing | finished
    rounds_total: Mapped[int | None] = mapped_column(Integer)  # ranked: rounds to deal
    round_ms: Mapped[int | None] = mapped_column(Integer)  # ranked: time allowed per round
    score: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    ai_correct: Mapped[int] = mapped_column(Integer, default=0)
    rounds_played: Mapped[int] = mapped_column(Integer, default=0)
    total_time_ms: Mapped[int] = mapped_column(Integer, default=0)
    session_commitment: Mapped[str | None] = mapped_column(String(64))
    client_seed: Mapped[str | None] = mapped_column(String(64))
    server_seed: Mapped[str | None] = mapped_column(String(64))
    server_seed_hash: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    rounds: Mapped[list[SessionRound]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionRound.number"
    )


class SessionRound(Base):
    """One round with the AI's commitment data; for ranked rounds the server's clock readings too."""

    __tablename__ = "session_rounds"

    session_id: Mapped[int] = mapped_column(ForeignKey("game_sessions.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64))
    options: Mapped[list[str]] = mapped_column(JSON)
    truth: Mapped[str] = mapped_column(String(100))
    player_answer: Mapped[str | None] = mapped_column(String(100))
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    ai_answer: Mapped[str] = mapped_column(String(100))
    ai_confidence: Mapped[int] = mapped_column(Integer)
    ai_top1: Mapped[str | None] = mapped_column(String(100))
    commitment: Mapped[str | None] = mapped_column(String(64))
    salt: Mapped[str | None] = mapped_column(String(64))
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int | None] = mapped_column(Integer)
    shown_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    timed_out: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[GameSession] = relationship(back_populates="rounds")


class Leaderboard(Base):
    """One board (pack × difficulty × period kind × period start): its player count and a change counter.

    `version` goes up in the same transaction as every change to the board's entries, so a cached page stamped
    with the version it was read at is current exactly while the version is unchanged, on every host.
    """

    __tablename__ = "leaderboards"
    __table_args__ = (
        UniqueConstraint("pack_id", "difficulty", "period", "period_start", name="uq_leaderboards_board"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(5))
    period_start: Mapped[dt.date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class LeaderboardScoreCount(Base):
    """How many players of a board stand at each score: a rank sums the counts above, then counts the ties."""

    __tablename__ = "leaderboard_score_counts"

    board_id: Mapped[int] = mapped_column(ForeignKey("leaderboards.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, primary_key=True)
    players: Mapped[int] = mapped_column(Integer, default=0)


class LeaderboardEntry(Base):
    """A player's best verified session in one board (pack × difficulty × period kind × period start).

    `sort_key` is the board's whole order in one byte string (leaderboards.sort_key): pages, ranks and neighbours
    are range scans of the (board_id, sort_key) index on SQLite and PostgreSQL alike.
    """

    __tablename__ = "leaderboard_entries"
    __table_args__ = (Index("ix_leaderboard_entries_board_key", "board_id", "sort_key", unique=True),)

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    difficulty: Mapped[str] = mapped_column(String(10), primary_key=True)
    period: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("leaderboards.id", ondelete="CASCADE"))
    sort_key: Mapped[bytes] = mapped_column(LargeBinary)
    session_id: Mapped[int] = mapped_column(ForeignKey("game_sessions.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    accuracy_ppm: Mapped[int] = mapped_column(Integer)
    total_time_ms: Mapped[int] = mapped_column(Integer)
    achieved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
