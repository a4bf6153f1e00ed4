"""`eyevsai-server import-pack`: ranked labels and prediction tables into the server's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from classifiers.card import read_card
from classifiers.pack import open_pack
from sync_server.__main__ import main
from sync_server.db import create_db_engine, session_factory
from sync_server.models import AiModel, Prediction, RankedImage
from tests.sync_server.helpers import bundled_model_dirs, bundled_pack_dir, fake_labels, fake_table

IMAGES = 12


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "ranked_labels.json"
    path.write_text(json.dumps(fake_labels(open_pack(bundled_pack_dir()), IMAGES)))
    return path


def _import(tmp_path: Path, *args: str) -> int:
    return main(["import-pack", str(bundled_pack_dir()), "--data-dir", str(tmp_path / "data"), *args])


def test_import_runs_models_without_a_table_and_uses_given_tables(
    tmp_path: Path, labels_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rf, svm = (d for d in bundled_model_dirs() if d.name.endswith(("-rf", "-svm")))
    table = tmp_path / "svm.json"
    labels = json.loads(labels_file.read_text())
    table.write_text(json.dumps(fake_table(read_card(svm), labels).to_json_obj()))
    assert _import(tmp_path, "--labels", str(labels_file), "-m", str(rf), "-m", str(svm), "-p", str(table)) == 0
    err = capsys.readouterr().err
    assert f"{IMAGES} ranked image(s) playable" in err and "fashion-mnist-shallow-rf (easy)" in err
    engine = create_db_engine(f"sqlite:///{tmp_path / 'data' / 'server.sqlite3'}")
    try:
        with session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(RankedImage)) == IMAGES
            models = {m.id: m.difficulty for m in session.scalars(select(AiModel))}
            assert models == {"fashion-mnist-shallow-rf": "easy", "fashion-mnist-shallow-svm": "hard"}
            computed = session.scalars(select(Prediction).where(Prediction.model_id == "fashion-mnist-shallow-rf"))
            rows = [row.probabilities for row in computed]
            given = session.scalars(select(Prediction).where(Prediction.model_id == "fashion-mnist-shallow-svm"))
            assert {max(row.probabilities) for row in given} == {0.7}  # the table's values, not a re-run
    finally:
        engine.dispose()
    # The rf rows come from running the ONNX model: real probability vectors over the ten classes.
    assert len(rows) == IMAGES and all(len(r) == 10 and abs(sum(r) - 1) < 1e-3 for r in rows)
    # Importing again replaces rather than duplicates.
    assert _import(tmp_path, "--labels", str(labels_file), "-m", str(svm), "-p", str(table)) == 0


def test_import_failures_are_one_line_with_exit_2(
    tmp_path: Path, labels_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svm = next(d for d in bundled_model_dirs() if d.name.endswith("-svm"))
    assert _import(tmp_path, "--labels", str(tmp_path / "missing.json")) == 2
    assert "not readable" in capsys.readouterr().err
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({sha: "spaceship" for sha in json.loads(labels_file.read_text())}))
    assert _import(tmp_path, "--labels", str(wrong)) == 2
    assert "spaceship" in capsys.readouterr().err
    orphan = tmp_path / "orphan.json"
    orphan.write_text(json.dumps(fake_table(read_card(svm), json.loads(labels_file.read_text())).to_json_obj()))
    assert _import(tmp_path, "--labels", str(labels_file), "-p", str(orphan)) == 2
    assert "without the model directory" in capsys.readouterr().err
    short = tmp_path / "short.json"
    labels = json.loads(labels_file.read_text())
    short.write_text(json.dumps(fake_table(read_card(svm), dict(list(labels.items())[:3])).to_json_obj()))
    assert _import(tmp_path, "--labels", str(labels_file), "-m", str(svm), "-p", str(short)) == 2
    err = capsys.readouterr().err
    assert "no row for 9 ranked image(s)" in err and "Traceback" not in err


def test_a_missing_or_broken_prediction_table_is_one_catalog_error(tmp_path: Path) -> None:
    from sync_server.catalog import CatalogError, read_prediction_table

    with pytest.raises(CatalogError, match="missing.json"):
        read_prediction_table(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError, match="broken.json.*JSONDecodeError"):
        read_prediction_table(broken)
