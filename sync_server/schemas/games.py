"""Session upload and history bodies.

`RoundUpload` and `SessionUpload` validate the body the game builds with `game_rules.upload` (same keys, same
types: a test compares them); their bounds come from `game_rules.modes`.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, model_validator

from game_rules.modes import (
    BLITZ_MAX_ROUNDS,
    BLITZ_TOTAL_MS,
    CLASSIC_ROUND_MS,
    CLASSIC_ROUNDS,
    MAX_OPTIONS,
    ModeName,
)
from sync_server.schemas.common import (
    Difficulty,
    Label,
    ModelId,
    PackId,
    Permille,
    Sha256,
    StrictBody,
    UtcDateTime,
    Uuid,
)


class RoundUpload(StrictBody):
    """One round as the desktop played it; `player_answer` null means the time ran out."""

    image_sha256: Sha256
    options: list[Label] = Field(min_length=2, max_length=MAX_OPTIONS)
    truth: Label
    player_answer: Label | None = None
    ai_answer: Label
    ai_confidence: Permille
    ai_top1: Label | None = None
    elapsed_ms: int = Field(ge=0, le=BLITZ_TOTAL_MS)
    commitment: Sha256 | None = None
    salt: Sha256 | None = None

    @model_validator(mode="after")
    def _answers_are_options(self) -> RoundUpload:
        if len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        for name in ("truth", "ai_answer", "player_answer"):
            value = getattr(self, name)
            if value is not None and value not in self.options:
                raise ValueError(f"{name} must be one of the options")
        return self


class SessionUpload(StrictBody):
    """A finished offline session (classic or blitz); idempotent by `client_session_id`."""

    client_session_id: Uuid
    pack_id: PackId
    difficulty: Difficulty
    mode: ModeName
    model_id: ModelId
    model_sha256: Sha256 | None = None
    started_at: UtcDateTime
    finished_at: UtcDateTime
    session_commitment: Sha256 | None = None
    rounds: list[RoundUpload] = Field(min_length=1, max_length=BLITZ_MAX_ROUNDS)
    share_answers: bool = Field(
        False, description="The player opted in: count these rounds in the crowd statistics (kept apart, unverified)."
    )

    @model_validator(mode="after")
    def _plausible(self) -> SessionUpload:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        if self.finished_at - self.started_at > dt.timedelta(hours=6):
            raise ValueError("a session lasts at most 6 hours")
        if self.mode == "classic":
            if len(self.rounds) > CLASSIC_ROUNDS:
                raise ValueError(f"a classic session has at most {CLASSIC_ROUNDS} rounds")
            if any(r.elapsed_ms > CLASSIC_ROUND_MS for r in self.rounds):
                raise ValueError(f"a classic round lasts at most {CLASSIC_ROUND_MS} ms")
        elif sum(r.elapsed_ms for r in self.rounds) > BLITZ_TOTAL_MS:
            raise ValueError(f"a blitz session lasts at most {BLITZ_TOTAL_MS} ms in all")
        if len({r.image_sha256 for r in self.rounds}) != len(self.rounds):
            raise ValueError("an image is shown at most once per session")
        return self


class SessionPublic(BaseModel):
    id: str = Field(description="The session's uuid (the client's, for uploads).")
    mode: str
    pack_id: str
    difficulty: str
    model_id: str
    is_verified: bool = Field(description="True for ranked sessions, dealt and timed by the server.")
    status: str
    score: int
    correct: int
    ai_correct: int
    rounds_played: int
    total_time_ms: int
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RoundPublic(BaseModel):
    number: int
    image_sha256: str
    options: list[str]
    truth: str | None = Field(description="Hidden (null) for a ranked round not yet answered.")
    player_answer: str | None
    is_correct: bool | None
    ai_answer: str | None
    ai_confidence: int | None
    commitment: str | None
    salt: str | None
    elapsed_ms: int | None
    points: int | None


class SessionDetail(SessionPublic):
    session_commitment: str | None
    rounds: list[RoundPublic]


class SessionPage(BaseModel):
    items: list[SessionPublic]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end.")
