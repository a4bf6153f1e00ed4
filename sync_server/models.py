"""SQLAlchemy 2 models: accounts, tokens (refresh and mailed), OAuth flows, ranked packs and models, sessions, boards.

The schema is created and changed only by the Alembic migrations in `sync_server/migrations`; a test checks that
the migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

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


class RateLimitCounter(Base):
    """Requests counted for one key (client IP, account, email digest) in one fixed window (see ratelimit.py)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # floor(Unix time / window length)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)  # Unix time the window ends: then deletable


class Pack(Base):
    """A pack that ranked sessions can be played on (imported by an admin with its ranked labels)."""

    __tablename__ = "packs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    classes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RankedImage(Base):
    """An image of a pack's ranked set, its label (which only the server knows) and its bytes (served as variants)."""

    __tablename__ = "ranked_images"

    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))  # None: imported before variants (re-import)


class AiModel(Base):
    """An AI opponent for ranked play: its card and ONNX file (run on every served variant) and its difficulty."""

    __tablename__ = "ai_models"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    difficulty: Mapped[str] = mapped_column(String(10))
    onnx_sha256: Mapped[str] = mapped_column(String(64))
    classes: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    card: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the model card (None: imported before 0005)
    onnx: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))


class GameSession(Base):
    """A finished offline session (uploaded, unverified) or a ranked one (dealt and scored here, verified)."""

    __tablename__ = "game_sessions"
    __table_args__ = (
        Index("ix_game_sessions_user_created", "user_id", "created_at"),
        Index("ix_game_sessions_mode_status", "mode", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pack_id: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(10))
    mode: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[str] = mapped_column(String(100))
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12))  # ranked: seeding | playing | finished; offline: finished
    ended_as: Mapped[str | None] = mapped_column(String(12))  # ranked: finished | abandoned | expired
    review: Mapped[str | None] = mapped_column(String(10))  # ranked: None | held | approved | rejected
    plausibility: Mapped[float | None] = mapped_column(Float)  # ranked: the score of docs/design.md §6
    fast_answers: Mapped[int] = mapped_column(Integer, default=0)  # ranked: answers under MIN_HUMAN_MS
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
    image_sha256: Mapped[str] = mapped_column(String(64))  # ranked: the served variant's hash
    source_sha256: Mapped[str | None] = mapped_column(String(64))  # ranked: the pack image it is a variant of
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
    are range scans of the (board_id, sort_key) index on SQLite and PostgreSQL alike. The row also carries what a
    page shows of the player and the session (copies: reads join nothing; a rename updates `display_name`).
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
    player_public_id: Mapped[str] = mapped_column(String(36))
    display_name: Mapped[str] = mapped_column(String(40))
    rounds: Mapped[int] = mapped_column(Integer)
    session_public_id: Mapped[str] = mapped_column(String(36))


class AccountToken(Base):
    """A one-time secret mailed to a player (verify an email, reset a password, confirm a deletion).

    Only the SHA-256 is kept; a token is spent by setting `used_at` and refused after `expires_at`. A
    `verify_email` row also carries the address the account asked for: the address becomes the account's sign-in
    email only when that token comes back, so asking for a taken address reveals nothing and squats nothing.
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # verify_email | reset_password | delete_account
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OAuthPendingLink(Base):
    """A provider identity waiting to be linked to the account that started the flow.

    Linking waits for the code exchange, which needs the initiating app's PKCE verifier: a link flow finished in
    someone else's browser never links that person's identity (see sync_server.oauth).
    """

    __tablename__ = "oauth_pending_links"

    flow_id: Mapped[int] = mapped_column(ForeignKey("oauth_flows.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))


class DownloadPack(Base):
    """A pack published for download (`eyevsai-server publish-pack`): what the game's "Get more packs" lists.

    Not the ranked `packs` table: a pack can be downloadable without being ranked, and the other way round.
    """

    __tablename__ = "download_packs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    licence: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(1000), default="")
    classes: Mapped[list[str]] = mapped_column(JSON)
    image_size: Mapped[list[int] | None] = mapped_column(JSON)
    images: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)  # the pack's own files
    samples: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{"sha256", "label"}]
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DownloadModel(Base):
    """A model published with its pack: the card's summary for the list (the card itself is a file)."""

    __tablename__ = "download_models"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("download_packs.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    family: Mapped[str] = mapped_column(String(50))
    variant: Mapped[str] = mapped_column(String(100), default="")
    difficulty: Mapped[str | None] = mapped_column(String(10))
    test_accuracy: Mapped[float | None] = mapped_column(Float)
    macro_f1: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    onnx_sha256: Mapped[str] = mapped_column(String(64))


class DownloadFile(Base):
    """One file of a pack's download manifest: where it installs (relative to the game's data folder) and its
    content hash, which names it in the content store."""

    __tablename__ = "download_files"

    pack_id: Mapped[str] = mapped_column(ForeignKey("download_packs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    model_id: Mapped[str | None] = mapped_column(String(100))


# Crowd statistics (sync_server.crowd): aggregates folded in as sessions end, never computed from the rounds on a
# read. `source` is "ranked" (dealt and timed here) or "offline" (opted-in uploads, unverified): never mixed.


class CrowdSeen(Base):
    """Which player's first answer to an image is already counted: one judgement per person and image."""

    __tablename__ = "crowd_seen"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class CrowdPackPlayer(Base):
    """Which players a pack's statistics count already (the pack's distinct players without a scan)."""

    __tablename__ = "crowd_pack_players"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class CrowdPack(Base):
    """A pack's totals per source."""

    __tablename__ = "crowd_packs"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    players: Mapped[int] = mapped_column(Integer, default=0)
    answers: Mapped[int] = mapped_column(Integer, default=0)  # counted judgements (time-outs included)
    correct: Mapped[int] = mapped_column(Integer, default=0)


class CrowdImage(Base):
    """One original image's counts: judgements (= distinct players), right answers, time-outs, the AI's record."""

    __tablename__ = "crowd_images"
    __table_args__ = (
        Index("ix_crowd_images_hardest", "pack_id", "source", "accuracy_ppm", "image_sha256"),
        Index("ix_crowd_images_fool", "pack_id", "source", "fool_ppm", "image_sha256"),
    )

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    players: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    ai_correct: Mapped[int] = mapped_column(Integer, default=0)  # the AI on the same rounds
    accuracy_ppm: Mapped[int | None] = mapped_column(Integer)  # gallery keys, see crowd.ranks
    fool_ppm: Mapped[int | None] = mapped_column(Integer)


class CrowdOption(Base):
    """How often a label was among an image's shown options, and how often players chose it."""

    __tablename__ = "crowd_options"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    option: Mapped[str] = mapped_column(String(100), primary_key=True)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    chosen: Mapped[int] = mapped_column(Integer, default=0)


class CrowdTime(Base):
    """A histogram of an image's answer times (bin = its lower edge in ms; see crowd.time_bin)."""

    __tablename__ = "crowd_times"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    image_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    bin_ms: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CrowdConfusion(Base):
    """A pack's human confusion matrix, one cell per row (truth × answer; time-outs not counted)."""

    __tablename__ = "crowd_confusion"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), primary_key=True)
    truth: Mapped[str] = mapped_column(String(100), primary_key=True)
    answer: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CrowdModel(Base):
    """Player and model correct or not on the same ranked rounds: the 2 × 2 table of the error consistency."""

    __tablename__ = "crowd_models"

    pack_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    both_right: Mapped[int] = mapped_column(Integer, default=0)
    human_only: Mapped[int] = mapped_column(Integer, default=0)
    model_only: Mapped[int] = mapped_column(Integer, default=0)
    both_wrong: Mapped[int] = mapped_column(Integer, default=0)
