"""The body of an offline session upload (docs/design.md §6 and §7): what the game's outbox sends to the server.

The server validates the same body with its pydantic schema (`sync_server/schemas/games.py`); a test keeps the
keys and simple types of both in step. Times travel as integer milliseconds, capped at what the mode allows, so
the server's re-scoring (`game_rules.scoring`) sees the times the game scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from game_rules.modes import MODES, ModeName


class RoundUpload(TypedDict):
    """One round as the game played it; `player_answer` None means the time ran out."""

    image_sha256: str
    options: list[str]
    truth: str
    player_answer: str | None
    ai_answer: str
    ai_confidence: int
    ai_top1: str | None
    elapsed_ms: int
    commitment: str | None
    salt: str | None


class SessionUpload(TypedDict):
    """A finished offline session (classic or blitz); the server stores it once per `client_session_id`."""

    client_session_id: str
    pack_id: str
    difficulty: str
    mode: ModeName
    model_id: str
    model_sha256: str | None
    started_at: str  # ISO 8601 with a time zone
    finished_at: str
    session_commitment: str | None
    rounds: list[RoundUpload]
    share_answers: bool  # the player opted in to the crowd statistics (unverified, kept apart on the server)


def capped_elapsed_ms(mode: str, elapsed_ms: Sequence[int]) -> list[int]:
    """Round times capped at what the mode allows: a round's limit (classic), or what is left of the session's
    total (blitz). A timed-out round may read 15.03 s on the game's clock; the server accepts at most the limit.
    Times of a mode these rules do not know pass unchanged (the server refuses the upload)."""
    rules = MODES.get(mode)
    out, used = [], 0
    for ms in elapsed_ms:
        limit = rules.limit_ms(used) if rules is not None else None
        capped = ms if limit is None else min(ms, limit)
        used += capped
        out.append(capped)
    return out


def upload_body(
    *,
    client_session_id: str,
    pack_id: str,
    difficulty: str,
    mode: ModeName,
    model_id: str,
    model_sha256: str | None,
    started_at: str,
    finished_at: str,
    session_commitment: str | None,
    rounds: Sequence[RoundUpload],
    share_answers: bool = False,
) -> SessionUpload:
    """The upload body of a finished session, its round times capped by `capped_elapsed_ms`."""
    times = capped_elapsed_ms(mode, [r["elapsed_ms"] for r in rounds])
    return SessionUpload(
        client_session_id=client_session_id,
        pack_id=pack_id,
        difficulty=difficulty,
        mode=mode,
        model_id=model_id,
        model_sha256=model_sha256,
        started_at=started_at,
        finished_at=finished_at,
        session_commitment=session_commitment,
        rounds=[RoundUpload(**{**r, "elapsed_ms": ms}) for r, ms in zip(rounds, times, strict=True)],
        share_answers=share_answers,
    )
