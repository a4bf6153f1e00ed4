"""What the benchmarks run on: real images of the bundled game pack and the bundled ONNX models."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from classifiers.card import CARD_FILE, ONNX_FILE
from classifiers.errors import PackError
from classifiers.locations import bundled_assets_dir
from classifiers.pack import open_pack

DEFAULT_PACK = "fashion-mnist"
IMAGE_SPLITS = ("test", "ranked")  # the splits a game pack ships image files for


def load_pack_images(count: int, pack_id: str = DEFAULT_PACK) -> tuple[list[np.ndarray], int]:
    """`count` decoded RGB images of a bundled pack, cycling through them when the pack holds fewer.

    Returns:
        (images, how many distinct images the pack had).

    Raises:
        PackError: when the pack is missing or has no image files.
    """
    pack = open_pack(bundled_assets_dir() / "packs" / pack_id)
    entries = [entry for split in IMAGE_SPLITS for entry in pack.available(split)]
    if not entries:
        raise PackError(f"Pack '{pack_id}' at {pack.root} has no image files in {IMAGE_SPLITS}; reinstall it.")
    distinct = [pack.load_image(entry.sha256) for entry in entries[:count]]
    return list(itertools.islice(itertools.cycle(distinct), count)), len(entries)


def bundled_model_dirs() -> list[Path]:
    """Folders under the bundled assets' models/ that hold both a card and an ONNX file, sorted by name."""
    root = bundled_assets_dir() / "models"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CARD_FILE).is_file() and (p / ONNX_FILE).is_file())
