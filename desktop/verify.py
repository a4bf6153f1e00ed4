"""`eyevsai verify PROOF.json [--rerun]`: re-check a session's commitments and, optionally, the model's answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.commitment import RoundRecord, session_commitment, verify_round
from classifiers.errors import EyeVsAIError
from desktop.core.rules import ai_answer
from desktop.core.session import PROOF_FORMAT
from desktop.services.catalog import Catalog
from desktop.services.opponent import load_opponent

CONFIDENCE_TOLERANCE = 2  # per-mille: execution providers differ slightly


class ProofError(EyeVsAIError):
    """The proof file is missing, not JSON, or not an EyeVsAI proof."""


@dataclass(frozen=True)
class RoundCheck:
    number: int
    hash_ok: bool
    rerun_ok: bool | None  # None: not re-run
    note: str


def read_proof(path: Path) -> dict[str, Any]:
    try:
        proof = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProofError(f"No proof file at {path}.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ProofError(f"{path} is not a readable JSON proof ({exc}).") from exc
    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        raise ProofError(f"{path} is not an EyeVsAI proof (format must be {PROOF_FORMAT!r}).")
    for key in ("records", "commitments", "session_commitment"):
        if key not in proof:
            raise ProofError(f"Proof {path} lacks '{key}'.")
    if len(proof["records"]) != len(proof["commitments"]):
        raise ProofError(
            f"Proof {path} has {len(proof['records'])} records but {len(proof['commitments'])} commitments."
        )
    return proof


def check_proof(
    proof: dict[str, Any], rerun: Callable[[list[RoundRecord]], dict[str, dict[str, float]]] | None = None
) -> tuple[bool, list[RoundCheck]]:
    """(session commitment ok, per-round checks). With `rerun`, the model's fresh probabilities per image must
    give the committed answer among the options and the committed confidence within ±2 per-mille."""
    records = []
    for obj in proof["records"]:
        try:
            records.append(RoundRecord.from_json_obj(obj))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofError(f"Round {obj.get('round', '?')} of the proof is malformed: {exc}") from exc
    fresh = rerun(records) if rerun else {}
    checks = []
    for record, commitment in zip(records, proof["commitments"], strict=True):
        hash_ok = verify_round(record, commitment)
        rerun_ok, note = None, "hash ok" if hash_ok else "hash MISMATCH"
        if rerun:
            again = ai_answer(fresh[record.image], record.options)
            rerun_ok = (
                again.answer == record.answer and abs(again.confidence - record.confidence) <= CONFIDENCE_TOLERANCE
            )
            note += f"; rerun {again.answer} {again.confidence}‰ vs committed {record.answer} {record.confidence}‰"
        checks.append(RoundCheck(record.round, hash_ok, rerun_ok, note))
    session_ok = session_commitment(list(proof["commitments"])) == str(proof["session_commitment"]).lower()
    return session_ok, checks


def rerun_with_catalog(
    catalog: Catalog, proof: dict[str, Any], device: str | None = None
) -> Callable[[list[RoundRecord]], dict[str, dict[str, float]]]:
    """A rerun function that finds the proof's model (by id and ONNX hash) and pack among installed content."""

    def rerun(records: list[RoundRecord]) -> dict[str, dict[str, float]]:
        pack = catalog.packs.get(proof.get("pack_id", ""))
        if pack is None:
            raise ProofError(f"Pack '{proof.get('pack_id')}' of the proof is not installed; cannot re-run.")
        wanted = {r.model for r in records}
        entry = next((o for o in catalog.opponents.get(pack.id, []) if o.card.onnx_sha256 in wanted), None)
        if entry is None:
            raise ProofError(
                f"No installed model has the proof's ONNX hash {sorted(wanted)[0][:12]}…; install that model to re-run."
            )
        return load_opponent(entry, device=device).probabilities(pack, sorted({r.image for r in records}))

    return rerun
