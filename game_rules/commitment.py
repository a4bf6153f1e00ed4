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
from dataclasses import asdict, dataclass

SCHEME_VERSION = 1
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
    v: int = SCHEME_VERSION

    def __post_init__(self) -> None:
        if self.answer not in self.options:
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
        obj = asdict(self)
        obj["options"] = list(self.options)
        return obj

    @classmethod
    def from_json_obj(cls, obj: dict) -> RoundRecord:
        fields = {k: obj[k] for k in ("session", "round", "image", "model", "answer", "confidence", "salt")}
        return cls(options=tuple(obj["options"]), v=obj.get("v", SCHEME_VERSION), **fields)

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
