"""The proof file of a session (docs/design.md §5): its one writer (`Proof.to_json`) and its one reader (`Proof.parse`).

A proof holds every dealt round's commitment record, the round commitments, the session commitment and what the
player answered. `eyevsai verify` re-checks it. The format is version 1 and stays byte-compatible with the
proofs the game has always exported (the same keys in the same order, indented by one space, non-ASCII labels
kept), so every proof ever exported still reads. The reader is strict: an unknown key, a missing key, a wrong
type or another version is refused with a `ProofFormatError` that says what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from game_rules.commitment import SCHEME_VERSIONS, RoundRecord
from game_rules.scoring import to_ms

PROOF_FORMAT = "eyevsai-proof"
PROOF_VERSION = 1

_PROOF_KEYS = (
    "format",
    "version",
    "session",
    "pack_id",
    "model_id",
    "mode",
    "records",
    "commitments",
    "session_commitment",
    "played",
)
_RECORD_KEYS = ("session", "round", "image", "model", "options", "answer", "confidence", "salt", "v")
_PLAYED_KEYS = ("round", "player_answer", "elapsed_s", "truth")


class ProofFormatError(ValueError):
    """The text is not a proof this version of the game can read; the message says what is wrong."""


@dataclass(frozen=True)
class PlayedAnswer:
    """What the player answered in one round (None: the time ran out), and the truth revealed after it."""

    round: int
    player_answer: str | None
    elapsed_ms: int
    truth: str


@dataclass(frozen=True)
class Proof:
    """A session's proof: the AI's committed records, their commitments and the player's answers."""

    session: str
    pack_id: str
    model_id: str
    mode: str
    records: tuple[RoundRecord, ...]
    commitments: tuple[str, ...]
    session_commitment: str
    played: tuple[PlayedAnswer, ...]

    def to_json_obj(self) -> dict[str, Any]:
        """The proof as JSON values, keys in the file's order."""
        return {
            "format": PROOF_FORMAT,
            "version": PROOF_VERSION,
            "session": self.session,
            "pack_id": self.pack_id,
            "model_id": self.model_id,
            "mode": self.mode,
            "records": [record.to_json_obj() for record in self.records],
            "commitments": list(self.commitments),
            "session_commitment": self.session_commitment,
            "played": [
                {
                    "round": p.round,
                    "player_answer": p.player_answer,
                    "elapsed_s": p.elapsed_ms / 1000,
                    "truth": p.truth,
                }
                for p in self.played
            ],
        }

    def to_json(self) -> str:
        """The text of a proof file, as the game exports it."""
        return json.dumps(self.to_json_obj(), indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def parse(cls, text: str) -> Proof:
        """Read a proof file's text.

        Raises:
            ProofFormatError: not JSON, not a proof, another version, or a malformed part (the message says which).
        """
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProofFormatError(f"not JSON ({exc})") from None
        return cls.from_json_obj(obj)

    @classmethod
    def from_json_obj(cls, obj: object) -> Proof:
        """A proof from parsed JSON values (see `parse`).

        Raises:
            ProofFormatError: as `parse`.
        """
        if not isinstance(obj, dict) or obj.get("format") != PROOF_FORMAT:
            raise ProofFormatError(f"not an EyeVsAI proof (format must be {PROOF_FORMAT!r})")
        if obj.get("version") != PROOF_VERSION:
            raise ProofFormatError(
                f"proof version {obj.get('version')!r} is not one this game reads (it reads version {PROOF_VERSION}); "
                "update the game to check newer proofs"
            )
        _exact_keys(obj, _PROOF_KEYS, "the proof")
        records = tuple(_record(item, index) for index, item in enumerate(_list(obj, "records", "the proof"), 1))
        commitments = tuple(_text(c, "a commitment") for c in _list(obj, "commitments", "the proof"))
        if len(records) != len(commitments):
            raise ProofFormatError(f"it has {len(records)} records but {len(commitments)} commitments")
        return cls(
            session=_text(obj["session"], "'session'"),
            pack_id=_text(obj["pack_id"], "'pack_id'"),
            model_id=_text(obj["model_id"], "'model_id'"),
            mode=_text(obj["mode"], "'mode'"),
            records=records,
            commitments=commitments,
            session_commitment=_text(obj["session_commitment"], "'session_commitment'"),
            played=tuple(_played(item, index) for index, item in enumerate(_list(obj, "played", "the proof"), 1)),
        )


def _exact_keys(obj: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in obj]
    unknown = sorted(k for k in obj if k not in keys)
    if missing:
        raise ProofFormatError(f"{where} lacks {', '.join(repr(k) for k in missing)}")
    if unknown:
        raise ProofFormatError(f"{where} has unknown key(s) {', '.join(repr(k) for k in unknown)}")


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj[key]
    if not isinstance(value, list):
        raise ProofFormatError(f"{where}'s {key!r} must be a list, got {type(value).__name__}")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ProofFormatError(f"{what} must be a string, got {value!r}")
    return value


def _record(item: object, index: int) -> RoundRecord:
    where = f"record {index}"
    if not isinstance(item, dict):
        raise ProofFormatError(f"{where} must be an object, got {type(item).__name__}")
    _exact_keys(item, (*_RECORD_KEYS, "rule") if item.get("v") == 2 else _RECORD_KEYS, where)  # §5: v2 adds "rule"
    if item["v"] not in SCHEME_VERSIONS:
        raise ProofFormatError(
            f"{where} uses commitment scheme {item['v']!r}; this game checks schemes {list(SCHEME_VERSIONS)}"
        )
    for key in ("session", "image", "model", "answer", "salt"):
        _text(item[key], f"{where}'s {key}")
    if not isinstance(item["options"], list) or not all(isinstance(o, str) for o in item["options"]):
        raise ProofFormatError(f"{where}'s options must be a list of strings, got {item['options']!r}")
    try:
        return RoundRecord.from_json_obj(item)
    except (TypeError, ValueError) as exc:
        raise ProofFormatError(f"{where} is malformed: {exc}") from None


def _played(item: object, index: int) -> PlayedAnswer:
    where = f"played answer {index}"
    if not isinstance(item, dict):
        raise ProofFormatError(f"{where} must be an object, got {type(item).__name__}")
    _exact_keys(item, _PLAYED_KEYS, where)
    number, answer, elapsed, truth = (item[k] for k in _PLAYED_KEYS)
    if type(number) is not int:
        raise ProofFormatError(f"{where}'s round must be an integer, got {number!r}")
    if answer is not None and not isinstance(answer, str):
        raise ProofFormatError(f"{where}'s player_answer must be a string or null, got {answer!r}")
    if isinstance(elapsed, bool) or not isinstance(elapsed, int | float) or not 0 <= elapsed < float("inf"):
        raise ProofFormatError(f"{where}'s elapsed_s must be a non-negative number of seconds, got {elapsed!r}")
    return PlayedAnswer(round=number, player_answer=answer, elapsed_ms=to_ms(elapsed), truth=_text(truth, "truth"))
