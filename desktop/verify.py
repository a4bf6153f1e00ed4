"""The proof file on disk: the end screen writes it, `eyevsai verify PROOF.json [--rerun]` re-checks its
commitments and, optionally, the model's answers. The format itself is `game_rules.proof`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.errors import EyeVsAIError
from desktop.services.catalog import Catalog
from desktop.services.opponent import load_opponent
from game_rules.answer_rules import answer_rule
from game_rules.commitment import RoundRecord, session_commitment, verify_round
from game_rules.deal import ai_answer
from game_rules.proof import Proof, ProofFormatError

CONFIDENCE_TOLERANCE = 2  # per-mille: execution providers differ slightly


class ProofError(EyeVsAIError):
    """The proof file is missing, not JSON, or not an EyeVsAI proof."""


@dataclass(frozen=True)
class RoundCheck:
    number: int
    hash_ok: bool
    rerun_ok: bool | None  # None: not re-run
    note: str


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


def read_proof(path: Path) -> Proof:
    """The proof in the file at `path`.

    Raises:
        ProofError: no such file, unreadable, or not a proof this game reads (the message says why).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProofError(f"No proof file at {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProofError(f"{path} is not a readable JSON proof ({exc}).") from exc
    try:
        return Proof.parse(text)
    except ProofFormatError as exc:
        raise ProofError(f"{path} cannot be checked: {exc}.") from None


def check_proof(
    proof: Proof, rerun: Callable[[list[RoundRecord]], dict[str, dict[str, float]]] | None = None
) -> tuple[bool, list[RoundCheck]]:
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
        view_px = answer_rule(records[0].rule).view_px if records else None  # one rule per session
        return load_opponent(entry, device=device).probabilities(
            pack, sorted({r.image for r in records}), view_px=view_px
        )

    return rerun
