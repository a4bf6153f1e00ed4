"""Publish directories for the download-catalog tests: a small game pack cut from the bundled one, with models."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from classifiers.pack import PACK_FILE, open_pack
from tests.sync_server.helpers import bundled_model_dirs, bundled_pack_dir

MODELS = ("fashion-mnist-shallow-logreg", "fashion-mnist-shallow-rf")


def make_publish_dir(
    out: Path, *, pack_id: str = "fashion-mnist", title: str | None = None, models: tuple[str, ...] = MODELS
) -> Path:
    """`out` laid out as `eyevsai-train publish` writes it: packs/<id> (20 test + 5 ranked images) and models/."""
    source = open_pack(bundled_pack_dir())
    meta = dict(source.meta, id=pack_id, title=title or source.title)
    test, ranked = source.meta["splits"]["test"][:20], source.meta["splits"]["ranked"][:5]
    meta["splits"] = {"train": [], "val": [], "test": test, "ranked": ranked}
    root = out / "packs" / pack_id
    for entry in test + ranked:
        image = source.image_path(entry["sha256"])
        target = root / image.relative_to(source.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target)
    (root / PACK_FILE).write_text(json.dumps(meta), encoding="utf-8")
    for model_dir in bundled_model_dirs():
        if model_dir.name in models:
            shutil.copytree(model_dir, out / "models" / model_dir.name)
    (out / "reports").mkdir(exist_ok=True)  # what publish also writes; not published
    return out
