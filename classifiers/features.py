"""Hand-crafted image features for the shallow family: HOG, LBP, colour histograms and Gabor texture.

The same code runs at training time and at play time (OpenCV + NumPy only), and a model card names the
extractor and its parameters so the game recomputes exactly the vector the model was trained on.

Grey packs (Fashion-MNIST) leave the colour histogram out (`colour=False`: a constant hue, no saturation, a
sixth of the time), and small images run Gabor at their own size (`gabor_size`) instead of upscaled to `size`.
A card without these parameters means the full set at `size`, what every model was trained with before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from classifiers.card import ResizeSpec
from classifiers.errors import ConfigError
from classifiers.preprocess import resize_rgb

EXTRACTOR_NAME = "hog_lbp_color_gabor"
EXTRACTOR_VERSION = 1


@dataclass(frozen=True)
class FeatureParams:
    """Parameters of the extractor; stored verbatim in the model card."""

    size: int = 64  # images are resized to size×size first
    hog_cell: int = 8
    hog_bins: int = 9
    lbp_grid: int = 2  # LBP histograms over grid×grid regions
    hue_bins: int = 8
    sat_bins: int = 4
    val_bins: int = 4
    gabor_orientations: int = 4
    gabor_scales: tuple[float, ...] = (2.0, 4.0)  # Gabor sigmas in pixels of the size×size image
    colour: bool = True  # the colour histogram and channel moments (False for grey images)
    gabor_size: int | None = None  # Gabor runs on the image resized to this side, scales shrunk alike (None: size)
    version: int = EXTRACTOR_VERSION

    def __post_init__(self) -> None:
        for name in ("size", "hog_cell", "hog_bins", "lbp_grid", "hue_bins", "sat_bins", "val_bins"):
            if getattr(self, name) < 1:
                raise ConfigError(f"Feature parameter {name} must be a positive integer, got {getattr(self, name)}.")
        if self.gabor_orientations < 0 or any(scale <= 0 for scale in self.gabor_scales):
            raise ConfigError(
                f"gabor_orientations ({self.gabor_orientations}) must be >= 0 and gabor_scales "
                f"({list(self.gabor_scales)}) positive."
            )
        if self.version != EXTRACTOR_VERSION:
            raise ConfigError(
                f"Feature extractor version {self.version} is not this build's ({EXTRACTOR_VERSION}); "
                "update EyeVsAI or re-train the model."
            )
        if self.gabor_size is not None and not 1 <= self.gabor_size <= self.size:
            raise ConfigError(f"gabor_size must be from 1 to size ({self.size}), got {self.gabor_size}.")
        if self.size % self.hog_cell or self.size < 2 * self.hog_cell:
            raise ConfigError(
                f"size ({self.size}) must be a multiple of hog_cell ({self.hog_cell}), at least two cells."
            )

    def to_card(self) -> dict[str, Any]:
        params = asdict(self)
        params["gabor_scales"] = list(self.gabor_scales)
        for name in ("colour", "gabor_size"):  # at their defaults: the card reads as before they existed
            if params[name] == FeatureParams.__dataclass_fields__[name].default:
                del params[name]
        return {"name": EXTRACTOR_NAME, "params": params}

    @classmethod
    def from_card(cls, extractor: dict[str, Any]) -> FeatureParams:
        if extractor.get("name") != EXTRACTOR_NAME:
            raise ConfigError(
                f"Unknown feature extractor {extractor.get('name')!r}; this build has {EXTRACTOR_NAME!r}."
            )
        params = dict(extractor.get("params") or {})
        if "gabor_scales" in params:
            params["gabor_scales"] = tuple(params["gabor_scales"])
        unknown = sorted(set(params) - set(cls.__dataclass_fields__))
        if unknown:  # a card from a newer trainer: fail plainly, not with a TypeError
            raise ConfigError(f"Feature extractor parameters {unknown} are unknown to this build; update EyeVsAI.")
        return cls(**params)


def _hog(gray: np.ndarray, cell: int, bins: int) -> np.ndarray:
    """Dalal–Triggs HOG: unsigned orientations, 2×2-cell blocks at one-cell stride, L2-Hys normalised.

    Written here because OpenCV 5's wheels no longer ship cv2.HOGDescriptor.
    """
    source = gray.astype(np.float32)
    gx = cv2.Sobel(source, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(source, cv2.CV_32F, 0, 1, ksize=1)
    magnitude, angle = cv2.cartToPolar(gx, gy, angleInDegrees=True)
    position = (angle % 180.0) * (bins / 180.0)
    low = np.floor(position)
    upper_share = position - low
    low = low.astype(np.int64) % bins
    high = (low + 1) % bins
    height, width = gray.shape
    cells_y, cells_x = height // cell, width // cell
    cell_index = (np.arange(height) // cell)[:, None] * cells_x + (np.arange(width) // cell)[None, :]
    size = cells_y * cells_x * bins
    hist = np.bincount((cell_index * bins + low).ravel(), (magnitude * (1 - upper_share)).ravel(), size)
    hist += np.bincount((cell_index * bins + high).ravel(), (magnitude * upper_share).ravel(), size)
    hist = hist.reshape(cells_y, cells_x, bins)
    blocks = np.concatenate([hist[:-1, :-1], hist[:-1, 1:], hist[1:, :-1], hist[1:, 1:]], axis=-1)
    blocks /= np.sqrt((blocks**2).sum(-1, keepdims=True) + 1e-6)
    np.minimum(blocks, 0.2, out=blocks)
    blocks /= np.sqrt((blocks**2).sum(-1, keepdims=True) + 1e-6)
    return blocks.ravel().astype(np.float32)


@lru_cache(maxsize=8)
def _gabor_bank(orientations: int, scales: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    kernels = []
    for sigma in scales:
        ksize = int(6 * sigma) | 1
        for k in range(orientations):
            theta = np.pi * k / orientations
            kern = cv2.getGaborKernel((ksize, ksize), sigma, theta, 4.0 * sigma, 0.5, 0, ktype=cv2.CV_32F)
            kernels.append(kern - kern.mean())
    return tuple(kernels)


# Rotation-invariant uniform LBP (P=8, R=1): codes 0..8 for uniform patterns, 9 for the rest.
def _lbp_lookup() -> np.ndarray:
    table = np.empty(256, dtype=np.uint8)
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        transitions = sum(bits[i] != bits[(i + 1) % 8] for i in range(8))
        table[code] = sum(bits) if transitions <= 2 else 9
    return table


_LBP_TABLE = _lbp_lookup()
_LBP_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _lbp_codes(gray: np.ndarray) -> np.ndarray:
    centre = gray[1:-1, 1:-1]
    height, width = gray.shape
    code = np.zeros(centre.shape, dtype=np.uint8)
    for bit, (dy, dx) in enumerate(_LBP_OFFSETS):
        neighbour = gray[1 + dy : height - 1 + dy, 1 + dx : width - 1 + dx]
        code |= (neighbour >= centre).astype(np.uint8) << bit
    return _LBP_TABLE[code]


def _lbp_histograms(gray: np.ndarray, grid: int) -> np.ndarray:
    codes = _lbp_codes(gray)
    hists = []
    for rows in np.array_split(codes, grid, axis=0):
        for cell in np.array_split(rows, grid, axis=1):
            hist = np.bincount(cell.ravel(), minlength=10).astype(np.float32)
            hists.append(hist / max(1.0, hist.sum()))
    return np.concatenate(hists)


def _colour_histogram(rgb: np.ndarray, p: FeatureParams) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [p.hue_bins, p.sat_bins, p.val_bins], [0, 180, 0, 256, 0, 256])
    hist = hist.ravel()
    hist /= max(1.0, float(hist.sum()))
    moments = np.concatenate([rgb.reshape(-1, 3).mean(0), rgb.reshape(-1, 3).std(0)]) / 255.0
    return np.concatenate([hist, moments.astype(np.float32)])


def _gabor_energy(gray: np.ndarray, p: FeatureParams) -> np.ndarray:
    source = gray.astype(np.float32) / 255.0
    shrink = gray.shape[0] / p.size  # sigmas are in pixels of the size×size image: keep their share of the picture
    scales = p.gabor_scales if shrink == 1 else tuple(scale * shrink for scale in p.gabor_scales)
    stats = []
    for kernel in _gabor_bank(p.gabor_orientations, scales):
        response = np.abs(cv2.filter2D(source, cv2.CV_32F, kernel))
        stats.extend((float(response.mean()), float(response.std())))
    return np.asarray(stats, dtype=np.float32)


def extract(image: np.ndarray, params: FeatureParams | None = None, *, resize: ResizeSpec | None = None) -> np.ndarray:
    """The feature vector (float32, 1-D) of one RGB uint8 image of any size; `resize` is the card's (None: the
    default resize)."""
    p = params or FeatureParams()
    rgb = resize_rgb(image, p.size, p.size, resize)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    parts = [_hog(gray, p.hog_cell, p.hog_bins), _lbp_histograms(gray, p.lbp_grid)]
    if p.colour:
        parts.append(_colour_histogram(rgb, p))
    if p.gabor_size is not None and p.gabor_size != p.size:
        gray = cv2.cvtColor(resize_rgb(image, p.gabor_size, p.gabor_size, resize), cv2.COLOR_RGB2GRAY)
    parts.append(_gabor_energy(gray, p))
    return np.concatenate(parts).astype(np.float32)


def extract_batch(
    images: list[np.ndarray], params: FeatureParams | None = None, *, resize: ResizeSpec | None = None
) -> np.ndarray:
    """Stack the feature vectors of several images into an (N, D) float32 array."""
    return np.stack([extract(image, params, resize=resize) for image in images])


def is_grey(image: np.ndarray) -> bool:
    """Whether an RGB image has no colour: its three channels are equal everywhere."""
    if image.ndim == 2:
        return True
    return bool(np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))


def feature_dim(params: FeatureParams | None = None) -> int:
    return int(extract(np.zeros((8, 8, 3), np.uint8), params).shape[0])
