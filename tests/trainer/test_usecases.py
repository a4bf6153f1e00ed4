"""The trainer's use cases: the CLI and the GUI build the same pack and train the same model from the same inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import onnx
import pytest

from classifiers.card import ONNX_FILE, read_card
from classifiers.errors import ConfigError, PackError
from classifiers.pack import PACK_FILE
from classifiers.progress import run_to_end
from classifiers.registry import get_family
from tests.helpers.synthetic import synthetic_sources
from trainer.cli import main
from trainer.hyperparams import family_params
from trainer.model_registry import DONE
from trainer.usecases import TrainerUseCases
from trainer.workspace import Workspace

# What `eyevsai-train train shallow --algorithm logreg --feature-size 32` passes, and what the GUI's form sends


def form_values(variant: str, **changed: object) -> dict[str, object]:
    """What the Train page's form sends for `variant`: every parameter the variant uses, at its default."""
    params = family_params(get_family("shallow"))
    return {p.name: p.default for p in params if p.in_form and p.applies_to(variant)} | changed


# differ between two runs by design: ids and clocks; the ONNX files differ only in skl2onnx's random graph name,
# so they are compared as graphs
RUN_SPECIFIC = {"id", "created", "onnx_sha256"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos") / "pets"
    for source in synthetic_sources(20):
        path = root / source.origin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.data)
    return root


def _comparable_card(model_dir: Path) -> dict[str, Any]:
    card = read_card(model_dir).to_json_obj()
    card["training"] = {k: v for k, v in card["training"].items() if k != "seconds"}
    return {k: v for k, v in card.items() if k not in RUN_SPECIFIC}


def _onnx_graph(model_dir: Path) -> onnx.GraphProto:
    graph = onnx.load(str(model_dir / ONNX_FILE)).graph
    graph.name = ""  # a fresh uuid per export
    return graph


def test_the_cli_and_the_gui_build_the_same_pack_and_train_the_same_model(photos, tmp_path):
    cli_ws, gui_ws = Workspace(tmp_path / "cli"), Workspace(tmp_path / "gui")
    workspace = ["--workspace", str(cli_ws.root), "--quiet"]
    assert main([*workspace, "pack", "build", str(photos), "--id", "pets"]) == 0
    assert (
        main([*workspace, "train", "shallow", "--pack", "pets", "--algorithm", "logreg", "--feature-size", "32"]) == 0
    )

    usecases = TrainerUseCases(gui_ws)  # the calls the Pack and Train pages make, with their default fields
    report = run_to_end(usecases.build_pack(photos, "pets", title="", licence=""))
    pack = usecases.find_pack("pets")
    trained = run_to_end(
        usecases.train("shallow", "logreg", pack, form_values("logreg", feature_size=32), title="", tuning_notes=None)
    )

    cli_pack, gui_pack = cli_ws.packs_dir / "pets", gui_ws.packs_dir / "pets"
    assert report.pack_dir == gui_pack
    assert json.loads((cli_pack / PACK_FILE).read_text()) == json.loads((gui_pack / PACK_FILE).read_text())
    images = [sorted(p.relative_to(root) for p in (root / "images").rglob("*")) for root in (cli_pack, gui_pack)]
    assert images[0] == images[1] and images[0]

    (cli_model,) = [p for p in cli_ws.models_dir.iterdir() if p.is_dir()]
    assert _comparable_card(cli_model) == _comparable_card(trained.model_dir)
    assert _onnx_graph(cli_model) == _onnx_graph(trained.model_dir)
    assert read_card(trained.model_dir).metrics["test_accuracy"] > 0.8
    cli_records, _ = TrainerUseCases(cli_ws).model_records()
    gui_records, _ = usecases.model_records()
    assert [(r.status, r.family, r.variant, r.tuned, r.config) for r in cli_records] == [
        (r.status, r.family, r.variant, r.tuned, r.config) for r in gui_records
    ]
    assert gui_records[0].status == DONE


@pytest.mark.parametrize("pack_id", ["-pets", "pets!", "my pets"])
def test_both_front_ends_refuse_the_same_pack_ids_with_the_same_message(photos, tmp_path, capsys, pack_id):
    with pytest.raises(PackError) as refused:
        TrainerUseCases(Workspace(tmp_path / "gui")).build_pack(photos, pack_id)
    assert main(["--workspace", str(tmp_path / "cli"), "pack", "build", str(photos), f"--id={pack_id}"]) == 2
    assert f"error: {refused.value}" in " ".join(capsys.readouterr().err.split())
    assert "may contain only letters, digits, '-' and '_'" in str(refused.value)


def test_training_onto_an_existing_model_is_refused_before_anything_runs(photos, tmp_path):
    usecases = TrainerUseCases(Workspace(tmp_path))
    run_to_end(usecases.build_pack(photos, "pets"))
    (usecases.workspace.models_dir / "m").mkdir(parents=True)
    with pytest.raises(ConfigError, match="A model already exists"):
        usecases.train(
            "shallow", "logreg", usecases.find_pack("pets"), form_values("logreg", feature_size=32), model_id="m"
        )
    assert usecases.model_records()[0] == []  # not even a "running" row


def test_publishing_into_the_workspace_itself_is_refused(tmp_path):
    usecases = TrainerUseCases(Workspace(tmp_path))
    with pytest.raises(ConfigError, match="is the trainer workspace itself"):
        usecases.publish("pets", tmp_path)
