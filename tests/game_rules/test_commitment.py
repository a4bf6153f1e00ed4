"""The commitment scheme (docs/design.md §5): fixed test vectors pin the format shared by game, verifier and server."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from game_rules.commitment import (
    RoundRecord,
    canonical_json,
    new_salt,
    quantise_confidence,
    session_commitment,
    verify_round,
    verify_session,
)

SESSION = "6f1c2a4e-0b7d-4c55-9a0e-2f3b8d9c1e77"
ROUND_1 = RoundRecord(
    session=SESSION,
    round=1,
    image="a" * 64,
    model="b" * 64,
    options=("cat", "dog", "frog", "ship"),
    answer="dog",
    confidence=873,
    salt="0123456789abcdef" * 4,
)
ROUND_2 = RoundRecord(
    session=SESSION,
    round=2,
    image="c" * 64,
    model="b" * 64,
    options=("café", "naïve"),
    answer="naïve",
    confidence=500,
    salt="f" * 64,
)
# Computed independently with `printf '%s' '<canonical json>' | sha256sum`.
COMMITMENT_1 = "51604df95699b73faa633ce2bb9c98879ddc8a753f1804b95df948690223ea5e"
COMMITMENT_2 = "319ba8ca560e47306e9fdbe1c82cf305eb87674cbb422bd7ed1e8ba89c04e14a"
SESSION_COMMITMENT = "d93355d1a0bcb0ae5eec211335172b8c0dc91cb02d6d276befd8bd50073981a1"


def test_round_commitments_match_the_fixed_vectors() -> None:
    assert ROUND_1.commitment() == COMMITMENT_1
    assert ROUND_2.commitment() == COMMITMENT_2


def test_session_commitment_matches_the_fixed_vector() -> None:
    assert session_commitment([COMMITMENT_1, COMMITMENT_2]) == SESSION_COMMITMENT
    assert verify_session([COMMITMENT_1, COMMITMENT_2], SESSION_COMMITMENT)


def test_session_commitment_depends_on_round_order() -> None:
    assert session_commitment([COMMITMENT_2, COMMITMENT_1]) != SESSION_COMMITMENT
    assert not verify_session([COMMITMENT_2, COMMITMENT_1], SESSION_COMMITMENT)


def test_canonical_json_is_sorted_compact_and_keeps_non_ascii() -> None:
    text = canonical_json(ROUND_2.to_json_obj())
    assert text == (
        '{"answer":"naïve","confidence":500,"image":"' + "c" * 64 + '","model":"' + "b" * 64 + '",'
        '"options":["café","naïve"],"round":2,"salt":"' + "f" * 64 + '","session":"' + SESSION + '","v":1}'
    )
    # The hash is over the UTF-8 bytes of exactly that text.
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == COMMITMENT_2


def test_record_survives_a_json_round_trip() -> None:
    for record in (ROUND_1, ROUND_2):
        obj = json.loads(json.dumps(record.to_json_obj()))
        again = RoundRecord.from_json_obj(obj)
        assert again == record
        assert again.commitment() == record.commitment()


def test_verify_round_accepts_the_revealed_record_in_any_hex_case() -> None:
    assert verify_round(ROUND_1, COMMITMENT_1)
    assert verify_round(ROUND_1, COMMITMENT_1.upper())


@pytest.mark.parametrize(
    "change",
    [
        {"answer": "cat"},
        {"salt": "0123456789abcdef" * 3 + "0123456789abcde0"},
        {"confidence": 874},
        {"options": ("dog", "cat", "frog", "ship")},  # the shown order is part of the commitment
        {"image": "d" * 64},
        {"model": "e" * 64},
        {"round": 2},
    ],
    ids=lambda change: next(iter(change)),
)
def test_verify_round_rejects_a_tampered_record(change: dict) -> None:
    tampered = dataclasses.replace(ROUND_1, **change)
    assert not verify_round(tampered, COMMITMENT_1)


@pytest.mark.parametrize(
    ("probability", "per_mille"),
    [
        (0.0, 0),
        (1.0, 1000),
        (0.8734, 873),
        (0.8736, 874),
        (0.0004, 0),
        (-0.2, 0),
        (1.3, 1000),
        (np.float32(0.5), 500),
        (np.float64(0.25), 250),
    ],
)
def test_quantise_confidence(probability: float, per_mille: int) -> None:
    result = quantise_confidence(probability)
    assert result == per_mille
    assert type(result) is int  # json.dumps cannot write NumPy integers


def test_new_salt_is_64_lowercase_hex_and_fresh_each_time() -> None:
    salts = {new_salt() for _ in range(20)}
    assert len(salts) == 20
    for salt in salts:
        assert len(salt) == 64
        assert set(salt) <= set("0123456789abcdef")
    # A fresh salt is accepted by a record.
    assert dataclasses.replace(ROUND_1, salt=new_salt()).commitment() != COMMITMENT_1


def test_answer_must_be_among_the_options() -> None:
    with pytest.raises(ValueError, match="'horse' is not among the shown options"):
        dataclasses.replace(ROUND_1, answer="horse")


@pytest.mark.parametrize(
    "salt",
    ["0123456789abcdef" * 3, "0123456789ABCDEF" * 4, "g" * 64, "f" * 65, ""],
    ids=["short", "uppercase", "not-hex", "long", "empty"],
)
def test_salt_must_be_64_lowercase_hex(salt: str) -> None:
    with pytest.raises(ValueError, match="salt"):
        dataclasses.replace(ROUND_1, salt=salt)


@pytest.mark.parametrize("confidence", [-1, 1001])
def test_confidence_must_be_per_mille(confidence: int) -> None:
    with pytest.raises(ValueError, match=str(confidence)):
        dataclasses.replace(ROUND_1, confidence=confidence)


@pytest.mark.parametrize("confidence", [873.0, np.int64(873), True], ids=["float", "numpy-int64", "bool"])
def test_confidence_must_be_a_plain_int(confidence: object) -> None:
    # 873.0 would hash as "873.0" and a NumPy integer cannot be written as JSON at all.
    with pytest.raises(ValueError, match="integer"):
        dataclasses.replace(ROUND_1, confidence=confidence)


def test_a_full_rule_record_is_version_1_byte_for_byte_and_a_handicap_record_names_its_rule() -> None:
    common = dict(session=SESSION, round=1, image="a" * 64, model="b" * 64, options=("bag", "coat"), salt="f" * 64)
    full = RoundRecord(answer="bag", confidence=900, **common)
    assert full.v == 1 and "rule" not in full.to_json_obj()
    blind = RoundRecord(answer="sandal", confidence=700, rule="top1-10px", **common)
    assert (blind.v, blind.to_json_obj()["rule"]) == (2, "top1-10px")
    assert RoundRecord.from_json_obj(blind.to_json_obj()) == blind
    squint = RoundRecord(answer="bag", confidence=900, rule="options-10px", **common)
    assert squint.commitment() != full.commitment()  # the rule is part of what is committed


def test_only_a_blind_rule_may_answer_outside_the_options() -> None:
    common = dict(session=SESSION, round=1, image="a" * 64, model="b" * 64, options=("bag", "coat"), salt="f" * 64)
    with pytest.raises(ValueError, match="not among the shown options"):
        RoundRecord(answer="sandal", confidence=700, rule="options-10px", **common)
    with pytest.raises(ValueError, match="version 1 record has no answer rule"):
        RoundRecord(answer="bag", confidence=700, rule="top1-10px", v=1, **common)
