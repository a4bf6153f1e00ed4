"""Small packs with real opponents for the download tests: the bundled pack cut down and renamed, its smallest model
re-carded for it (the ONNX is unchanged, so the card still matches it), laid out as `eyevsai-train publish` writes
(models/<id>/) with the game's pack beside it (packs/<id>/), and a fake server catalog that serves such a folder."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from classifiers.card import CARD_FILE, ONNX_FILE, file_sha256
from classifiers.locations import bundled_assets_dir
from classifiers.pack import PACK_FILE, image_relpath
from desktop.services.online.errors import ServerUnreachable

BUNDLED = "fashion-mnist"
MODELS = ("fashion-mnist-shallow-logreg", "fashion-mnist-deep-v1")


def make_published_pack(out: Path, pack_id: str, *, title: str, images: int = 24, models: int = 1) -> Path:
    """A publish folder for pack `pack_id` (a renamed slice of the bundled pack) with `models` opponents."""
    assets = bundled_assets_dir()
    meta = json.loads((assets / "packs" / BUNDLED / PACK_FILE).read_text(encoding="utf-8"))
    test = meta["splits"]["test"][:images]
    meta.update(id=pack_id, title=title, splits={"train": [], "val": [], "test": test, "ranked": []})
    pack_dir = out / "packs" / pack_id
    for entry in test:
        found = next((assets / "packs" / BUNDLED / "images" / entry["sha256"][:2]).glob(f"{entry['sha256']}.*"))
        target = pack_dir / image_relpath(entry["sha256"], found.suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, target)
    (pack_dir / PACK_FILE).write_text(json.dumps(meta), encoding="utf-8")
    for name in MODELS[:models]:
        model_id = name.replace(BUNDLED, pack_id)
        card = json.loads((assets / "models" / name / CARD_FILE).read_text(encoding="utf-8"))
        card.update(id=model_id, pack_id=pack_id)
        folder = out / "models" / model_id
        folder.mkdir(parents=True)
        shutil.copyfile(assets / "models" / name / ONNX_FILE, folder / ONNX_FILE)
        (folder / CARD_FILE).write_text(json.dumps(card), encoding="utf-8")
    return out


def manifest_of(folder: Path, pack_id: str) -> dict[str, Any]:
    """The manifest a catalog server gives for a publish folder (the layout of /downloads/packs/{id}/manifest)."""
    paths = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).parts[0] in ("packs", "models")
    )
    files = [
        {"path": p.relative_to(folder).as_posix(), "sha256": file_sha256(p), "size": p.stat().st_size} for p in paths
    ]
    return {"pack_id": pack_id, "files": files}


class FakeCatalog:
    """Serves a publish folder by content hash, with ranges; it can go offline after some bytes (a cut line)."""

    def __init__(self, folder: Path, pack_id: str) -> None:
        self.manifest = manifest_of(folder, pack_id)
        self.by_hash = {f["sha256"]: folder / f["path"] for f in self.manifest["files"]}
        self.cut_after: int | None = None  # bytes served before the connection drops
        self.served = 0
        self.requests: list[tuple[str, int]] = []

    def catalog_manifest(self, pack_id: str) -> dict[str, Any]:
        return json.loads(json.dumps(self.manifest))

    @contextmanager
    def catalog_file(self, sha256: str, *, start: int = 0) -> Iterator[tuple[int, Iterator[bytes]]]:
        self.requests.append((sha256, start))
        data = self.by_hash[sha256].read_bytes()
        yield start, self._chunks(data[start:])

    def _chunks(self, data: bytes) -> Iterator[bytes]:
        for at in range(0, len(data), 4096):
            if self.cut_after is not None and self.served >= self.cut_after:
                raise ServerUnreachable("The download stopped (connection cut).")
            chunk = data[at : at + 4096]
            self.served += len(chunk)
            yield chunk
