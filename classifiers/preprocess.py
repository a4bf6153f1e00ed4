"""The one image preprocessing implementation, used at training and at play time: decode, then resize.

Image models take raw RGB uint8 NHWC at their card's size (normalisation lives inside the ONNX graph), so
decode + resize is all a caller ever does. The resize follows the card's `input.resize` (interpolation and crop),
so a re-run with another library can reproduce the model's input (docs/design.md §3).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from classifiers.card import DEFAULT_RESIZE, ResizeSpec
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


# The card's interpolation names (classifiers.card.RESIZE_INTERPOLATIONS) as OpenCV flags.
_CV2_INTERPOLATION = {
    "area": cv2.INTER_AREA,
    "bilinear": cv2.INTER_LINEAR,
    "nearest": cv2.INTER_NEAREST,
    "bicubic": cv2.INTER_CUBIC,
}


def resize_rgb(image: np.ndarray, height: int, width: int, resize: ResizeSpec | None = None) -> np.ndarray:
    """Resize an RGB uint8 image to exactly (height, width, 3) as the model card's `input.resize` says.

    Args:
        resize: the card's resize; None means DEFAULT_RESIZE (area when shrinking, no aliasing; bilinear when
            enlarging; no crop), what every model was trained and played with before cards stated it.
    """
    spec = resize or DEFAULT_RESIZE
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if spec.crop == "center":
        image = center_crop(image, height / width)
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image, dtype=np.uint8)
    shrinking = image.shape[0] >= height and image.shape[1] >= width
    interpolation = _CV2_INTERPOLATION[spec.shrink if shrinking else spec.enlarge]
    return cv2.resize(image, (width, height), interpolation=interpolation)


def center_crop(image: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred region of `image` whose height / width is `aspect` (odd margins: one more at the end)."""
    rows, cols = image.shape[:2]
    if rows > round(cols * aspect):
        keep = max(1, round(cols * aspect))
        top = (rows - keep) // 2
        return image[top : top + keep]
    keep = max(1, round(rows / aspect))
    left = (cols - keep) // 2
    return image[:, left : left + keep]


def prepare_batch(images: list[np.ndarray], height: int, width: int, resize: ResizeSpec | None = None) -> np.ndarray:
    """Stack images resized to (height, width) (as `resize` says) into one uint8 NHWC batch."""
    return np.stack([resize_rgb(image, height, width, resize) for image in images]).astype(np.uint8, copy=False)
