"""`eyevsai verify` refuses every forged proof of the fair-play audit (issue 16 point 6) and says what it proves.

"Forged" means the forger knows the scheme: after the edit every round commitment and the session commitment are
recomputed, so the hashes alone still agree. Exit 1 is a refusal, exit 2 a file that cannot be checked here.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from desktop.app import content_roots, main
from desktop.services.catalog import Catalog, load_catalog
from desktop.services.dealer import start_session
from desktop.services.online.settings import SETTINGS_FILE
from desktop.services.opponent import LoadedOpponent, load_opponent
from desktop.verify import write_proof
from game_rules.commitment import (
    SCHEME_VERSIONS,
    RoundRecord,
    canonical_json,
    new_salt,
    session_commitment,
    sha256_hex,
)
from game_rules.modes import CLASSIC

PACK = "fashion-mnist"
MODEL = "fashion-mnist-deep-v1"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def catalog(data_dir: Path) -> Catalog:
    return load_catalog(content_roots(data_dir))


@pytest.fixture(scope="module")
def opponent(catalog: Catalog) -> LoadedOpponent:
    entry = next(o for o in catalog.opponents_for(PACK) if o.card.id == MODEL)
    return load_opponent(entry, device="cpu")


def _played_proof(catalog: Catalog, opponent: LoadedOpponent, seed: str) -> dict:
    """A genuine classic proof, every round answered with the truth after 1.5 s, as parsed JSON."""
    session = start_session(
        catalog.packs[PACK], opponent, CLASSIC, seed=seed, session_id=str(uuid.uuid4()), new_salt=new_salt
    )
    while session.has_next_round:
        session.answer(session.current_round().truth, 1.5)
    return session.proof().to_json_obj()


@pytest.fixture(scope="module")
def genuine(catalog: Catalog, opponent: LoadedOpponent) -> dict:
    return _played_proof(catalog, opponent, "first")


@pytest.fixture(scope="module")
def other(catalog: Catalog, opponent: LoadedOpponent) -> dict:
    return _played_proof(catalog, opponent, "second")


def _rehash(proof: dict) -> dict:
    """What a forger who knows the scheme does after an edit: recompute every commitment."""
    proof["commitments"] = [
        sha256_hex(canonical_json(r))
        if r.get("v") not in SCHEME_VERSIONS
        else RoundRecord.from_json_obj(r).commitment()
        for r in proof["records"]
    ]
    proof["session_commitment"] = session_commitment(proof["commitments"])
    return proof


def _verify(data_dir: Path, proof: dict | bytes, *extra: str, tmp: Path) -> int:
    path = tmp / f"{uuid.uuid4().hex}.json"
    path.write_bytes(proof if isinstance(proof, bytes) else json.dumps(proof, ensure_ascii=False).encode())
    return main(["--data-dir", str(data_dir), "--device", "cpu", "verify", str(path), *extra])


def test_a_genuine_proof_verifies_and_says_what_is_proven_and_what_is_not(
    data_dir: Path, genuine: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    expected = genuine["session_commitment"]
    assert _verify(data_dir, genuine, "--rerun", "--expect-session-commitment", expected, tmp=tmp_path) == 0
    out = capsys.readouterr().out
    assert out.count(" OK ") == 10
    assert f"the answers of '{MODEL}' were fixed before the player answered" in out
    assert "self-reported" in out and "the one you expected" in out


def test_a_written_proof_verifies_without_an_expected_commitment_and_asks_for_it(
    data_dir: Path, genuine: dict, catalog: Catalog, opponent: LoadedOpponent, tmp_path: Path, capsys
) -> None:
    session = start_session(catalog.packs[PACK], opponent, CLASSIC, seed="w", session_id="w", new_salt=new_salt)
    while session.has_next_round:
        session.answer(None, 15.0)
    write_proof(tmp_path / "p.json", session.proof())
    assert main(["--data-dir", str(data_dir), "verify", str(tmp_path / "p.json")]) == 0
    assert "--expect-session-commitment HEX" in capsys.readouterr().out


def _splice(proof: dict, other: dict) -> dict:
    proof["records"][5:] = other["records"][5:]
    proof["played"][5:] = other["played"][5:]
    return proof


def _drop_round_5(proof: dict) -> dict:
    del proof["records"][4]
    del proof["played"][4]
    return proof


def _duplicate_image(proof: dict) -> dict:
    proof["records"][1]["image"] = proof["records"][0]["image"]
    return proof


def _other_model_hash(proof: dict) -> dict:
    for record in proof["records"]:
        record["model"] = "ab" * 32
    return proof


def _changed_session_id(proof: dict) -> dict:
    proof["session"] = str(uuid.uuid4())
    return proof


def _reordered(proof: dict) -> dict:
    proof["records"][0], proof["records"][1] = proof["records"][1], proof["records"][0]
    return proof


def _truncated(proof: dict) -> dict:
    proof["records"], proof["played"] = proof["records"][:1], proof["played"][:1]
    return proof


FORGERIES = {
    "spliced from two sessions": (_splice, "2 different session ids"),
    "a round dropped": (_drop_round_5, "a classic session deals 10 rounds, this proof holds 9"),
    "rounds reordered": (_reordered, "numbered 2, 1, 3"),
    "truncated to one round": (_truncated, "this proof holds 1"),
    "a duplicated image": (_duplicate_image, "is dealt in rounds 1 and 2"),
    "a mismatched model hash": (_other_model_hash, f"but the card of '{MODEL}' names"),
    "a changed session id": (_changed_session_id, "is not the one its records commit to"),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_a_forged_proof_is_refused_with_its_cause(
    name: str, data_dir: Path, genuine: dict, other: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    forge, cause = FORGERIES[name]
    edit = forge if forge is not _splice else (lambda p: _splice(p, copy.deepcopy(other)))
    assert _verify(data_dir, _rehash(edit(copy.deepcopy(genuine))), "--rerun", tmp=tmp_path) == 1
    out = capsys.readouterr().out
    assert "proof FAILED verification" in out and cause in out and "proof verified" not in out


def test_a_ranked_image_in_an_offline_proof_is_refused(
    data_dir: Path, catalog: Catalog, genuine: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    proof = copy.deepcopy(genuine)
    proof["records"][2]["image"] = catalog.packs[PACK].splits["ranked"][0].sha256
    assert _verify(data_dir, _rehash(proof), tmp=tmp_path) == 1
    assert "round 3 shows an image of the pack's ranked split" in capsys.readouterr().out


def test_a_wrong_expected_session_commitment_is_refused(
    data_dir: Path, genuine: dict, other: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert _verify(data_dir, genuine, "--expect-session-commitment", other["session_commitment"], tmp=tmp_path) == 1
    assert "the session commitment is not the expected" in capsys.readouterr().out


def _extra_key(proof: dict) -> dict:
    proof["records"][0]["note"] = "not hashed"
    return proof


def _v_missing(proof: dict) -> dict:
    del proof["records"][0]["v"]
    return proof


def _v_two(proof: dict) -> dict:
    proof["records"][0]["v"] = 2  # scheme 2 is a handicapped AI's record: it must name its answer rule
    return proof


def _v_three(proof: dict) -> dict:
    proof["records"][0]["v"] = 3
    return proof


def _another_pack(proof: dict) -> dict:
    proof["pack_id"] = "cifar-10"
    return proof


def _unknown_image(proof: dict) -> dict:
    proof["records"][3]["image"] = "e" * 64
    return proof


UNCHECKABLE = {
    "an extra key": (_extra_key, "record 1 has unknown key(s) 'note'"),
    "v missing": (_v_missing, "record 1 lacks 'v'"),
    "v is 2 without its rule": (_v_two, "record 1 lacks 'rule'"),
    "v is 3": (_v_three, "record 1 uses commitment scheme 3"),
    "another pack": (_another_pack, "pack 'cifar-10', which is not installed here"),
    "an unknown image": (_unknown_image, "round 4 shows image eeeeeeeeeeee…, which is not an image of pack"),
}


@pytest.mark.parametrize("name", UNCHECKABLE)
def test_a_proof_that_cannot_be_checked_is_one_line_and_exit_2(
    name: str, data_dir: Path, genuine: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    forge, cause = UNCHECKABLE[name]
    assert _verify(data_dir, _rehash(forge(copy.deepcopy(genuine))), tmp=tmp_path) == 2
    err = capsys.readouterr().err
    assert cause in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("garbage", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\0\0", b"[" * 100_000, b"{}"])
def test_garbage_is_one_line_and_exit_2(
    garbage: bytes, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert _verify(data_dir, garbage, tmp=tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith("eyevsai: ") and ("is not a proof" in err or "not an EyeVsAI proof" in err)
    assert len(err.strip().splitlines()) == 1


# -- ranked: the server-signed record ----------------------------------------------------------------------------
def _signed_record(key: Ed25519PrivateKey) -> dict:
    seed = "5e" * 32
    ai = RoundRecord("s-1", 1, "a" * 64, "b" * 64, ("bag", "coat"), "bag", 900, "c" * 64)
    record = {
        "v": 1,
        "kind": "eyevsai-ranked-session",
        "session": "s-1",
        "player": "p-1",
        "pack": PACK,
        "model": "b" * 64,
        "difficulty": "hard",
        "server_seed": seed,
        "server_seed_hash": sha256_hex(seed),
        "client_seed": "0f" * 8,
        "started_at": "2026-11-29T10:00:00.000+00:00",
        "finished_at": "2026-11-29T10:01:00.000+00:00",
        "status": "finished",
        "rounds": [
            {
                "number": 1,
                "image": ai.image,
                "options": list(ai.options),
                "answer": "bag",
                "elapsed_ms": 1200,
                "points": 34,
                "truth": "bag",
                "commitment": ai.commitment(),
                "ai_record": ai.to_json_obj(),
            }
        ],
        "score": 34,
        "correct": 1,
        "ai_correct": 1,
    }
    signature = key.sign(canonical_json(record).encode("utf-8"))
    return {"record": record, "signature": base64.b64encode(signature).decode()}


def _public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def test_a_signed_ranked_record_verifies_against_the_server_key(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    key = Ed25519PrivateKey.generate()
    assert _verify(data_dir, _signed_record(key), "--server-key", _public(key), tmp=tmp_path) == 0
    assert "the server attested ranked session s-1" in capsys.readouterr().out


def test_a_changed_ranked_record_or_another_servers_key_is_refused(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    key = Ed25519PrivateKey.generate()
    signed = _signed_record(key)
    signed["record"]["score"] = 350
    assert _verify(data_dir, signed, "--server-key", _public(key), tmp=tmp_path) == 1
    other_key = _public(Ed25519PrivateKey.generate())
    assert _verify(data_dir, _signed_record(key), "--server-key", other_key, tmp=tmp_path) == 1
    assert capsys.readouterr().out.count("the server's signature does not match the record") == 2


def test_a_ranked_record_uses_the_pinned_key_and_without_any_key_cannot_be_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    key = Ed25519PrivateKey.generate()
    assert _verify(tmp_path, _signed_record(key), tmp=tmp_path) == 2
    assert "No server key" in capsys.readouterr().err
    settings = {
        "server_url": "https://example.org",
        "ranked_keys": {"https://example.org": {"key_id": "k", "public_key": _public(key)}},
    }
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(settings))
    assert _verify(tmp_path, _signed_record(key), tmp=tmp_path) == 0
    assert _verify(tmp_path, _signed_record(key), "--server-key", "not-base64!", tmp=tmp_path) == 2
