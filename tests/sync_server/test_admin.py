"""`eyevsai-server import-pack`: the ranked set (labels file or a secret draw from a larger split) and the models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from classifiers.pack import open_pack
from sync_server.__main__ import main
from sync_server.catalog import CatalogError, pool_selection
from sync_server.db import create_db_engine, session_factory
from sync_server.models import AiModel, RankedImage
from tests.sync_server.helpers import bundled_model_dirs, bundled_pack_dir, fake_labels

IMAGES = 12


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "ranked_labels.json"
    path.write_text(json.dumps(fake_labels(open_pack(bundled_pack_dir()), IMAGES)))
    return path


def _import(tmp_path: Path, *args: str) -> int:
    return main(["import-pack", str(bundled_pack_dir()), "--data-dir", str(tmp_path / "data"), *args])


def _stored(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, tuple[str, str]]]:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'data' / 'server.sqlite3'}")
    try:
        with session_factory(engine)() as session:
            images = {row.sha256: row.data for row in session.scalars(select(RankedImage))}
            models = {
                m.id: (m.difficulty, hashlib.sha256(m.onnx).hexdigest()) for m in session.scalars(select(AiModel))
            }
            assert session.scalar(select(func.count()).select_from(RankedImage)) == len(images)
            return images, models
    finally:
        engine.dispose()


def test_import_stores_the_ranked_images_and_the_models_themselves(
    tmp_path: Path, labels_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cnn, rf = (d for d in bundled_model_dirs() if d.name.endswith(("-rf", "-deep-v1")))
    assert _import(tmp_path, "--labels", str(labels_file), "-m", str(rf), "-m", str(cnn)) == 0
    err = capsys.readouterr().err
    assert f"{IMAGES} ranked image(s) playable" in err and "fashion-mnist-shallow-rf (easy)" in err
    images, models = _stored(tmp_path)
    pack = open_pack(bundled_pack_dir())
    assert images == {sha: pack.read_bytes(sha) for sha in json.loads(labels_file.read_text())}
    assert models == {
        "fashion-mnist-shallow-rf": ("easy", hashlib.sha256((rf / "model.onnx").read_bytes()).hexdigest()),
        "fashion-mnist-deep-v1": ("hard", hashlib.sha256((cnn / "model.onnx").read_bytes()).hexdigest()),
    }
    # Importing again replaces rather than duplicates.
    assert _import(tmp_path, "--labels", str(labels_file), "-m", str(cnn)) == 0
    assert len(_stored(tmp_path)[0]) == IMAGES


def test_a_secret_seed_draws_the_ranked_set_from_a_larger_split(tmp_path: Path) -> None:
    pack = open_pack(bundled_pack_dir())
    seed = "5e" * 32
    args = ("--pool-split", "test", "--ranked-size", "20", "--secret-seed", seed)
    assert _import(tmp_path, *args) == 0
    images, _ = _stored(tmp_path)
    test_split = {e.sha256: e.label for e in pack.splits["test"]}
    assert len(images) == 20 and set(images) <= set(test_split)
    assert set(pool_selection(pack, "test", 20, seed)) == set(images)  # reproducible by whoever holds the seed
    assert set(pool_selection(pack, "test", 20, "77" * 32)) != set(images)  # and another seed draws another set
    assert pool_selection(pack, "test", 20, seed) == {sha: test_split[sha] for sha in images}


def test_import_failures_are_one_line_with_exit_2(
    tmp_path: Path, labels_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import(tmp_path, "--labels", str(tmp_path / "missing.json")) == 2
    assert "not readable" in capsys.readouterr().err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({sha: "spaceship" for sha in json.loads(labels_file.read_text())}))
    assert _import(tmp_path, "--labels", str(wrong)) == 2
    assert "spaceship" in capsys.readouterr().err
    assert _import(tmp_path) == 2
    assert "exactly one of --labels" in capsys.readouterr().err
    assert _import(tmp_path, "--pool-split", "ranked") == 2
    assert "labelled split" in capsys.readouterr().err
    assert _import(tmp_path, "--pool-split", "test", "--secret-seed", "not-hex") == 2
    err = capsys.readouterr().err
    assert "--secret-seed must be hex" in err and "Traceback" not in err
    with pytest.raises(CatalogError, match="fewer than 5000"):
        pool_selection(open_pack(bundled_pack_dir()), "test", 5000, "00")
