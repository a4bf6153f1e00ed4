"""The server-attested ranked session record (docs/design.md §5 and §6): its shape, its canonical bytes, its key id.

At the end of a ranked session the server signs one record of the whole session with Ed25519; the game keeps the
record and its signature, and `eyevsai verify` checks them. The signed message is `record_bytes(record)`: the
record's canonical JSON (game_rules.commitment.canonical_json) as UTF-8. Standard library only: checking the
signature itself needs `cryptography` and lives in `classifiers.attestation`.

Record (version 1)::

    {"v": 1, "kind": "eyevsai-ranked-session", "session": <uuid>, "player": <public user id>,
     "pack": <pack id>, "model": <onnx sha256>, "difficulty": "easy"|"medium"|"hard",
     "server_seed": <64 hex>, "server_seed_hash": <64 hex>, "client_seed": <16-64 hex>,
     "started_at": <ISO 8601 UTC>, "finished_at": <ISO 8601 UTC>,
     "status": "finished"|"abandoned"|"expired",
     "rounds": [{"number": n, "image": <served variant sha256>, "options": [...], "answer": <label>|null,
                 "elapsed_ms": int, "points": int, "truth": <label>, "commitment": <64 hex>,
                 "ai_record": <the AI's full round record, §5>}, ...],
     "score": int, "correct": int, "ai_correct": int}
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from game_rules.commitment import RoundRecord, canonical_json, verify_round

RECORD_VERSION = 1
RECORD_KIND = "eyevsai-ranked-session"
ALGORITHM = "Ed25519"
END_STATUSES = ("finished", "abandoned", "expired")
RECORD_KEYS = frozenset(
    {
        "v",
        "kind",
        "session",
        "player",
        "pack",
        "model",
        "difficulty",
        "server_seed",
        "server_seed_hash",
        "client_seed",
        "started_at",
        "finished_at",
        "status",
        "rounds",
        "score",
        "correct",
        "ai_correct",
    }
)
ROUND_KEYS = frozenset(
    {"number", "image", "options", "answer", "elapsed_ms", "points", "truth", "commitment", "ai_record"}
)


def timestamp(moment: dt.datetime) -> str:
    """A record's time: ISO 8601 in UTC with milliseconds, e.g. 2026-11-18T12:00:00.000+00:00."""
    if moment.tzinfo is None:
        raise ValueError("Naive datetimes are ambiguous; pass an aware UTC datetime.")
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def record_bytes(record: Mapping[str, Any]) -> bytes:
    """The signed message: the record's canonical JSON as UTF-8."""
    return canonical_json(record).encode("utf-8")


def key_id(public_key: bytes) -> str:
    """A public key's short id: the first 16 hex characters of SHA-256 over its 32 raw bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def round_entry(
    *,
    ai_record: RoundRecord,
    answer: str | None,
    elapsed_ms: int,
    points: int,
    truth: str,
    commitment: str,
) -> dict[str, Any]:
    """One round of the record; the image, options and number are the AI record's (one source for both)."""
    return {
        "number": ai_record.round,
        "image": ai_record.image,
        "options": list(ai_record.options),
        "answer": answer,
        "elapsed_ms": elapsed_ms,
        "points": points,
        "truth": truth,
        "commitment": commitment,
        "ai_record": ai_record.to_json_obj(),
    }


def session_record(
    *,
    session: str,
    player: str,
    pack: str,
    model: str,
    difficulty: str,
    server_seed: str,
    server_seed_hash: str,
    client_seed: str,
    started_at: dt.datetime,
    finished_at: dt.datetime,
    status: str,
    rounds: Sequence[dict[str, Any]],
    score: int,
    correct: int,
    ai_correct: int,
) -> dict[str, Any]:
    """The record the server signs (see the module docstring).

    Raises:
        ValueError: an unknown end status.
    """
    if status not in END_STATUSES:
        raise ValueError(f"A ranked record's status is one of {list(END_STATUSES)}, got {status!r}.")
    return {
        "v": RECORD_VERSION,
        "kind": RECORD_KIND,
        "session": session,
        "player": player,
        "pack": pack,
        "model": model,
        "difficulty": difficulty,
        "server_seed": server_seed,
        "server_seed_hash": server_seed_hash,
        "client_seed": client_seed,
        "started_at": timestamp(started_at),
        "finished_at": timestamp(finished_at),
        "status": status,
        "rounds": [dict(r) for r in rounds],
        "score": score,
        "correct": correct,
        "ai_correct": ai_correct,
    }


def record_problems(record: Any) -> list[str]:
    """What is wrong with a record's shape and internal consistency; empty when it is well formed.

    Checks the exact key sets, `v` and `kind`, rounds numbered 1..n, each AI record hashing to its commitment and
    naming this session, this model and the round's image and options, and the totals adding up. It does not
    check the signature (classifiers.attestation) or the deal (game_rules.ranked_deal).
    """
    if not isinstance(record, dict):
        return ["the record is not a JSON object"]
    problems = []
    if set(record) != RECORD_KEYS:
        extra, missing = sorted(set(record) - RECORD_KEYS), sorted(RECORD_KEYS - set(record))
        return [f"the record's keys differ from version {RECORD_VERSION} (extra {extra}, missing {missing})"]
    if record["v"] != RECORD_VERSION or type(record["v"]) is not int or record["kind"] != RECORD_KIND:
        return [f"the record is not an {RECORD_KIND} record of version {RECORD_VERSION}"]
    if record["status"] not in END_STATUSES:
        problems.append(f"unknown status {record['status']!r}")
    rounds = record["rounds"]
    if not isinstance(rounds, list):
        return [*problems, "rounds is not a list"]
    for index, entry in enumerate(rounds, start=1):
        problems += _round_problems(record, index, entry)
    if not problems:
        problems += _total_problems(record)
    return problems


def _round_problems(record: dict[str, Any], index: int, entry: Any) -> list[str]:
    if not isinstance(entry, dict) or set(entry) != ROUND_KEYS:
        return [f"round {index}: its keys are not {sorted(ROUND_KEYS)}"]
    if entry["number"] != index or type(entry["number"]) is not int:
        return [f"round {index}: numbered {entry['number']!r}"]
    try:
        ai = RoundRecord.from_json_obj(entry["ai_record"])
    except (KeyError, TypeError, ValueError) as exc:
        return [f"round {index}: the AI record cannot be read ({exc})"]
    problems = []
    if set(entry["ai_record"]) != set(ai.to_json_obj()) or entry["ai_record"].get("v") != ai.v:
        problems.append(f"round {index}: the AI record has other keys than a version-{ai.v} record")
    if not verify_round(ai, str(entry["commitment"])):
        problems.append(f"round {index}: the AI record does not hash to its commitment")
    shown = (ai.session, ai.round, ai.model, ai.image, list(ai.options))
    if shown != (record["session"], index, record["model"], entry["image"], entry["options"]):
        problems.append(f"round {index}: the AI record names another session, round, model, image or options")
    answer = entry["answer"]
    if entry["truth"] not in entry["options"] or (answer is not None and answer not in entry["options"]):
        problems.append(f"round {index}: the truth or the answer is not one of the options")
    return problems


def _total_problems(record: dict[str, Any]) -> list[str]:
    rounds = record["rounds"]
    totals = (
        sum(r["points"] for r in rounds),
        sum(r["answer"] == r["truth"] for r in rounds),
        sum(r["ai_record"]["answer"] == r["truth"] for r in rounds),
    )
    if totals != (record["score"], record["correct"], record["ai_correct"]):
        return [f"the totals {totals} are not the record's score, correct and ai_correct"]
    if len({r["image"] for r in rounds}) != len(rounds):
        return ["an image is served twice"]
    return []
