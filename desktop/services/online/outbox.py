"""The outbox: finished sessions waiting to be uploaded to the player's history on the server.

`Store.finish_session` queues a session in the same transaction that stores its result, so no finished session
is ever missing from the queue. An upload is idempotent on the server (by the session's uuid), so a session that
was uploaded but not yet marked sent here (the game was killed in between) is simply sent again and answered
"already stored": nothing is lost and nothing counted twice. Failed attempts wait with exponential backoff and
jitter; the retry state is in the database, so it survives restarts.

The database side (`Outbox`) runs on the store's thread (the single writer); `send` does only network work and
may run in a worker; `drain` does both in turn for a caller that owns the store (`eyevsai sync`).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from desktop.services.online.client import ServerClient
from desktop.services.online.errors import OnlineError, ServerRefused, SignInRequired
from desktop.services.store import Store
from game_rules.scoring import to_ms
from game_rules.upload import RoundUpload, SessionUpload, upload_body

BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 30 * 60.0


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def backoff_delay(attempts: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after the `attempts`-th failure: 5 s doubling up to 30 min, the upper half jittered."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng() * ceiling / 2


class Result(StrEnum):
    sent = "sent"  # stored on the server (now, or already by an earlier attempt)
    retry = "retry"  # not this time (offline, server busy): try again after the backoff
    rejected = "rejected"  # the server refuses this session for good (shown to the player)
    sign_in = "sign_in"  # nobody is signed in, or the sign-in expired: wait for one


@dataclass(frozen=True)
class OutboxItem:
    id: int
    session_id: str
    attempts: int
    body: SessionUpload


@dataclass(frozen=True)
class UploadOutcome:
    item_id: int
    session_id: str
    result: Result
    message: str = ""
    retry_after_s: float | None = None
    already_stored: bool = False


@dataclass(frozen=True)
class SyncStatus:
    pending: int
    sent: int
    rejected: int
    next_attempt: dt.datetime | None
    last_error: str | None

    def describe(self) -> str:
        """One line for the sync indicator."""
        parts = []
        if self.pending:
            waiting = f"{self.pending} session{'s' if self.pending != 1 else ''} waiting to upload"
            if self.next_attempt is not None and self.last_error:
                waiting += f" (next try at {self.next_attempt.astimezone().strftime('%H:%M:%S')})"
            parts.append(waiting)
        if self.rejected:
            parts.append(f"{self.rejected} refused by the server")
        if not parts:
            return (
                f"All {self.sent} finished session{'s' if self.sent != 1 else ''} synced"
                if self.sent
                else "Nothing to sync yet"
            )
        return "; ".join(parts)


def _round_upload(row: dict[str, Any]) -> RoundUpload:
    record = json.loads(row["record"]) if row.get("record") else {}
    return RoundUpload(
        image_sha256=row["image"],
        options=json.loads(row["options"]),
        truth=row["truth"],
        player_answer=row["player_answer"],
        ai_answer=row["ai_answer"],
        ai_confidence=int(row["ai_confidence"]),
        ai_top1=row["ai_top1"],
        # The store keeps the whole milliseconds the round was scored with, as seconds: this gives them back.
        elapsed_ms=to_ms(max(0.0, float(row["elapsed_s"]))),
        commitment=row["commitment"],
        salt=record.get("salt"),
    )


def session_upload(
    session: dict[str, Any], rounds: list[dict[str, Any]], *, share_answers: bool = False
) -> SessionUpload:
    """The server's SessionUpload for a stored session and its rounds (rows of the game's store); `share_answers`
    is the player's opt-in to the crowd statistics, read when the session is sent."""
    return upload_body(
        client_session_id=session["id"],
        pack_id=session["pack_id"],
        difficulty=session["difficulty"],
        mode=session["mode"],
        model_id=session["model_id"],
        model_sha256=session["model_sha256"],
        started_at=session["started"],
        finished_at=session["finished"],
        session_commitment=session["session_commitment"],
        rounds=[_round_upload(row) for row in rounds],
        share_answers=share_answers,
    )


class Outbox:
    """The outbox table of the game's store. Use it on the store's thread."""

    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], dt.datetime] = utc_now,
        rng: Callable[[], float] = random.random,
        share_answers: Callable[[], bool] = lambda: False,
    ) -> None:
        """share_answers: the player's current opt-in to the crowd statistics (a setting; off by default)."""
        self.store = store
        self.share_answers = share_answers
        self.db = store.db
        self.now = now
        self.rng = rng

    def due(self, limit: int = 20) -> list[OutboxItem]:
        """Pending sessions whose next attempt is due, oldest first, with their upload bodies."""
        rows = self.db.execute(
            "SELECT id, session_id, attempts FROM outbox WHERE kind = 'session' AND state = 'pending' "
            "AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY id LIMIT ?",
            [_iso(self.now()), limit],
        ).fetchall()
        items = []
        for item_id, session_id, attempts in rows:
            body = self._body(item_id, session_id)
            if body is not None:
                items.append(OutboxItem(item_id, session_id, attempts, body))
        return items

    def _body(self, item_id: int, session_id: str) -> SessionUpload | None:
        found = list(self.db["sessions"].rows_where("id = ? AND status = 'finished'", [session_id], limit=1))
        rounds = self.store.rounds(session_id)
        if not found or not rounds:  # nothing the server could store (a blitz ended before any answer)
            with self.db.conn:
                self.db["outbox"].update(item_id, {"state": "skipped", "last_error": "no rounds played"})
            return None
        return session_upload(found[0], rounds, share_answers=self.share_answers())

    def record(self, outcome: UploadOutcome) -> None:
        """Write what an upload attempt came to."""
        now = self.now()
        values: dict[str, Any] = {"last_error": outcome.message or None}
        if outcome.result is Result.sent:
            values.update(state="sent", sent=_iso(now), last_error=None)
        elif outcome.result is Result.rejected:
            values.update(state="rejected")
        elif outcome.result is Result.retry:
            attempts = int(self.db["outbox"].get(outcome.item_id)["attempts"]) + 1
            wait = max(backoff_delay(attempts, self.rng), outcome.retry_after_s or 0.0)
            values.update(attempts=attempts, next_attempt=_iso(now + dt.timedelta(seconds=wait)))
        with self.db.conn:
            self.db["outbox"].update(outcome.item_id, values)

    def retry_now(self) -> None:
        """Make every pending session due at once (the player went online or asked to sync)."""
        with self.db.conn:
            self.db.execute("UPDATE outbox SET next_attempt = NULL WHERE state = 'pending'")

    def status(self) -> SyncStatus:
        counts = dict(
            self.db.execute("SELECT state, COUNT(*) FROM outbox WHERE kind = 'session' GROUP BY state").fetchall()
        )
        row = self.db.execute("SELECT MIN(next_attempt) FROM outbox WHERE state = 'pending'").fetchone()
        error = self.db.execute(
            "SELECT last_error FROM outbox WHERE state IN ('pending', 'rejected') AND "
            "last_error IS NOT NULL ORDER BY id DESC LIMIT 1"
        ).fetchone()
        next_attempt = dt.datetime.fromisoformat(row[0]) if row and row[0] else None
        return SyncStatus(
            pending=counts.get("pending", 0),
            sent=counts.get("sent", 0),
            rejected=counts.get("rejected", 0),
            next_attempt=next_attempt,
            last_error=error[0] if error else None,
        )


def send(client: ServerClient, item: OutboxItem) -> UploadOutcome:
    """Upload one session; network only, never raises for a server or network problem."""
    try:
        _stored, created = client.upload_session(item.body)
    except SignInRequired as exc:
        return UploadOutcome(item.id, item.session_id, Result.sign_in, str(exc))
    except ServerRefused as exc:
        # 413/422/409: this session will never be accepted as it is; keep it locally and say why.
        return UploadOutcome(item.id, item.session_id, Result.rejected, exc.detail)
    except OnlineError as exc:
        wait = getattr(exc, "retry_after_s", None)
        return UploadOutcome(item.id, item.session_id, Result.retry, str(exc), retry_after_s=wait)
    return UploadOutcome(item.id, item.session_id, Result.sent, already_stored=not created)


def drain(
    outbox: Outbox, client: ServerClient, *, limit: int = 100, on_outcome: Callable[[UploadOutcome], None] | None = None
) -> SyncStatus:
    """Upload due sessions one by one until done, or until one has to wait (offline) or needs a sign-in."""
    for item in outbox.due(limit):
        outcome = send(client, item)
        outbox.record(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
        if outcome.result in (Result.retry, Result.sign_in):
            break
    return outbox.status()
