"""The catalog of bundled content, robustness to broken content, and `eyevsai verify`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from classifiers.locations import bundled_assets_dir
from desktop.app import content_roots, main
from desktop.core.session import GameSession
from desktop.services.catalog import load_catalog
from desktop.services.opponent import load_opponent
from desktop.verify import ProofError, read_proof, write_proof
from game_rules.commitment import new_salt
from game_rules.deal import deal
from game_rules.modes import CLASSIC

PACK = "fashion-mnist"


def test_bundled_content_is_playable_with_three_difficulties(tmp_path: Path) -> None:
    catalog = load_catalog(content_roots(tmp_path))
    assert catalog.problems == []
    assert [p.id for p in catalog.playable_packs()] == [PACK]
    opponents = catalog.opponents_for(PACK)
    rank = {"easy": 0, "medium": 1, "hard": 2}
    levels = [o.difficulty for o in opponents]
    assert set(levels) == set(rank)
    assert levels == sorted(levels, key=rank.__getitem__)
    families = {o.card.family for o in opponents}
    assert {"shallow", "deep_v1", "deep_v2"} <= families
    for level in rank:  # an easier level never holds a more accurate model than a harder one
        harder = [o.card.test_accuracy for o in opponents if rank[o.difficulty] > rank[level]]
        here = [o.card.test_accuracy for o in opponents if o.difficulty == level]
        assert not harder or max(here) <= min(harder)


def test_a_corrupt_model_is_reported_and_the_rest_stay_playable(tmp_path: Path) -> None:
    user_models = tmp_path / "models"
    source = bundled_assets_dir() / "models" / "fashion-mnist-shallow-logreg"
    broken = user_models / "broken"
    shutil.copytree(source, broken)
    card = json.loads((broken / "model.json").read_text())
    card["id"] = "broken"
    (broken / "model.json").write_text(json.dumps(card))
    (broken / "model.onnx").write_bytes(b"garbage")
    catalog = load_catalog(content_roots(tmp_path))
    assert any("does not match its card" in p for p in catalog.problems)
    bundled = [d for d in (bundled_assets_dir() / "models").iterdir() if (d / "model.json").is_file()]
    assert len(catalog.opponents_for(PACK)) == len(bundled)


def _proof(tmp_path: Path) -> Path:
    catalog = load_catalog(content_roots(tmp_path))
    pack = catalog.packs[PACK]
    opponent = load_opponent(catalog.opponents_for(PACK, "hard")[0], device="cpu")
    rounds = deal("verify", [(e.sha256, e.label) for e in pack.available("test")], pack.classes, 10)
    session = GameSession.start(
        session_id="v",
        seed="verify",
        pack_id=PACK,
        mode=CLASSIC,
        opponent=opponent.rules_view,
        rounds=rounds,
        probabilities=opponent.probabilities(pack, [r.image for r in rounds]),
        new_salt=new_salt,
    )
    while session.has_next_round:
        session.answer(session.current_round().truth, 2.5)
    path = tmp_path / "proof.json"
    write_proof(path, session.proof())
    return path


def test_verify_accepts_a_real_proof_and_reruns_the_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    proof = _proof(tmp_path)
    assert main(["--data-dir", str(tmp_path), "--device", "cpu", "verify", str(proof), "--rerun"]) == 0
    out = capsys.readouterr().out
    assert out.count(" OK ") == 10 and "proof verified" in out


def test_verify_rejects_a_tampered_answer(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    proof = _proof(tmp_path)
    data = json.loads(proof.read_text())
    record = data["records"][3]
    record["answer"] = next(o for o in record["options"] if o != record["answer"])
    proof.write_text(json.dumps(data))
    assert main(["--data-dir", str(tmp_path), "verify", str(proof)]) == 1
    out = capsys.readouterr().out
    assert "round   4  BAD  hash MISMATCH" in out and "FAILED" in out


def test_verify_explains_a_file_that_is_not_a_proof(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    assert main(["--data-dir", str(tmp_path), "verify", str(bogus)]) == 2
    assert "not an EyeVsAI proof" in capsys.readouterr().err


def test_a_written_proof_reads_back_and_an_unwritable_place_is_one_clear_error(tmp_path: Path) -> None:
    proof = read_proof(_proof(tmp_path))
    with pytest.raises(ProofError, match="could not be saved to .*no-such-folder.*Choose another folder"):
        write_proof(tmp_path / "no-such-folder" / "proof.json", proof)
