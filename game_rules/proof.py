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
from game_rules.modes import BLITZ_MAX_ROUNDS, MODES
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


def session_problems(proof: Proof) -> list[str]:
    """What makes `proof` something other than one whole session of its mode (docs/design.md §5).

    The hashes can be self-consistent and the proof still a forgery: records spliced from two sessions, a round
    dropped and the session commitment recomputed, an image dealt twice. These are the rules every session the
    game deals keeps; a proof that breaks one is refused. Pack and model membership need the installed content
    and are checked by `desktop.verify`.

    Returns:
        One sentence per broken rule, in the order they are checked; empty when the proof is one whole session.
    """
    mode = MODES.get(proof.mode)
    if mode is None:
        return [f"its mode {proof.mode!r} is not one the game exports proofs of ({', '.join(MODES)})"]
    records = proof.records
    if not records:
        return ["it holds no rounds"]
    problems = _identity_problems(proof)
    numbers = [r.round for r in records]
    if numbers != list(range(1, len(records) + 1)):
        problems.append(
            f"its rounds are numbered {_short_list(numbers)} instead of 1..{len(records)} "
            "(a round is missing, repeated or moved)"
        )
    problems.extend(_duplicate_images(records))
    problems.extend(f"round {r.round} shows an option twice" for r in records if len(set(r.options)) < len(r.options))
    if mode.rounds is not None and len(records) != mode.rounds:
        problems.append(f"a {mode.name} session deals {mode.rounds} rounds, this proof holds {len(records)}")
    if mode.rounds is None and len(records) > BLITZ_MAX_ROUNDS:
        problems.append(f"a blitz session deals at most {BLITZ_MAX_ROUNDS} rounds, this proof holds {len(records)}")
    problems.extend(_played_problems(proof, whole=mode.rounds is not None))
    return problems


def _identity_problems(proof: Proof) -> list[str]:
    """One session id (the proof's own) and one model in every record."""
    problems = []
    sessions = sorted({r.session for r in proof.records})
    if len(sessions) > 1:
        problems.append(f"its records name {len(sessions)} different session ids (rounds spliced from other sessions)")
    elif sessions != [proof.session]:
        problems.append(f"its session id {proof.session!r} is not the one its records commit to ({sessions[0]!r})")
    models = sorted({r.model for r in proof.records})
    if len(models) > 1:
        problems.append(f"its records name {len(models)} different models")
    return problems


def _duplicate_images(records: tuple[RoundRecord, ...]) -> list[str]:
    first: dict[str, int] = {}
    problems = []
    for record in records:
        if record.image in first:
            problems.append(
                f"image {record.image[:12]}… is dealt in rounds {first[record.image]} and {record.round}; "
                "a session never shows an image twice"
            )
        first.setdefault(record.image, record.round)
    return problems


def _played_problems(proof: Proof, *, whole: bool) -> list[str]:
    """The player's answers: rounds 1..k of the dealt ones (all of them when `whole`), each among the options."""
    numbers = [p.round for p in proof.played]
    dealt = len(proof.records)
    if numbers != list(range(1, len(numbers) + 1)) or len(numbers) > dealt:
        return [f"its played answers are for rounds {_short_list(numbers)}, not rounds 1..k of the {dealt} dealt"]
    if whole and len(numbers) != dealt:
        return [f"it answers {len(numbers)} of its {dealt} rounds; a finished {proof.mode} session answers all"]
    problems = []
    for played, record in zip(proof.played, proof.records, strict=False):
        if played.truth not in record.options or (
            played.player_answer is not None and played.player_answer not in record.options
        ):
            problems.append(f"round {played.round}'s truth or answer is not among the options it showed")
    return problems


def _short_list(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:12]))
    return shown + (", …" if len(numbers) > 12 else "") if numbers else "(none)"
