"""The proof file (docs/design.md §5): one writer, one strict reader, and the version-1 format kept byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from game_rules.commitment import session_commitment
from game_rules.proof import Proof, ProofFormatError

# Exported by the game before the typed Proof existed (GameSession.proof() dict + json.dumps(indent=1)).
GOLDEN = Path(__file__).parent / "data" / "proof-v1.json"


def _golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_a_proof_exported_before_reads_and_writes_back_byte_for_byte() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    proof = Proof.parse(text)
    assert proof.to_json() == text
    assert session_commitment(list(proof.commitments)) == proof.session_commitment
    assert [r.commitment() for r in proof.records] == list(proof.commitments)
    assert [(p.round, p.player_answer, p.elapsed_ms) for p in proof.played] == [(1, "bag", 2000), (2, None, 15_031)]


def _refused(obj: object) -> str:
    with pytest.raises(ProofFormatError) as caught:
        Proof.parse(json.dumps(obj))
    return str(caught.value)


def test_a_file_that_is_not_a_proof_is_refused_with_the_reason() -> None:
    with pytest.raises(ProofFormatError, match="not JSON"):
        Proof.parse("{")
    assert "not an EyeVsAI proof" in _refused({})
    assert "not an EyeVsAI proof" in _refused([1, 2])


@pytest.mark.parametrize(("version", "shown"), [(2, "2"), (None, "None"), ("1", "'1'")])
def test_another_or_a_missing_version_is_refused(version: object, shown: str) -> None:
    proof = _golden()
    if version is None:
        del proof["version"]
    else:
        proof["version"] = version
    assert f"proof version {shown} is not one this game reads" in _refused(proof)


def test_unknown_and_missing_keys_are_refused() -> None:
    assert "unknown key(s) 'score'" in _refused({**_golden(), "score": 350})
    proof = _golden()
    del proof["played"]
    assert "lacks 'played'" in _refused(proof)
    proof = _golden()
    proof["records"][1]["extra"] = True
    assert "record 2 has unknown key(s) 'extra'" in _refused(proof)
    proof = _golden()
    del proof["played"][0]["elapsed_s"]
    assert "played answer 1 lacks 'elapsed_s'" in _refused(proof)


def test_malformed_parts_are_refused() -> None:
    proof = _golden()
    proof["commitments"].pop()
    assert "3 records but 2 commitments" in _refused(proof)
    proof = _golden()
    proof["records"][0]["answer"] = "hat"
    assert "record 1 is malformed" in _refused(proof)
    proof = _golden()
    proof["records"][0]["v"] = 3
    assert "record 1 uses commitment scheme 3" in _refused(proof)
    proof = _golden()
    proof["records"][0]["v"] = 2  # version 2 names the AI's answer rule
    assert "record 1 lacks 'rule'" in _refused(proof)
    proof["records"][0]["rule"] = "psychic"
    assert "record 1 is malformed: Unknown AI answer rule 'psychic'" in _refused(proof)
    proof = _golden()
    proof["played"][1]["elapsed_s"] = -1
    assert "elapsed_s must be a non-negative number" in _refused(proof)
    proof = _golden()
    proof["session_commitment"] = None
    assert "'session_commitment' must be a string" in _refused(proof)


def test_a_tampered_answer_still_reads_so_that_the_check_can_fail_it() -> None:
    proof = _golden()
    record = proof["records"][0]
    record["answer"] = next(o for o in record["options"] if o != record["answer"])
    parsed = Proof.parse(json.dumps(proof))
    assert parsed.records[0].commitment() != parsed.commitments[0]
