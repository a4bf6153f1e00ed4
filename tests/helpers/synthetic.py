"""A tiny synthetic pack whose classes are learnable: each class has its own colour and stripe direction."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from classifiers.pack import Pack, open_pack
from classifiers.progress import run_to_end
from trainer.packs import SourceImage, SplitFractions, build_pack

CLASS_STYLES = {
    "red_horizontal": ((220, 40, 40), 0),
    "green_vertical": ((40, 200, 60), 1),
    "blue_diagonal": ((50, 70, 220), 2),
    "yellow_dots": ((230, 210, 40), 3),
}


def synthetic_image(label: str, rng: np.random.Generator, size: int = 48) -> np.ndarray:
    colour, pattern = CLASS_STYLES[label]
    base = np.clip(np.array(colour) + rng.normal(0, 25, 3), 0, 255)
    image = np.full((size, size, 3), base, np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    period = rng.integers(6, 10)
    if pattern == 0:
        mask = (yy // (period // 2)) % 2 == 0
    elif pattern == 1:
        mask = (xx // (period // 2)) % 2 == 0
    elif pattern == 2:
        mask = ((xx + yy) // (period // 2)) % 2 == 0
    else:
        mask = ((xx % period) < 3) & ((yy % period) < 3)
    image[mask] *= 0.45
    image += rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def synthetic_sources(per_class: int, seed: int = 0, classes: list[str] | None = None) -> list[SourceImage]:
    rng = np.random.default_rng(seed)
    items = []
    for label in classes or list(CLASS_STYLES):
        for i in range(per_class):
            rgb = synthetic_image(label, rng)
            ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            assert ok
            items.append(SourceImage(encoded.tobytes(), label, f"{label}/{i}.png"))
    return items


def make_synthetic_pack(
    out_dir: Path, pack_id: str = "synthetic", per_class: int = 40, seed: int = 0, classes: list[str] | None = None
) -> Pack:
    run_to_end(
        build_pack(
            synthetic_sources(per_class, seed, classes),
            out_dir,
            pack_id=pack_id,
            title="Synthetic stripes",
            licence="CC0",
            source="tests",
            seed=seed,
            fractions=SplitFractions(val=0.15, test=0.2, ranked=0.1),
            min_per_class=5,
        )
    )
    return open_pack(out_dir / pack_id)
