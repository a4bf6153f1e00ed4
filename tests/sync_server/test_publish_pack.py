"""`eyevsai-server publish-pack DIR`: a good publish directory becomes downloadable; a bad one is refused whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sync_server.__main__ import main
from sync_server.db import create_db_engine, session_factory
from sync_server.models import DownloadFile, DownloadPack
from tests.sync_server.publish_dirs import make_publish_dir


def _publish(tmp_path: Path, directory: Path) -> int:
    return main(["publish-pack", str(directory), "--data-dir", str(tmp_path / "data")])


def _recorded(tmp_path: Path) -> tuple[int, int]:
    """(packs, files) in the catalog; (0, 0) when the database was never made."""
    path = tmp_path / "data" / "server.sqlite3"
    if not path.exists():
        return 0, 0
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with session_factory(engine)() as session:
            count = lambda table: session.scalar(select(func.count()).select_from(table))  # noqa: E731
            return count(DownloadPack), count(DownloadFile)
    finally:
        engine.dispose()


def _refused(tmp_path: Path, directory: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert _publish(tmp_path, directory) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err  # one line
    assert _recorded(tmp_path) == (0, 0)  # nothing half-published
    return err


def test_publish_pack_stores_the_files_and_says_what_is_downloadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = make_publish_dir(tmp_path / "out")
    (out / "packs" / "fashion-mnist" / "ranked_labels.json").write_text("{}")  # the trainer's secret: never published
    assert _publish(tmp_path, out) == 0
    err = capsys.readouterr().err
    assert "Pack 'fashion-mnist' (Fashion-MNIST): 30 file(s)" in err and "model fashion-mnist-shallow-rf" in err
    assert _recorded(tmp_path) == (1, 30)
    stored = [p for p in (tmp_path / "data" / "files").rglob("*") if p.is_file()]
    assert len(stored) == 30  # pack.json, 25 images, 2 cards, 2 ONNX files: each once, by hash


def test_a_tampered_image_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = make_publish_dir(tmp_path / "out")
    image = next((out / "packs" / "fashion-mnist" / "images").rglob("*.png"))
    image.write_bytes(image.read_bytes() + b"\0")
    assert "does not match its name" in _refused(tmp_path, out, capsys)


def test_a_missing_image_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = make_publish_dir(tmp_path / "out")
    next((out / "packs" / "fashion-mnist" / "images").rglob("*.png")).unlink()
    assert "is incomplete: 1 of its 25 images are missing" in _refused(tmp_path, out, capsys)


def test_a_model_whose_onnx_does_not_match_its_card_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = make_publish_dir(tmp_path / "out")
    onnx = out / "models" / "fashion-mnist-shallow-rf" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"x")
    assert "does not match its card" in _refused(tmp_path, out, capsys)


def test_a_model_of_another_pack_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = make_publish_dir(tmp_path / "out", pack_id="other")
    assert "plays pack 'fashion-mnist', which" in _refused(tmp_path, out, capsys)


def test_a_model_with_other_classes_or_no_onnx_hash_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = make_publish_dir(tmp_path / "out")
    card_path = out / "models" / "fashion-mnist-shallow-rf" / "model.json"
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**card, "classes": list(reversed(card["classes"]))}))
    assert "names classes" in _refused(tmp_path, out, capsys)
    card_path.write_text(json.dumps({**card, "onnx_sha256": ""}))
    assert "records no onnx_sha256" in _refused(tmp_path, out, capsys)


def test_a_directory_without_a_pack_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert "holds no pack" in _refused(tmp_path, tmp_path / "empty", capsys)
