"""`eyevsai-train pack fetch` over HTTP: the Oxford-IIIT Pet recipe against a loopback server serving tiny archives.

The archives are made here in the real layout (images/<Breed>_<n>.jpg, annotations/list.txt); the recipe's
expected MD5s are replaced by theirs (the real ones match only the real archives). Each failure (cut connection,
wrong file, 404, connection refused) must say what happened and leave no pack behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from classifiers.pack import open_pack
from classifiers.progress import run_to_end
from tests.helpers.http_server import FileServer, refused_url
from trainer import download
from trainer.cli import main
from trainer.download import RemoteFile, fetch_file
from trainer.recipes import oxford_pets
from trainer.recipes.fetch import RECIPE_FILE
from trainer.usecases import TrainerUseCases
from trainer.workspace import Workspace

BREEDS = {"Abyssinian": "1", "Bengal": "1", "beagle": "2", "pug": "2"}  # raw breed -> species id
PER_BREED = 12


def _jpeg(rng: np.random.Generator) -> bytes:
    ok, data = cv2.imencode(".jpg", rng.integers(0, 256, (24, 24, 3), dtype=np.uint8))
    assert ok
    return data.tobytes()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archives() -> dict[str, bytes]:
    """images.tar.gz and annotations.tar.gz in the Oxford layout, with an unlisted image and a non-JPEG file."""
    rng = np.random.default_rng(0)
    images = {f"images/{breed}_{i}.jpg": _jpeg(rng) for breed in BREEDS for i in range(1, PER_BREED + 1)}
    images["images/pug_99.jpg"] = _jpeg(rng)  # no line in list.txt, as in the real archive
    images["images/Abyssinian_1.mat"] = b"MATLAB 5.0"
    lines = ["#Image CLASS-ID SPECIES BREED ID", "#ID: 1:37 Class ids"]
    for class_id, (breed, species) in enumerate(BREEDS.items(), start=1):
        lines += [f"{breed}_{i} {class_id} {species} {i}" for i in range(1, PER_BREED + 1)]
    annotations = {"annotations/list.txt": ("\n".join(lines) + "\n").encode()}
    return {"images.tar.gz": _tar_gz(images), "annotations.tar.gz": _tar_gz(annotations)}


@pytest.fixture()
def published(archives: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The recipe expects the tiny archives' MD5s; resumed attempts do not wait."""
    checksums = tuple((name, hashlib.md5(data).hexdigest()) for name, data in archives.items())
    monkeypatch.setattr(oxford_pets, "ARCHIVES", checksums)
    monkeypatch.setattr(download, "RETRY_WAIT_S", 0.0)
    return archives


def _served(files: dict[str, bytes]) -> dict[str, bytes]:
    return {f"/pets/data/{name}": data for name, data in files.items()}


def _fetch(capsys, workspace: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(workspace), "pack", "fetch", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def _assert_nothing_built(workspace: Path) -> None:
    packs = workspace / "packs"
    assert not packs.exists() or not any(packs.iterdir()), list(packs.iterdir())


def test_fetch_builds_the_breed_pack_with_its_manifest(published, tmp_path, capsys):
    with FileServer(_served(published)) as server:
        code, out, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/pets/data/"))
    assert code == 0, err
    pack = open_pack(tmp_path / "packs" / "oxford-pets")
    assert pack.classes == ["abyssinian", "beagle", "bengal", "pug"]
    assert sum(len(entries) for entries in pack.splits.values()) == len(BREEDS) * PER_BREED  # unlisted one left out
    assert pack.meta["licence"].startswith("CC BY-SA 4.0")
    manifest = json.loads((pack.root / RECIPE_FILE).read_text())
    assert manifest["citation"].startswith("O. M. Parkhi")
    assert manifest["class_mapping"]["labels"]["Abyssinian"] == "abyssinian"
    assert manifest["skipped"] == {"unlisted": 1}
    for entry in manifest["archives"]:
        data = published[entry["name"]]
        assert entry["md5"] == entry["expected_md5"] == hashlib.md5(data).hexdigest()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    downloads = sorted(p.name for p in (tmp_path / "downloads" / "oxford-iiit-pet").iterdir())
    assert downloads == ["annotations.tar.gz", "images.tar.gz"]  # verified archives, no .part left
    assert [p.name for p in (tmp_path / "packs").iterdir()] == ["oxford-pets"]  # no staging folder left
    assert "recipe.json" in out


def test_the_cat_dog_variant_labels_by_species(published, tmp_path):
    usecases = TrainerUseCases(Workspace(tmp_path))
    with FileServer(_served(published)) as server:
        report = run_to_end(usecases.fetch_pack("oxford-pets-catdog", base_url=server.url("/pets/data"), limit=5))
    pack = open_pack(report.pack_dir)
    assert (pack.id, pack.classes) == ("cats-dogs", ["cat", "dog"])
    assert sum(len(entries) for entries in pack.splits.values()) == 10  # --limit 5 per class


def test_a_cut_connection_resumes_from_where_it_stopped(published, tmp_path, capsys):
    size = len(published["images.tar.gz"])
    files = _served(published)
    with FileServer(files, cut_after={"/pets/data/images.tar.gz": size // 2}, cuts=1) as server:
        code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/pets/data/"))
    assert code == 0, err
    ranges = [r.range for r in server.requests if r.path.endswith("images.tar.gz")]
    assert ranges == [None, f"bytes={size // 2}-"]  # the second request asked only for the missing half
    assert open_pack(tmp_path / "packs" / "oxford-pets").classes == ["abyssinian", "beagle", "bengal", "pug"]


def test_a_connection_that_keeps_breaking_keeps_the_part_for_the_next_run(published, tmp_path, capsys):
    size = len(published["images.tar.gz"])
    files = _served(published)
    with FileServer(files, cut_after={"/pets/data/images.tar.gz": 1000}) as server:
        code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/pets/data/"))
    assert code == 2
    assert "kept breaking" in _error_line(err) and "Rerun the same command to resume" in err
    part = tmp_path / "downloads" / "oxford-iiit-pet" / "images.tar.gz.part"
    assert 0 < part.stat().st_size < size
    _assert_nothing_built(tmp_path)

    kept = part.stat().st_size
    with FileServer(files) as server:
        code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/pets/data/"))
    assert code == 0, err
    # the images archive resumed from the kept bytes (annotations come after it, so they start afresh)
    assert [(Path(r.path).name, r.range) for r in server.requests] == [
        ("images.tar.gz", f"bytes={kept}-"),
        ("annotations.tar.gz", None),
    ]
    assert not part.exists()


def test_a_wrong_file_is_refused_and_deleted(published, tmp_path, capsys):
    files = _served({**published, "annotations.tar.gz": b"an error page, not an archive"})
    with FileServer(files) as server:
        code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/pets/data/"))
    assert code == 2
    line = _error_line(err)
    assert "annotations.tar.gz" in line and "does not match its published checksum" in line
    expected = dict(oxford_pets.ARCHIVES)["annotations.tar.gz"]
    assert f"MD5 {expected}" in line and hashlib.md5(b"an error page, not an archive").hexdigest() in line
    assert not (tmp_path / "downloads" / "oxford-iiit-pet" / "annotations.tar.gz.part").exists()
    assert not (tmp_path / "downloads" / "oxford-iiit-pet" / "annotations.tar.gz").exists()
    _assert_nothing_built(tmp_path)


def test_a_missing_file_says_404(published, tmp_path, capsys):
    with FileServer({}) as server:
        code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/moved/"))
    assert code == 2
    assert "404 Not Found" in _error_line(err) and "/moved/images.tar.gz" in err
    _assert_nothing_built(tmp_path)


def test_offline_says_it_could_not_connect(published, tmp_path, capsys):
    code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", refused_url("/pets/data/"))
    assert code == 2
    line = _error_line(err)
    assert "Could not connect to 127.0.0.1" in line and "Check the internet connection" in line
    _assert_nothing_built(tmp_path)
    assert not list((tmp_path / "downloads").rglob("*.part"))


def test_an_existing_pack_is_refused_before_any_download(published, tmp_path, capsys):
    (tmp_path / "packs" / "oxford-pets").mkdir(parents=True)
    with FileServer(_served(published)) as server:
        code, _, err = _fetch(capsys, tmp_path, "oxford-pets", "--base-url", server.url("/pets/data/"))
    assert code == 2 and "already exists" in _error_line(err)
    assert server.requests == []


def test_a_server_that_ignores_range_is_downloaded_again_from_the_start(tmp_path):
    data = bytes(range(256)) * 40
    dest = tmp_path / "file.bin"
    dest.with_name("file.bin.part").write_bytes(b"stale bytes from another file")
    with FileServer({"/file.bin": data}, honour_range=False) as server:
        remote = RemoteFile("file.bin", server.url("/file.bin"), sha256=hashlib.sha256(data).hexdigest())
        fetched = run_to_end(fetch_file(remote, dest))
    assert dest.read_bytes() == data and fetched.size == len(data)


def test_a_verified_download_is_not_fetched_twice(tmp_path):
    data = b"x" * 5000
    remote_md5 = hashlib.md5(data).hexdigest()
    with FileServer({"/f": data}) as server:
        remote = RemoteFile("f", server.url("/f"), md5=remote_md5)
        run_to_end(fetch_file(remote, tmp_path / "f"))
        events = []
        run_to_end(fetch_file(remote, tmp_path / "f"), events.append)
    assert len(server.requests) == 1
    assert "already downloaded" in events[-1].message


def test_progress_reports_bytes_rate_and_eta(tmp_path):
    data = bytes(3_000_000)
    with FileServer({"/big": data}) as server:
        events = []
        run_to_end(fetch_file(RemoteFile("big", server.url("/big")), tmp_path / "big"), events.append)
    last = events[-1]
    assert (last.stage, last.done, last.total) == ("big", len(data), len(data))
    assert "3.0 MB of 3.0 MB" in last.message and "/s" in last.message


def test_an_unknown_recipe_lists_the_known_ones(tmp_path, capsys):
    code, _, err = _fetch(capsys, tmp_path, "imagenet")
    assert code == 2 and "oxford-pets" in _error_line(err) and "combined" in err
