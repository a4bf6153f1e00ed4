"""A generated small pack: circles, squares and triangles drawn at random sizes, places and colours on noisy
backgrounds, 60 images per class by default: the hobbyist's pack of issue 18, for the small-data benchmark and
the small-data path's test.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from classifiers.pack import Pack, open_pack
from classifiers.progress import run_to_end
from trainer.packs import SourceImage, SplitFractions, build_pack

SHAPES = ("circle", "square", "triangle")
SHAPES_SIZE = 64
# A quarter of the images are the test split: 15 per class at 60 per class, so one error is 2.2 points.
SHAPES_FRACTIONS = SplitFractions(val=0.1, test=0.25, ranked=0.05)


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def shape_image(shape: str, rng: np.random.Generator, size: int = SHAPES_SIZE) -> np.ndarray:
    """One RGB image: a filled shape of a random colour, size and place on a noisy background of another colour."""
    background = np.array(_colour(rng), np.float32)
    image = np.clip(background + rng.normal(0, 30, (size, size, 3)), 0, 255).astype(np.uint8)
    colour = _colour(rng)
    while sum(abs(a - b) for a, b in zip(colour, background, strict=True)) < 150:  # a shape the eye can see
        colour = _colour(rng)
    radius = int(rng.integers(size // 8, size // 3))
    cx, cy = (int(v) for v in rng.integers(radius + 1, size - radius - 1, 2))
    if shape == "circle":
        cv2.circle(image, (cx, cy), radius, colour, thickness=-1, lineType=cv2.LINE_AA)
    elif shape == "square":
        cv2.rectangle(image, (cx - radius, cy - radius), (cx + radius, cy + radius), colour, thickness=-1)
    else:
        angle = rng.uniform(0, 2 * np.pi)
        corners = [
            (cx + radius * np.cos(angle + k * 2 * np.pi / 3), cy + radius * np.sin(angle + k * 2 * np.pi / 3))
            for k in range(3)
        ]
        cv2.fillPoly(image, [np.array(corners, np.int32)], colour, lineType=cv2.LINE_AA)
    return image


def shapes_sources(per_class: int = 60, seed: int = 0) -> list[SourceImage]:
    """Encoded PNG sources, `per_class` images of each shape."""
    rng = np.random.default_rng(seed)
    sources = []
    for shape in SHAPES:
        for index in range(per_class):
            ok, encoded = cv2.imencode(".png", cv2.cvtColor(shape_image(shape, rng), cv2.COLOR_RGB2BGR))
            if not ok:
                raise RuntimeError("OpenCV could not encode a PNG")
            sources.append(SourceImage(encoded.tobytes(), shape, f"{shape}/{index}.png"))
    return sources


def build_shapes_pack(out_dir: Path, *, per_class: int = 60, seed: int = 0, pack_id: str = "shapes") -> Pack:
    """Build the shapes pack into out_dir/pack_id with `trainer.packs.build_pack` and open it."""
    run_to_end(
        build_pack(
            shapes_sources(per_class, seed),
            out_dir,
            pack_id=pack_id,
            title=f"Shapes {len(SHAPES)}×{per_class}",
            licence="CC0",
            source="generated (benchmarks.shapes)",
            seed=seed,
            fractions=SHAPES_FRACTIONS,
            min_per_class=5,
        )
    )
    return open_pack(out_dir / pack_id)
