"""`eyevsai verify`: what a proof file proves, checked against the installed pack and model (docs/design.md §5).

An offline proof (`game_rules.proof`) proves that the AI's answers were fixed before the player answered, for one
whole session of its mode: one session id, the card's model, rounds 1..n, distinct images of the pack's test
split. The player's own answers and times are self-reported and the output says so. A ranked session is proven by
the record the server signed (`eyevsai-ranked-session`), checked against the server's Ed25519 public key.

Exit codes: 0 verified; 1 refused (the proof claims something its content or the installed pack and model
contradict); 2 cannot be checked (not a proof, or a pack, model or image this installation does not have).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.attestation import verify_attestation
from classifiers.errors import EyeVsAIError
from classifiers.pack import SPLITS, Pack
from desktop.services.catalog import Catalog, OpponentEntry
from desktop.services.online.settings import read_settings
from desktop.services.opponent import load_opponent
from game_rules.answer_rules import answer_rule
from game_rules.attestation import record_problems as attestation_problems
from game_rules.commitment import RoundRecord, session_commitment, verify_round
from game_rules.deal import ai_answer
from game_rules.proof import Proof, ProofFormatError, session_problems

CONFIDENCE_TOLERANCE = 2  # per-mille: execution providers differ slightly
EXIT_VERIFIED, EXIT_REFUSED, EXIT_UNCHECKABLE = 0, 1, 2
RANKED_KIND = "eyevsai-ranked-session"  # the `kind` of the server-signed record (docs/design.md §6)
_SIGNED_KEYS = ("record", "signature")
# The online settings' pins (desktop.services.online.connection): {server URL: {"key_id", "public_key" (base64)}}.
PINNED_KEYS_SETTING = "ranked_keys"

Rerun = Callable[[list[RoundRecord]], dict[str, dict[str, float]]]
Output = Callable[[str], None]


class ProofError(EyeVsAIError):
    """The proof cannot be checked here: no such file, not a proof, or content this installation lacks."""


@dataclass(frozen=True)
class RoundCheck:
    number: int
    hash_ok: bool
    rerun_ok: bool | None  # None: not re-run
    note: str


@dataclass(frozen=True)
class SignedSession:
    """A ranked session's record as the server signed it, and the Ed25519 signature over its canonical JSON."""

    record: dict[str, Any]
    signature: bytes


def write_proof(path: Path, proof: Proof) -> None:
    """Write `proof` to `path` as `eyevsai verify` reads it.

    Raises:
        ProofError: the file cannot be written (the message names it).
    """
    try:
        path.write_text(proof.to_json(), encoding="utf-8")
    except OSError as exc:
        raise ProofError(
            f"The proof could not be saved to {path} ({exc.strerror or exc}). Choose another folder."
        ) from exc


def read_evidence(path: Path) -> Proof | SignedSession:
    """The offline proof or the server-signed ranked record in the file at `path` (told apart by their content).

    Raises:
        ProofError: no such file, unreadable, not JSON, or neither kind of proof (the message says why).
    """
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProofError(f"No proof file at {path}.") from None
    except UnicodeDecodeError:
        raise ProofError(f"{path} is not a proof: it is binary, not JSON text.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProofError(f"{path} is not a proof: it is not JSON ({str(exc) or 'nested too deeply'}).") from None
    except OSError as exc:
        raise ProofError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    if isinstance(obj, dict) and isinstance(obj.get("record"), dict) and obj["record"].get("kind") == RANKED_KIND:
        return _signed_session(obj, path)
    try:
        return Proof.from_json_obj(obj)
    except ProofFormatError as exc:
        raise ProofError(f"{path} cannot be checked: {exc}.") from None


def read_proof(path: Path) -> Proof:
    """The offline proof in the file at `path`.

    Raises:
        ProofError: as `read_evidence`, or the file is a signed ranked record.
    """
    evidence = read_evidence(path)
    if not isinstance(evidence, Proof):
        raise ProofError(f"{path} is a signed ranked record, not an offline proof.")
    return evidence


def _signed_session(obj: dict[str, Any], path: Path) -> SignedSession:
    unknown = sorted(set(obj) - {*_SIGNED_KEYS, "key_id"})
    if unknown or not isinstance(obj.get("signature"), str):
        raise ProofError(f"{path} cannot be checked: a signed ranked record holds 'record' and 'signature' only.")
    try:
        signature = base64.b64decode(obj["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise ProofError(f"{path} cannot be checked: its signature is not base64.") from None
    return SignedSession(obj["record"], signature)


# -- offline proofs ------------------------------------------------------------------------------------------------
def check_proof(proof: Proof, rerun: Rerun | None = None) -> tuple[bool, list[RoundCheck]]:
    """(session commitment ok, per-round checks). With `rerun`, the model's fresh probabilities per image must
    give the committed answer among the options and the committed confidence within ±2 per-mille."""
    records = list(proof.records)
    fresh = rerun(records) if rerun else {}
    checks = []
    for record, commitment in zip(records, proof.commitments, strict=True):
        hash_ok = verify_round(record, commitment)
        rerun_ok, note = None, "hash ok" if hash_ok else "hash MISMATCH"
        if rerun:
            again = ai_answer(fresh[record.image], record.options, answer_rule(record.rule))
            rerun_ok = (
                again.answer == record.answer and abs(again.confidence - record.confidence) <= CONFIDENCE_TOLERANCE
            )
            note += f"; rerun {again.answer} {again.confidence}‰ vs committed {record.answer} {record.confidence}‰"
        checks.append(RoundCheck(record.round, hash_ok, rerun_ok, note))
    session_ok = session_commitment(list(proof.commitments)) == proof.session_commitment.lower()
    return session_ok, checks


def find_content(proof: Proof, catalog: Catalog) -> tuple[Pack, OpponentEntry]:
    """The installed pack and model the proof names.

    Raises:
        ProofError: the pack or the model is not installed (the proof cannot be checked here).
    """
    pack = catalog.packs.get(proof.pack_id)
    if pack is None:
        raise ProofError(f"The proof is of pack '{proof.pack_id}', which is not installed here; install it to check.")
    entry = next((o for o in catalog.opponents_for(pack.id) if o.card.id == proof.model_id), None)
    if entry is None:
        raise ProofError(
            f"The proof names model '{proof.model_id}', which is not installed for pack '{pack.id}'; "
            "install that model to check the proof."
        )
    return pack, entry


def content_problems(proof: Proof, pack: Pack, entry: OpponentEntry) -> list[str]:
    """What in the proof contradicts the installed pack and the model's card (each a sentence; empty: none).

    Raises:
        ProofError: a round shows an image that is in no split of the pack (not this pack's image).
    """
    split_of = {e.sha256: name for name in SPLITS for e in pack.splits[name]}
    for record in proof.records:
        if record.image not in split_of:
            raise ProofError(
                f"The proof's round {record.round} shows image {record.image[:12]}…, which is not an image of "
                f"pack '{pack.id}'."
            )
    problems = []
    card = entry.card
    hashes = sorted({r.model for r in proof.records} - {card.onnx_sha256})
    if hashes:
        problems.append(
            f"its records commit to model hash {hashes[0][:12]}…, but the card of '{card.id}' names "
            f"{card.onnx_sha256[:12]}…"
        )
    for record in proof.records:
        split = split_of[record.image]
        if split != "test":
            problems.append(
                f"round {record.round} shows an image of the pack's {split} split; offline sessions play the test split"
            )
    labels = {e.sha256: e.label for e in pack.splits["test"]}
    by_round = {r.round: r for r in proof.records}
    for played in proof.played:
        record = by_round.get(played.round)
        truth = labels.get(record.image) if record else None
        if truth is not None and played.truth != truth:
            problems.append(f"round {played.round}'s truth {played.truth!r} is not the pack's label {truth!r}")
    return problems


def rerun_model(entry: OpponentEntry, pack: Pack, device: str | None = None) -> Rerun:
    """A rerun function: the proof's own model (found by its card) on the pack's images."""

    def rerun(records: list[RoundRecord]) -> dict[str, dict[str, float]]:
        view_px = answer_rule(records[0].rule).view_px if records else None  # one answer rule per session
        images = sorted({r.image for r in records})
        return load_opponent(entry, device=device).probabilities(pack, images, view_px=view_px)

    return rerun


def verify_offline(
    proof: Proof, catalog: Catalog, *, rerun: bool, device: str | None, expected: str | None, out: Output
) -> int:
    """Check an offline proof, print what it proves (or why it is refused), and return the exit code.

    Raises:
        ProofError: the proof names a pack, model or image that is not installed.
    """
    problems = session_problems(proof)
    pack, entry = find_content(proof, catalog)
    problems += content_problems(proof, pack, entry)
    if problems:
        return _refused(problems, out)
    session_ok, checks = check_proof(proof, rerun_model(entry, pack, device) if rerun else None)
    for check in checks:
        ok = check.hash_ok and check.rerun_ok is not False
        out(f"round {check.number:3d}  {'OK ' if ok else 'BAD'}  {check.note}")
    out(f"session commitment {'OK' if session_ok else 'MISMATCH'}: {proof.session_commitment}")
    if not (session_ok and all(c.hash_ok and c.rerun_ok is not False for c in checks)):
        return _refused(["a record or the session commitment does not hash as written"], out)
    if expected is not None and not hmac.compare_digest(expected.strip().lower(), proof.session_commitment.lower()):
        return _refused([f"the session commitment is not the expected {expected.strip()}"], out)
    _say_what_is_proven(proof, entry, rerun=rerun, expected=expected is not None, out=out)
    return EXIT_VERIFIED


def _say_what_is_proven(proof: Proof, entry: OpponentEntry, *, rerun: bool, expected: bool, out: Output) -> None:
    out(
        f"proof verified: in {proof.mode} session {proof.session} ({len(proof.played)} rounds played of "
        f"{len(proof.records)} dealt, pack '{proof.pack_id}'), the answers of '{entry.card.id}' were fixed before "
        "the player answered."
    )
    if rerun:
        out(f"The installed model '{entry.card.id}' gives the same answers on the pack's images.")
    if expected:
        out("The session commitment is the one you expected (shown when the session started).")
    else:
        out(
            "This is the session you watched only if its commitment is the one the game showed at the start: "
            "check with --expect-session-commitment HEX."
        )
    out("Not proven: the player's answers and times are self-reported by the player's own game.")


def _refused(problems: Iterable[str], out: Output) -> int:
    problems = list(problems)
    out(f"proof FAILED verification: {problems[0]}.")
    for problem in problems[1:]:
        out(f"  also: {problem}.")
    return EXIT_REFUSED


# -- ranked records ------------------------------------------------------------------------------------------------
# The signature check and the record's consistency check below stand in for classifiers.attestation and
# game_rules.attestation (branch w1-ranked); when both branches are merged, call those and drop these two.
def decode_server_key(text: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key given as base64 (as GET /api/v1/ranked/public-key gives it).

    Raises:
        ProofError: not base64 of 32 bytes.
    """
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ProofError("The server key must be the base64 of a 32-byte Ed25519 public key (see /ranked/public-key).")
    return key


def pinned_server_keys(data_dir: Path) -> list[bytes]:
    """The public keys the game pinned (trust on first use) for the ranked servers it played on.

    They sit in the online settings under `ranked_keys` ({server URL: {"key_id", "public_key"}}); a malformed
    entry is skipped.
    """
    pinned = read_settings(data_dir).extra.get(PINNED_KEYS_SETTING)
    keys = []
    for pin in pinned.values() if isinstance(pinned, dict) else ():
        try:
            keys.append(decode_server_key(str(pin.get("public_key") if isinstance(pin, dict) else pin)))
        except ProofError:
            continue
    return keys


def signature_is_valid(record: Mapping[str, Any], signature: bytes, public_key: bytes) -> bool:
    """True when `signature` is the server's Ed25519 signature of the record (classifiers.attestation)."""
    return verify_attestation(record, base64.b64encode(signature).decode(), base64.b64encode(public_key).decode())


def record_problems(record: Mapping[str, Any]) -> list[str]:
    """What in a signed record does not hold together: its shape and every AI commitment
    (game_rules.attestation.record_problems), and the revealed server seed against its commitment."""
    problems = attestation_problems(record)
    seed, seed_hash = record.get("server_seed"), record.get("server_seed_hash")
    if not isinstance(seed, str) or hashlib.sha256(seed.encode("ascii", "replace")).hexdigest() != seed_hash:
        problems.append("its server seed does not hash to the seed commitment")
    return problems


def verify_ranked(signed: SignedSession, keys: Iterable[bytes], *, out: Output) -> int:
    """Check a server-signed ranked record against the server's public key(s); print what it proves.

    Raises:
        ProofError: no server key to check against.
    """
    keys = list(keys)
    if not keys:
        raise ProofError(
            "No server key to check the signed record against: pass --server-key BASE64 "
            "(GET /api/v1/ranked/public-key), or play ranked on that server once so the game pins its key."
        )
    if not any(signature_is_valid(signed.record, signed.signature, key) for key in keys):
        return _refused(["the server's signature does not match the record (changed, or another server's)"], out)
    problems = record_problems(signed.record)
    if problems:
        return _refused(problems, out)
    record = signed.record
    out(
        f"proof verified: the server attested ranked session {record.get('session')} of player "
        f"{record.get('player')}: its deal, the AI's commitments, the player's answers, the times it measured and "
        f"the score {record.get('score')} ({record.get('status')})."
    )
    return EXIT_VERIFIED
