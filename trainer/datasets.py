"""Importers for labelled datasets that ship inside a package (the machines reach only package registries).

Each packaged dataset turns its files into SourceImage items for `build_pack`. Today there is one:

- ``fashion-mnist``: Zalando's Fashion-MNIST (70,000 greyscale 28x28 product photos, 10 classes, MIT licence),
  shipped by Debian's ``dataset-fashion-mnist`` package under /usr/share/datasets/fashion-mnist.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from classifiers.errors import PackError
from trainer.packs import SourceImage

PREFIX = "packaged:"


@dataclass(frozen=True)
class PackagedDataset:
    name: str
    title: str
    licence: str
    source: str
    install_hint: str
    load: Callable[[int | None], tuple[Iterator[SourceImage], int]]


FASHION_MNIST_CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
FASHION_MNIST_DIR_ENV = "EYEVSAI_FASHION_MNIST_DIR"
_FASHION_MNIST_DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_MNIST_PARTS = (
    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format; gzip-compressed or not) into an array of its declared shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise PackError(f"{path} is not an unsigned-byte IDX file (bad magic {data[:4].hex()}).")
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise PackError(f"{path} is truncated: its header declares {ndim} dimensions but holds {len(data)} bytes.")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise PackError(f"{path} is truncated: header says {shape}, body holds {body.size} bytes.")
    return body.reshape(shape)


def fashion_mnist_dir() -> Path:
    return Path(os.environ.get(FASHION_MNIST_DIR_ENV) or _FASHION_MNIST_DEFAULT_DIR)


def _load_fashion_mnist(limit: int | None) -> tuple[Iterator[SourceImage], int]:
    root = fashion_mnist_dir()
    missing = [name for pair in _FASHION_MNIST_PARTS for name in pair if not (root / name).is_file()]
    if missing:
        raise PackError(
            f"Fashion-MNIST files not found in {root} (missing {', '.join(missing)}). Install them with "
            f"'apt-get install dataset-fashion-mnist', or point {FASHION_MNIST_DIR_ENV} at a folder holding them."
        )
    images = np.concatenate([read_idx(root / img) for img, _ in _FASHION_MNIST_PARTS])
    labels = np.concatenate([read_idx(root / lab) for _, lab in _FASHION_MNIST_PARTS])
    if images.shape[0] != labels.shape[0] or images.ndim != 3:
        raise PackError(f"Fashion-MNIST files in {root} disagree: {images.shape} images, {labels.shape} labels.")
    keep = np.arange(len(labels))
    if limit is not None:
        keep = np.concatenate([np.flatnonzero(labels == c)[:limit] for c in range(len(FASHION_MNIST_CLASSES))])
        keep.sort()

    def generate() -> Iterator[SourceImage]:
        for i in keep:
            ok, png = cv2.imencode(".png", images[i])
            if not ok:  # pragma: no cover - encoding a uint8 array does not fail
                raise PackError(f"could not encode Fashion-MNIST image {i} as PNG")
            yield SourceImage(png.tobytes(), FASHION_MNIST_CLASSES[labels[i]], f"fashion-mnist #{i}")

    return generate(), len(keep)


PACKAGED: dict[str, PackagedDataset] = {
    "fashion-mnist": PackagedDataset(
        name="fashion-mnist",
        title="Fashion-MNIST",
        licence="MIT (Zalando SE, 2017)",
        source="Debian package dataset-fashion-mnist (github.com/zalandoresearch/fashion-mnist)",
        install_hint="apt-get install dataset-fashion-mnist",
        load=_load_fashion_mnist,
    ),
}


def iter_packaged(name: str, limit: int | None = None) -> tuple[PackagedDataset, Iterator[SourceImage], int]:
    """The dataset, its images (at most `limit` per class) and how many there are.

    Raises:
        PackError: unknown name, or the package's files are not installed.
    """
    if name not in PACKAGED:
        raise PackError(f"Unknown packaged dataset {name!r}; choose one of: {', '.join(PACKAGED)}.")
    if limit is not None and limit < 1:
        raise PackError(f"--limit must be at least 1 (got {limit}).")
    dataset = PACKAGED[name]
    images, total = dataset.load(limit)
    return dataset, images, total
