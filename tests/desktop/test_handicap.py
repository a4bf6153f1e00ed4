"""Difficulty is a real handicap, and a handicapped AI's proof still checks (docs/design.md §4, §5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.app import content_roots, main
from desktop.services.catalog import load_catalog
from desktop.services.dealer import start_session
from desktop.services.opponent import load_opponent
from desktop.verify import write_proof
from game_rules.commitment import new_salt
from game_rules.modes import CLASSIC

PACK = "fashion-mnist"


@pytest.mark.parametrize(("difficulty", "rule", "version"), [("easy", "top1-8px", 2), ("medium", "options-7px", 2)])
def test_a_handicapped_session_commits_its_rule_and_verify_reruns_it(
    tmp_path: Path, capsys: pytest.CaptureFixture, difficulty: str, rule: str, version: int
) -> None:
    catalog = load_catalog(content_roots(tmp_path))
    opponent = load_opponent(catalog.opponents_for(PACK, difficulty)[0], device="cpu")
    session = start_session(
        catalog.packs[PACK], opponent, CLASSIC, seed="handicap-7", session_id="h", new_salt=new_salt
    )
    assert {(r.rule, r.v) for r in session.records} == {(rule, version)}
    while session.has_next_round:  # a finished classic session answers every round
        session.answer(session.current_round().options[0], 3.0)
    proof = tmp_path / "proof.json"
    write_proof(proof, session.proof())
    assert main(["--data-dir", str(tmp_path), "--device", "cpu", "verify", str(proof), "--rerun"]) == 0
    assert capsys.readouterr().out.count(" OK ") == 10
    data = json.loads(proof.read_text())
    data["records"][0]["rule"] = "options"  # claiming the AI saw more than it did breaks the commitment
    proof.write_text(json.dumps(data))
    assert main(["--data-dir", str(tmp_path), "verify", str(proof)]) == 1


def test_the_blind_easy_ai_sometimes_names_a_class_that_was_not_shown(tmp_path: Path) -> None:
    catalog = load_catalog(content_roots(tmp_path))
    opponent = load_opponent(catalog.opponents_for(PACK, "easy")[0], device="cpu")
    pack = catalog.packs[PACK]
    unshown = 0
    for n in range(6):
        session = start_session(pack, opponent, CLASSIC, seed=f"blind-{n}", session_id=f"b{n}", new_salt=new_salt)
        unshown += sum(not a.is_shown(r.options) for a, r in zip(session.ai_answers, session.rounds, strict=True))
    assert unshown > 0


def test_the_opponent_explains_its_answer_on_the_view_its_rule_allowed(tmp_path: Path) -> None:
    catalog = load_catalog(content_roots(tmp_path))
    pack = catalog.packs[PACK]
    opponent = load_opponent(catalog.opponents_for(PACK, "easy")[0], device="cpu")
    entry = pack.available("test")[0]
    image = pack.load_image(entry.sha256)
    probabilities = opponent.probabilities(pack, [entry.sha256], view_px=8)[entry.sha256]
    answer = max(probabilities, key=probabilities.__getitem__)
    heatmap = opponent.heatmap(image, answer)
    assert heatmap.heat.shape == image.shape[:2]
    assert abs(heatmap.probability - probabilities[answer]) < 1e-4  # the same view the committed answer came from
    with pytest.raises(ValueError, match="not a class of model"):
        opponent.heatmap(image, "spaceship")
