"""Fixtures of the trainer tests: class-per-folder trees, a workspace with a pack and recorded shallow models."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Generator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from classifiers.pack import Pack, open_pack
from classifiers.progress import run_to_end
from tests.helpers.postgres import fresh_schema
from tests.helpers.synthetic import CLASS_STYLES, make_synthetic_pack, synthetic_image
from trainer.model_registry import ModelRegistry, record_training
from trainer.training import TrainResult, train_model
from trainer.workspace import Workspace

FAST_SHALLOW = {"feature_size": 32}


def drive(work: Generator) -> Any:
    """Run a Progress generator to its end and return its value."""
    return run_to_end(work)


def write_image_folder(root: Path, counts: dict[str, int], seed: int = 0) -> Path:
    """root/<class>/<i>.png with the synthetic pack's learnable class styles."""
    rng = np.random.default_rng(seed)
    for label, count in counts.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            bgr = cv2.cvtColor(synthetic_image(label, rng), cv2.COLOR_RGB2BGR)
            assert cv2.imwrite(str(root / label / f"{i:03d}.png"), bgr)
    return root


@pytest.fixture()
def image_folder(tmp_path: Path) -> Path:
    """Three classes, one of them small, plus a broken file, a duplicate and a non-image file."""
    names = list(CLASS_STYLES)[:3]
    root = write_image_folder(tmp_path / "photos", {names[0]: 16, names[1]: 16, names[2]: 4})
    (root / names[0] / "broken.jpg").write_bytes(b"not really a jpeg")
    shutil.copyfile(root / names[1] / "000.png", root / names[1] / "copy-of-000.png")
    (root / names[1] / "notes.txt").write_text("taken on holiday", encoding="utf-8")
    return root


def train_recorded(
    workspace: Workspace, pack: Pack, model_id: str, variant: str = "logreg", **params: Any
) -> TrainResult:
    """Train a shallow model into the workspace and record it in the registry, as the CLI does."""
    params = {**FAST_SHALLOW, **params}
    registry = workspace.registry()
    try:
        work = train_model("shallow", pack, workspace.models_dir, variant=variant, params=params, model_id=model_id)
        return drive(
            record_training(
                registry,
                work,
                model_id=model_id,
                family="shallow",
                variant=variant,
                pack_id=pack.id,
                models_dir=workspace.models_dir,
                config={"params": params},
            )
        )
    finally:
        registry.close()


@pytest.fixture(scope="session")
def trained_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace holding the synthetic pack and two recorded shallow models (built once, copied per test)."""
    root = tmp_path_factory.mktemp("template") / "workspace"
    workspace = Workspace(root)
    pack = make_synthetic_pack(workspace.packs_dir, pack_id="stripes", per_class=30)
    train_recorded(workspace, pack, "stripes-logreg")
    train_recorded(workspace, pack, "stripes-rf", variant="rf", n_estimators=10, max_depth=3)
    return root


@pytest.fixture()
def trained_workspace(trained_template: Path, tmp_path: Path) -> Workspace:
    """A private copy of the trained workspace (tests delete and publish models)."""
    root = tmp_path / "workspace"
    shutil.copytree(trained_template, root)
    with sqlite3.connect(root / "registry.db") as db:  # the copied registry still points at the template's folders
        db.execute(
            "UPDATE models SET model_dir = replace(model_dir, ?, ?), onnx_path = replace(onnx_path, ?, ?)",
            [str(trained_template), str(root)] * 2,
        )
    return Workspace(root)


@pytest.fixture()
def stripes_pack(trained_workspace: Workspace) -> Pack:
    return open_pack(trained_workspace.packs_dir / "stripes")


@pytest.fixture()
def postgres_url() -> Generator[str, None, None]:
    """A PostgreSQL URL whose tables go to a fresh schema (dropped afterwards), as a shared registry or storage."""
    with fresh_schema("tr") as (url, _admin, _schema):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Generator[ModelRegistry, None, None]:
    """An empty model registry, on an SQLite file and on a fresh PostgreSQL schema."""
    location = tmp_path / "registry.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = ModelRegistry(location)
    yield opened
    opened.close()
