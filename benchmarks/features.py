"""Feature extractor throughput: our extractor whole and in parts, against scikit-image's HOG and LBP.

Each row times one pass over all the benchmark images (single process, single thread of Python), repeated;
the median pass gives images/s. The parts are timed on images already resized to the extractor's size, as
`classifiers.features.extract` sees them; scikit-image gets exactly the same greyscale arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np

# The private parts are imported on purpose: timing them separately is this module's job.
from classifiers.features import (
    FeatureParams,
    _colour_histogram,
    _gabor_energy,
    _hog,
    _lbp_histograms,
    extract,
)
from classifiers.preprocess import resize_rgb

from .timing import time_calls

WARMUP_IMAGES = 50
LBP_CODES = 10  # rotation-invariant uniform LBP with P=8: codes 0..8 plus one "non-uniform" code


@dataclass(frozen=True)
class FeatureResult:
    """One row of the feature table; the numbers are None when the implementation is not installed."""

    name: str
    images_per_s: float | None
    ms_per_image: float | None
    dim: int | None  # length of the vector it produces
    share: float | None = None  # fraction of our whole extractor's time
    slower_than_ours: float | None = None  # scikit-image rows: its time / ours for the same part
    note: str = ""


def _throughput(
    name: str, per_image: Callable[[Any], np.ndarray], inputs: Sequence[Any], repeats: int, *, has_dim: bool = True
) -> FeatureResult:
    def one_pass() -> None:
        for item in inputs:
            per_image(item)

    for item in inputs[:WARMUP_IMAGES]:
        per_image(item)
    seconds = time_calls(one_pass, repeats=repeats, warmup=0).median
    dim = int(np.asarray(per_image(inputs[0])).size) if has_dim else None
    return FeatureResult(name, len(inputs) / seconds, 1000 * seconds / len(inputs), dim)


def _ours(images: Sequence[np.ndarray], p: FeatureParams, repeats: int) -> list[FeatureResult]:
    rgb = [resize_rgb(image, p.size, p.size) for image in images]
    gray = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in rgb]
    n_gabor = p.gabor_orientations * len(p.gabor_scales)
    whole = _throughput(f"ours: whole extractor ({p.size}×{p.size})", lambda im: extract(im, p), images, repeats)
    parts = [
        _throughput(
            "  resize + grey",
            lambda im: cv2.cvtColor(resize_rgb(im, p.size, p.size), cv2.COLOR_RGB2GRAY),
            images,
            repeats,
            has_dim=False,
        ),
        _throughput(
            f"  HOG ({p.hog_cell}px cells, {p.hog_bins} bins)", lambda g: _hog(g, p.hog_cell, p.hog_bins), gray, repeats
        ),
        _throughput(f"  LBP ({p.lbp_grid}×{p.lbp_grid} grid)", lambda g: _lbp_histograms(g, p.lbp_grid), gray, repeats),
        _throughput("  colour histogram + moments", lambda im: _colour_histogram(im, p), rgb, repeats),
        _throughput(f"  Gabor energy ({n_gabor} filters)", lambda g: _gabor_energy(g, p), gray, repeats),
    ]
    hog_lbp = _throughput(
        "ours: HOG + LBP",
        lambda g: np.concatenate([_hog(g, p.hog_cell, p.hog_bins), _lbp_histograms(g, p.lbp_grid)]),
        gray,
        repeats,
    )
    whole_ms = whole.ms_per_image or 1.0
    parts = [replace(part, share=(part.ms_per_image or 0.0) / whole_ms) for part in parts]
    return [replace(whole, share=1.0), *parts, hog_lbp]


def _skimage_parts(p: FeatureParams) -> tuple[Callable[[np.ndarray], np.ndarray], ...] | None:
    """scikit-image's HOG, LBP and HOG+LBP with our parameters, or None when it is not installed."""
    try:
        from skimage.feature import hog, local_binary_pattern
    except ImportError:
        return None

    def sk_hog(gray: np.ndarray) -> np.ndarray:
        cell = (p.hog_cell, p.hog_cell)
        return hog(gray, orientations=p.hog_bins, pixels_per_cell=cell, cells_per_block=(2, 2), block_norm="L2-Hys")

    def sk_lbp(gray: np.ndarray) -> np.ndarray:
        codes = local_binary_pattern(gray, 8, 1, method="uniform").astype(np.int64)
        hists = []
        for rows in np.array_split(codes, p.lbp_grid, axis=0):
            for cell in np.array_split(rows, p.lbp_grid, axis=1):
                hist = np.bincount(cell.ravel(), minlength=LBP_CODES).astype(np.float32)
                hists.append(hist / max(1.0, hist.sum()))
        return np.concatenate(hists)

    return sk_hog, sk_lbp, lambda gray: np.concatenate([sk_hog(gray), sk_lbp(gray)])


def _skimage(
    images: Sequence[np.ndarray], p: FeatureParams, repeats: int, ours: dict[str, FeatureResult]
) -> list[FeatureResult]:
    names = ("scikit-image: HOG", "scikit-image: LBP", "scikit-image: HOG + LBP")
    parts = _skimage_parts(p)
    if parts is None:
        return [FeatureResult(name, None, None, None, note="scikit-image not installed") for name in names]
    gray = [cv2.cvtColor(resize_rgb(image, p.size, p.size), cv2.COLOR_RGB2GRAY) for image in images]
    counterparts = (ours["hog"], ours["lbp"], ours["hog+lbp"])
    results = []
    for name, part, mine in zip(names, parts, counterparts, strict=True):
        row = _throughput(name, part, gray, repeats)
        ratio = (row.ms_per_image or 0) / (mine.ms_per_image or 1.0)
        results.append(FeatureResult(row.name, row.images_per_s, row.ms_per_image, row.dim, slower_than_ours=ratio))
    return results


def measure_features(
    images: Sequence[np.ndarray], *, repeats: int, params: FeatureParams | None = None
) -> list[FeatureResult]:
    """Throughput of our extractor (whole and per part) and of scikit-image's HOG and LBP on the same images.

    Args:
        images: RGB uint8 images of any size (the pack's own size: resizing is part of the whole extractor).
        repeats: timed passes over all the images per row; the median pass is reported.
        params: extractor parameters; the default is what the bundled models use.

    Returns:
        Rows in display order: ours whole, its parts, ours HOG+LBP, then scikit-image's rows.
    """
    p = params or FeatureParams()
    ours = _ours(images, p, repeats)
    by_part = {"hog": ours[2], "lbp": ours[3], "hog+lbp": ours[-1]}
    return [*ours, *_skimage(images, p, repeats, by_part)]
