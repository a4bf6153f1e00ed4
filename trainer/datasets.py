"""Importers for labelled datasets that ship inside a package (the machines reach only package registries).

Each packaged dataset turns its files into SourceImage items for `build_pack`. Today there is one:

- ``fashion-mnist``: Zalando's Fashion-MNIST (70,000 greyscale 28x28 product photos, 10 classes, MIT licence),
  shipped by Debian's ``dataset-fashion-mnist`` package under /usr/share/datasets/fashion-mnist. Its images carry
  their official part (60,000 "train", 10,000 "test"), so the pack keeps the official test images out of training.
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
_FASHION_MNIST_PARTS = (  # (official part, images file, labels file); the order the images come in
    ("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
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


def limit_per_part(limit: int, part_sizes: list[int]) -> list[int]:
    """How many of a class's images each official part gives under `--limit`: the parts' own proportion.

    The test part gets its share of `limit` rounded half up (never 0 when it has images and the limit allows
    one per part), the training part the rest; neither more than it has. Fashion-MNIST (6,000 : 1,000 per class):
    --limit 1000 gives 857 training + 143 test images, --limit 70 gives 60 + 10.
    """
    train_size, test_size = part_sizes
    total = train_size + test_size
    if total <= limit:
        return [train_size, test_size]
    n_test = min(test_size, int(limit * test_size / total + 0.5))
    if n_test == 0 and test_size and limit >= 2:
        n_test = 1
    return [min(train_size, limit - n_test), n_test]


def _read_fashion_part(root: Path, images_file: str, labels_file: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(root / images_file), read_idx(root / labels_file)
    if images.shape[0] != labels.shape[0] or images.ndim != 3:
        raise PackError(
            f"Fashion-MNIST files {images_file} and {labels_file} in {root} disagree: {images.shape} images, "
            f"{labels.shape} labels."
        )
    return images, labels


def _load_fashion_mnist(limit: int | None) -> tuple[Iterator[SourceImage], int]:
    root = fashion_mnist_dir()
    missing = [name for _, *files in _FASHION_MNIST_PARTS for name in files if not (root / name).is_file()]
    if missing:
        raise PackError(
            f"Fashion-MNIST files not found in {root} (missing {', '.join(missing)}). Install them with "
            f"'apt-get install dataset-fashion-mnist', or point {FASHION_MNIST_DIR_ENV} at a folder holding them."
        )
    parts = [(part, *_read_fashion_part(root, images, labels)) for part, images, labels in _FASHION_MNIST_PARTS]
    keep = [np.arange(len(labels)) for _, _, labels in parts]
    if limit is not None:
        keep = [[] for _ in parts]
        for c in range(len(FASHION_MNIST_CLASSES)):
            of_class = [np.flatnonzero(labels == c) for _, _, labels in parts]
            for i, n in enumerate(limit_per_part(limit, [len(idx) for idx in of_class])):
                keep[i].append(of_class[i][:n])
        keep = [np.sort(np.concatenate(chosen)) for chosen in keep]

    def generate() -> Iterator[SourceImage]:
        for (part, images, labels), indices in zip(parts, keep, strict=True):
            for i in indices:
                ok, png = cv2.imencode(".png", images[i])
                if not ok:  # pragma: no cover - encoding a uint8 array does not fail
                    raise PackError(f"could not encode Fashion-MNIST {part} image {i} as PNG")
                label = FASHION_MNIST_CLASSES[labels[i]]
                yield SourceImage(png.tobytes(), label, f"fashion-mnist {part} #{i}", part=part)

    return generate(), sum(len(indices) for indices in keep)


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
