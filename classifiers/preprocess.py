"""The one image preprocessing implementation, used at training and at play time: decode, then resize.

Image models take raw RGB uint8 NHWC at their card's size (normalisation lives inside the ONNX graph), so
decode + resize is all a caller ever does.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from classifiers.errors import ImageDecodeError


def decode_image(data: bytes, *, name: str = "image") -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, WebP, BMP...) to RGB uint8, shape (H, W, 3).

    Raises:
        ImageDecodeError: when the bytes are not a decodable image.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    bgr = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if buffer.size else None
    if bgr is None:
        raise ImageDecodeError(f"Could not decode {name} ({len(data)} bytes): not a supported image file.")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_image(path: str | Path) -> np.ndarray:
    """Read and decode an image file to RGB uint8 (H, W, 3)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageDecodeError(f"Could not read image {path}: {exc.strerror or exc}.") from exc
    return decode_image(data, name=str(path))


def resize_rgb(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize an RGB uint8 image to exactly (height, width, 3).

    Area interpolation when shrinking (no aliasing), bilinear when enlarging.
    """
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image, dtype=np.uint8)
    shrinking = image.shape[0] >= height and image.shape[1] >= width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def prepare_batch(images: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """Stack images resized to (height, width) into one uint8 NHWC batch."""
    return np.stack([resize_rgb(image, height, width) for image in images]).astype(np.uint8, copy=False)
