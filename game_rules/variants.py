"""The per-session variant of a ranked image (docs/design.md §6): which small changes a round's served image gets.

The server never serves a ranked image as it is in the pack: a bot that looks the served image's hash up in the
public dataset would otherwise know the label. Each round draws its changes from the round's own HMAC stream
(`game_rules.ranked_deal.variant_for`), so they are secret while the server seed is, and anyone can redo them once
the seed is revealed. Pure parameter drawing: the pixel work is `classifiers.variants.render_variant`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

CROP_MAX_PERMILLE = 60  # each side loses up to 6 % of the image
SCALE_PERMILLE = (900, 1100)
BRIGHTNESS = (-16, 16)  # added to every channel value
CONTRAST_PERMILLE = (920, 1080)  # around mid-grey (128)
NOISE_LEVELS = 2  # every channel value moves by -2..+2 (invisible; makes precomputed tables useless)


@dataclass(frozen=True)
class VariantParams:
    """The changes of one served image, all integers so that every implementation computes the same pixels."""

    crop_left: int  # per-mille of the width cut from the left
    crop_top: int
    crop_right: int
    crop_bottom: int
    scale: int  # per-mille of the cropped size
    brightness: int
    contrast: int  # per-mille
    noise_seed: str  # 16 hex chars: SHAKE-256 of these bytes gives the per-value noise

    def to_json_obj(self) -> dict[str, int | str]:
        return asdict(self)


def _in(x: int, low: int, high: int) -> int:
    return low + x % (high - low + 1)


def params_from(stream: Iterator[int]) -> VariantParams:
    """Nine 32-bit draws, in field order, mapped onto each field's range (the noise seed takes two)."""
    crop = [_in(next(stream), 0, CROP_MAX_PERMILLE) for _ in range(4)]
    scale = _in(next(stream), *SCALE_PERMILLE)
    brightness = _in(next(stream), *BRIGHTNESS)
    contrast = _in(next(stream), *CONTRAST_PERMILLE)
    noise_seed = f"{next(stream):08x}{next(stream):08x}"
    return VariantParams(*crop, scale, brightness, contrast, noise_seed)
