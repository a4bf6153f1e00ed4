"""Where the AI looked: an occlusion-sensitivity heatmap of a model's answer, for every family (shallow included).

The image is copied once per patch of a grid, each copy with one patch replaced by a blurred version of itself
(so a dark background stays dark and only detail is removed), and all copies go through the model in one batch.
How much the answer's probability drops when a patch is hidden is that patch's heat; the grid is upsampled to the
image's size. It needs nothing but the model's `predict_batch`, so it works the same for pixels and features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

DEFAULT_GRID = 5  # 5×5 patches: 26 images per batch keeps every bundled model under 150 ms on 2 CPU cores
PATCH_SCALE = 2.0  # a patch spans two grid cells, so neighbouring patches overlap and the map is smooth


class BatchPredictor(Protocol):
    """Anything that turns RGB uint8 images into class probabilities (OnnxClassifier does)."""

    def predict_batch(self, images: list[np.ndarray]) -> np.ndarray: ...


@dataclass(frozen=True)
class Heatmap:
    """An occlusion heatmap.

    Attributes:
        label_index: the class column explained.
        probability: the model's probability of that class on the whole image.
        grid: (g, g) float32, the probability drop when each patch is hidden (negative: hiding it helped).
        heat: (H, W) float32 in 0..1, the positive drops upsampled to the image's size and scaled so the hottest
            pixel is 1 (all zeros when no patch mattered).
    """

    label_index: int
    probability: float
    grid: np.ndarray
    heat: np.ndarray


def occluded_copies(image: np.ndarray, grid: int = DEFAULT_GRID) -> list[np.ndarray]:
    """grid × grid copies of the image, copy (row, col) with the patch around cell (row, col) blurred out."""
    height, width = image.shape[:2]
    blurred = cv2.GaussianBlur(image, (0, 0), sigmaX=max(height, width) / grid)
    patch_h = max(1, math.ceil(height / grid * PATCH_SCALE))
    patch_w = max(1, math.ceil(width / grid * PATCH_SCALE))
    copies = []
    for row in range(grid):
        for col in range(grid):
            cy, cx = int((row + 0.5) * height / grid), int((col + 0.5) * width / grid)
            top, left = max(0, cy - patch_h // 2), max(0, cx - patch_w // 2)
            copy = image.copy()
            copy[top : top + patch_h, left : left + patch_w] = blurred[top : top + patch_h, left : left + patch_w]
            copies.append(copy)
    return copies


def occlusion_heatmap(
    model: BatchPredictor, image: np.ndarray, label_index: int, *, grid: int = DEFAULT_GRID
) -> Heatmap:
    """The occlusion heatmap of class `label_index` (the AI's answer) on an RGB uint8 image, in one batch.

    Raises:
        ValueError: grid < 1 or a label index outside the model's output.
    """
    if grid < 1:
        raise ValueError(f"The heatmap grid needs at least one cell, got {grid}.")
    probabilities = model.predict_batch([image, *occluded_copies(image, grid)])
    if not 0 <= label_index < probabilities.shape[1]:
        raise ValueError(f"Class index {label_index} is outside the model's {probabilities.shape[1]} classes.")
    base = float(probabilities[0, label_index])
    drops = (base - probabilities[1:, label_index]).reshape(grid, grid).astype(np.float32)
    height, width = image.shape[:2]
    heat = cv2.resize(np.clip(drops, 0, None), (width, height), interpolation=cv2.INTER_CUBIC)
    heat = np.clip(heat, 0, None)
    peak = float(heat.max())
    heat = heat / peak if peak > 1e-6 else np.zeros_like(heat)
    return Heatmap(label_index, base, drops, heat.astype(np.float32))


def overlay(image: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """The image with the heat drawn over it (OpenCV's JET colours: red is hot), RGB uint8 of the image's size."""
    if heat.shape != image.shape[:2]:
        heat = cv2.resize(heat, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    colours = cv2.cvtColor(cv2.applyColorMap(np.uint8(np.clip(heat, 0, 1) * 255), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    weight = (alpha * np.clip(heat, 0, 1))[..., None]  # cold pixels keep the image, hot ones take the colour
    return np.uint8(np.clip(image * (1 - weight) + colours * weight, 0, 255))
