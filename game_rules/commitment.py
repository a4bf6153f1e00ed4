"""The AI commitment scheme (docs/design.md §5), shared by the game, `eyevsai verify` and the server.

A round's record is hashed before the player answers; revealing the record (with its salt) later lets anyone
re-compute the hash and see that the AI's answer was fixed in advance.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from game_rules.answer_rules import OPTIONS, answer_rule

# Version 1: the AI answers among the options from the image itself (no "rule" key). Version 2 adds the "rule" key:
# the AI's answer rule by name (game_rules.answer_rules), whose handicap may let it answer outside the options.
# A record by the full rule is still written as version 1, byte for byte as before.
SCHEME_VERSION = 2
SCHEME_VERSIONS = (1, 2)
SALT_HEX_CHARS = 64


def canonical_json(obj: object) -> str:
    """UTF-8-ready canonical JSON: keys sorted, no insignificant whitespace, non-ASCII kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_salt() -> str:
    """64 hex characters from the OS CSPRNG."""
    return secrets.token_hex(SALT_HEX_CHARS // 2)


def quantise_confidence(probability: float) -> int:
    """Per-mille confidence, so results that differ slightly between execution providers commit equally."""
    return max(0, min(1000, round(float(probability) * 1000)))


@dataclass(frozen=True)
class RoundRecord:
    """Everything the AI commits to for one round."""

    session: str
    round: int
    image: str
    model: str
    options: tuple[str, ...]
    answer: str
    confidence: int
    salt: str
    rule: str = OPTIONS.name
    v: int = 0  # 0: the lowest version that can hold the rule (1 for the full rule, else 2)

    def __post_init__(self) -> None:
        if self.v == 0:
            object.__setattr__(self, "v", 1 if self.rule == OPTIONS.name else SCHEME_VERSION)
        if self.v not in SCHEME_VERSIONS:
            raise ValueError(f"Commitment scheme {self.v!r} is not one this game knows {SCHEME_VERSIONS}.")
        if self.v == 1 and self.rule != OPTIONS.name:
            raise ValueError(f"A version 1 record has no answer rule, but this one names {self.rule!r}.")
        if answer_rule(self.rule).sees_options and self.answer not in self.options:
            raise ValueError(f"The AI's answer {self.answer!r} is not among the shown options {self.options}.")
        # A float (873.0) would hash differently from 873, and NumPy integers cannot be written as JSON.
        for name in ("round", "confidence"):
            value = getattr(self, name)
            if type(value) is not int:
                raise ValueError(f"{name} must be a plain integer, got {value!r} ({type(value).__name__}).")
        if not 0 <= self.confidence <= 1000:
            raise ValueError(f"Confidence must be per-mille (0..1000), got {self.confidence}.")
        if len(self.salt) != SALT_HEX_CHARS or any(c not in "0123456789abcdef" for c in self.salt):
            raise ValueError("The salt must be 64 lowercase hex characters.")

    def to_json_obj(self) -> dict:
        """The record as hashed: version 1 records keep their original keys (no "rule")."""
        obj = {
            "session": self.session,
            "round": self.round,
            "image": self.image,
            "model": self.model,
            "options": list(self.options),
            "answer": self.answer,
            "confidence": self.confidence,
            "salt": self.salt,
            "v": self.v,
        }
        if self.v >= 2:
            obj["rule"] = self.rule
        return obj

    @classmethod
    def from_json_obj(cls, obj: dict) -> RoundRecord:
        fields = {k: obj[k] for k in ("session", "round", "image", "model", "answer", "confidence", "salt")}
        return cls(options=tuple(obj["options"]), v=obj.get("v", 1), rule=obj.get("rule", OPTIONS.name), **fields)

    def commitment(self) -> str:
        """SHA-256 (hex) of the record's canonical JSON."""
        return sha256_hex(canonical_json(self.to_json_obj()))


def session_commitment(round_commitments: Sequence[str]) -> str:
    """SHA-256 of the round commitments' hex strings joined by newlines, in round order."""
    return sha256_hex("\n".join(round_commitments))


def verify_round(record: RoundRecord, commitment: str) -> bool:
    """True when the revealed record hashes to the shown commitment (constant-time compare)."""
    return hmac.compare_digest(record.commitment(), commitment.lower())


def verify_session(commitments: Iterable[str], expected: str) -> bool:
    return hmac.compare_digest(session_commitment(list(commitments)), expected.lower())
