"""The AI's view of an image under a handicap (docs/design.md §4): a small thumbnail scaled back to full size.

`game_rules.answer_rules` names the handicap (`view_px`); this is the one place it is applied, used by the game's
opponent, `eyevsai verify --rerun` and the contest benchmark alike.
"""

from __future__ import annotations

import cv2
import numpy as np


def thumbnail_view(image: np.ndarray, view_px: int | None) -> np.ndarray:
    """The image as the AI sees it: shrunk to view_px × view_px (area average) and scaled back up (bilinear) to the
    image's own size, so the model's usual preprocessing applies unchanged. None: the image itself."""
    if view_px is None:
        return image
    if view_px < 1:
        raise ValueError(f"A thumbnail needs at least one pixel, got view_px={view_px}.")
    height, width = image.shape[:2]
    small = cv2.resize(image, (view_px, view_px), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
