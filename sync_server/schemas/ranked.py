"""Ranked session bodies: start, a dealt round, an answer and its reveal."""

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
    client_seed: ClientSeed = Field(
        description="16–64 lowercase hex chars from the client's CSPRNG; mixed into "
        "every deal so that the server cannot pick the seed alone."
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
    status: str = Field(description="playing or finished")
    rounds_total: int
    seconds_per_round: float
    client_seed: str
    server_seed_hash: str = Field(description="SHA-256 of the server seed's hex string, shown before any deal.")
    server_seed: str | None = Field(description="Revealed when the session is finished.")
    session_commitment: str | None
    rounds_played: int
    score: int
    correct: int
    ai_correct: int
    total_time_ms: int
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RankedRound(BaseModel):
    session_id: str
    number: int
    image_sha256: str = Field(description="The image to show, from the client's copy of the pack's ranked split.")
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
    is_correct: bool


class RankedReveal(BaseModel):
    number: int
    truth: str
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
