"""Downloading packs from a catalog without Qt: install, resume, refusal of tampered content, removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.card import CARD_FILE
from classifiers.progress import run_to_end
from desktop.app import content_roots
from desktop.services.catalog import load_catalog
from desktop.services.downloads import (
    DownloadError,
    TamperedDownload,
    download_pack,
    installed_downloads,
    partial_dir,
    partial_downloads,
    remove_pack,
)
from desktop.services.online.errors import ServerUnreachable
from tests.helpers.catalog_packs import FakeCatalog, make_published_pack

PACK = "mini-fashion"


@pytest.fixture
def catalog(tmp_path: Path) -> FakeCatalog:
    return FakeCatalog(make_published_pack(tmp_path / "published", PACK, title="Mini fashion", models=2), PACK)


def _installed(data: Path) -> bool:
    return (data / "packs" / PACK).exists() or any((data / "models").glob(f"{PACK}-*"))


def test_a_downloaded_pack_is_playable_with_its_opponents(tmp_path: Path, catalog: FakeCatalog) -> None:
    data = tmp_path / "data"
    events = []
    installed = run_to_end(download_pack(catalog, data, PACK), events.append)
    assert installed.folders[0] == f"packs/{PACK}"
    played = load_catalog(content_roots(data))
    assert PACK in {p.id for p in played.playable_packs()}
    assert len(played.opponents_for(PACK)) == 2
    assert events[-1].done_bytes == events[-1].total_bytes == installed.total_bytes
    assert "of" in events[-1].message
    assert not partial_dir(data, PACK).exists()
    assert list(installed_downloads(data)) == [PACK]


def test_a_cut_download_resumes_where_it_stopped(tmp_path: Path, catalog: FakeCatalog) -> None:
    data = tmp_path / "data"
    total = sum(f["size"] for f in catalog.manifest["files"])
    catalog.cut_after = total // 2
    with pytest.raises(ServerUnreachable):
        run_to_end(download_pack(catalog, data, PACK))
    assert not _installed(data)
    kept = partial_downloads(data)[PACK]
    assert kept >= total // 2
    catalog.cut_after, catalog.served = None, 0
    run_to_end(download_pack(catalog, data, PACK))
    assert catalog.served <= total - total // 2 + 4096  # only the rest came again
    assert any(start > 0 for _, start in catalog.requests)  # a file resumed mid-way with a range
    assert PACK in {p.id for p in load_catalog(content_roots(data)).playable_packs()}


def test_cancelling_keeps_what_arrived(tmp_path: Path, catalog: FakeCatalog) -> None:
    data = tmp_path / "data"
    work = download_pack(catalog, data, PACK)
    for _ in range(5):
        next(work)
    work.close()  # what GeneratorWorker does on Cancel
    assert PACK in partial_downloads(data) and not _installed(data)


def test_a_tampered_file_is_refused_and_nothing_installed(tmp_path: Path, catalog: FakeCatalog) -> None:
    data = tmp_path / "data"
    image = next(f for f in catalog.manifest["files"] if "/images/" in f["path"])
    path = catalog.by_hash[image["sha256"]]
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    with pytest.raises(TamperedDownload, match="SHA-256"):
        run_to_end(download_pack(catalog, data, PACK))
    assert not _installed(data)


def test_a_card_that_does_not_match_its_onnx_is_refused(tmp_path: Path) -> None:
    published = make_published_pack(tmp_path / "published", PACK, title="Mini", models=1)
    card_path = next((published / "models").glob(f"*/{CARD_FILE}"))
    card = json.loads(card_path.read_text())
    card["onnx_sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    data = tmp_path / "data"
    with pytest.raises(TamperedDownload, match="does not match its card"):
        run_to_end(download_pack(FakeCatalog(published, PACK), data, PACK))
    assert not _installed(data) and PACK not in partial_downloads(data)


def test_a_manifest_writing_outside_the_pack_is_refused(tmp_path: Path, catalog: FakeCatalog) -> None:
    catalog.manifest["files"][0]["path"] = "../../.bashrc"
    with pytest.raises(DownloadError, match="not a file of this pack"):
        run_to_end(download_pack(catalog, tmp_path / "data", PACK))


def test_removing_a_download_leaves_the_bundled_pack(tmp_path: Path, catalog: FakeCatalog) -> None:
    data = tmp_path / "data"
    run_to_end(download_pack(catalog, data, PACK))
    remove_pack(data, PACK)
    played = load_catalog(content_roots(data))
    assert PACK not in played.packs and not _installed(data)
    assert "fashion-mnist" in played.packs
    assert not installed_downloads(data)
    with pytest.raises(DownloadError, match="cannot be removed"):
        remove_pack(data, "fashion-mnist")
