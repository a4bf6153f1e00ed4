"""The pixel work of a ranked image's per-session variant (docs/design.md §6); its parameters are game_rules.variants.

crop → scale (bilinear, OpenCV's bit-exact 8-bit path) → contrast and brightness → noise → PNG. Every step is
integer arithmetic on uint8 pixels and the output is lossless, so the decoded pixels of a variant are the same on
every machine: the server renders it for play, the game and `eyevsai verify` render it again from the revealed
seeds and compare.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from classifiers.errors import ImageDecodeError
from classifiers.preprocess import decode_image
from game_rules.variants import NOISE_LEVELS, VariantParams


def variant_pixels(image: np.ndarray, params: VariantParams) -> np.ndarray:
    """The variant of an RGB uint8 image (H, W, 3), as RGB uint8."""
    height, width = image.shape[:2]
    left, right = width * params.crop_left // 1000, width * params.crop_right // 1000
    top, bottom = height * params.crop_top // 1000, height * params.crop_bottom // 1000
    # Keep at least one row and column whatever the (tiny) image.
    cropped = image[top : max(top + 1, height - bottom), left : max(left + 1, width - right)]
    out_h = max(1, (cropped.shape[0] * params.scale + 500) // 1000)
    out_w = max(1, (cropped.shape[1] * params.scale + 500) // 1000)
    scaled = cv2.resize(np.ascontiguousarray(cropped), (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    values = scaled.astype(np.int32)
    values = (values - 128) * params.contrast // 1000 + 128 + params.brightness
    noise = hashlib.shake_256(bytes.fromhex(params.noise_seed)).digest(values.size)
    values += np.frombuffer(noise, np.uint8).reshape(values.shape).astype(np.int32) % (2 * NOISE_LEVELS + 1)
    values -= NOISE_LEVELS
    return np.clip(values, 0, 255).astype(np.uint8)


def encode_png(rgb: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:  # cannot happen for a uint8 RGB array; a bug if it does
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()


def render_variant(data: bytes, params: VariantParams, *, name: str = "ranked image") -> bytes:
    """The served PNG bytes of an encoded pack image's variant.

    Raises:
        ImageDecodeError: `data` is not a decodable image.
    """
    return encode_png(variant_pixels(decode_image(data, name=name), params))


def same_variant(served: bytes, data: bytes, params: VariantParams) -> bool:
    """True when the served image decodes to exactly the variant of `data` (another PNG encoder may have written
    other bytes for the same pixels, so pixels are compared, not hashes)."""
    try:
        shown = decode_image(served, name="served image")
        expected = variant_pixels(decode_image(data), params)
    except ImageDecodeError:  # an undecodable image simply does not match
        return False
    return shown.shape == expected.shape and bool(np.array_equal(shown, expected))
