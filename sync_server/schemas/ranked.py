"""Ranked session bodies: start, seed, a dealt round, an answer and its reveal, the attestation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from sync_server.schemas.common import Difficulty, Label, ModelId, PackId, StrictBody

ClientSeed = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$")]


class RankedStart(StrictBody):
    pack_id: PackId
    difficulty: Difficulty
    model_id: ModelId | None = Field(None, description="The AI opponent; a random one of the difficulty if omitted.")


class RankedSeed(StrictBody):
    client_seed: ClientSeed = Field(
        description="16–64 lowercase hex chars from the client's CSPRNG, sent after the client has seen "
        "`server_seed_hash`: the server fixed its seed before it could know this one, so neither side picks the deal."
    )


class Opponent(BaseModel):
    id: str
    title: str
    difficulty: str
    onnx_sha256: str


class RankedSessionPublic(BaseModel):
    id: str
    pack_id: str
    difficulty: str
    opponent: Opponent
    status: str = Field(description="seeding, playing, finished, abandoned, expired, held or rejected")
    review: str | None = Field(description="held, approved or rejected when the session was held for review.")
    rounds_total: int
    seconds_per_round: float
    client_seed: str | None = Field(description="Set by POST …/seed.")
    server_seed_hash: str = Field(
        description="SHA-256 of the server seed's hex string, shown before the client sends its seed."
    )
    server_seed: str | None = Field(description="Revealed when the session has ended.")
    session_commitment: str | None
    rounds_played: int
    score: int
    correct: int
    ai_correct: int
    total_time_ms: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    truths: list[str] | None = Field(
        description="The truth of every dealt round in order, once the session has ended (never before)."
    )


class RankedRound(BaseModel):
    session_id: str
    number: int
    image: str = Field(description="Base64 of the served image: this session's variant of a ranked image (PNG).")
    image_sha256: str = Field(description="SHA-256 of the served image's bytes; the AI record's `image`.")
    options: list[str]
    commitment: str = Field(description="The AI's commitment: SHA-256 of its round record (docs/design.md §5).")
    seconds: float = Field(description="Time allowed, counted by the server from `shown_at`.")
    shown_at: dt.datetime


class RankedAnswer(StrictBody):
    answer: Label | None = Field(description="One of the round's options; null when the player's time ran out.")


class AiReveal(BaseModel):
    answer: str
    confidence: int = Field(description="Per-mille probability of the AI's answer.")
    top1: str | None


class RankedReveal(BaseModel):
    """The answer's outcome without the truth: truths are shown only once the session has ended."""

    number: int
    answer: str | None
    is_correct: bool
    timed_out: bool
    elapsed_ms: int = Field(description="Measured by the server: from dealing the round to receiving the answer.")
    points: int
    ai: AiReveal
    record: dict = Field(description="The AI's full commitment record (with its salt): hash it to check.")
    commitment: str
    session: RankedSessionPublic


class RankedPack(BaseModel):
    id: str
    title: str
    classes: list[str]
    images: int
    opponents: list[Opponent]


class PublicKey(BaseModel):
    algorithm: str = Field(description="Ed25519")
    key_id: str = Field(description="First 16 hex characters of SHA-256 over the 32 raw public key bytes.")
    public_key: str = Field(description="Base64 of the 32 raw public key bytes.")


class Attestation(BaseModel):
    record: dict = Field(description="The session's record (docs/design.md §5).")
    signature: str = Field(description="Base64 Ed25519 signature of the record's canonical JSON (UTF-8).")
