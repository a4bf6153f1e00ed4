"""Packaged datasets: the IDX reader and the Fashion-MNIST importer, on tiny fake IDX files."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from classifiers.errors import PackError
from classifiers.pack import open_pack
from trainer.cli import main
from trainer.datasets import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR_ENV, iter_packaged, limit_per_part, read_idx

TRAIN_PER_CLASS, TEST_PER_CLASS = 3, 1


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def fake_images(n: int, first: int) -> np.ndarray:
    """n distinct 28×28 images: image k is a gradient offset by (first + k), its number in the corner."""
    ramp = np.add.outer(np.arange(28), np.arange(28))
    images = np.stack([(ramp + 5 * (first + k)) % 256 for k in range(n)]).astype(np.uint8)
    images[:, 0, 0], images[:, 0, 1] = (first + np.arange(n)) // 256, (first + np.arange(n)) % 256
    return images


def write_fashion_files(root: Path, train_per_class: int, test_per_class: int) -> dict:
    """Fake Fashion-MNIST files in root (classes interleaved); returns each part's (images, labels)."""
    root.mkdir(exist_ok=True)
    train_labels = np.tile(np.arange(10), train_per_class)
    test_labels = np.tile(np.arange(10)[::-1], test_per_class)
    train_images = fake_images(len(train_labels), 0)
    test_images = fake_images(len(test_labels), len(train_labels))
    write_idx(root / "train-images-idx3-ubyte.gz", train_images)
    write_idx(root / "train-labels-idx1-ubyte.gz", train_labels)
    write_idx(root / "t10k-images-idx3-ubyte.gz", test_images)
    write_idx(root / "t10k-labels-idx1-ubyte.gz", test_labels)
    return {"root": root, "train": (train_images, train_labels), "test": (test_images, test_labels)}


@pytest.fixture
def fashion_dir(tmp_path: Path, monkeypatch) -> dict:
    """Fake Fashion-MNIST files (3 train + 1 test image per class) behind the env var."""
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(tmp_path / "fashion-mnist"))
    return write_fashion_files(tmp_path / "fashion-mnist", TRAIN_PER_CLASS, TEST_PER_CLASS)


def shas_of(images: np.ndarray) -> set[str]:
    """The pack names of these images (the importer's PNG encoding is deterministic)."""
    return {hashlib.sha256(cv2.imencode(".png", image)[1].tobytes()).hexdigest() for image in images}


def build_fashion(tmp_path: Path, *args: str) -> tuple[int, str]:
    code = main(["--workspace", str(tmp_path / "ws"), "pack", "build", "packaged:fashion-mnist", "--id", "f", *args])
    return code, str(tmp_path / "ws" / "packs" / "f")


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
def test_read_idx_returns_images_in_their_declared_shape(tmp_path, name):
    images = fake_images(4, 0)
    path = write_idx(tmp_path / name, images)
    assert path.read_bytes().startswith(b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00\x08\x03")
    result = read_idx(path)
    assert result.shape == (4, 28, 28) and result.dtype == np.uint8
    np.testing.assert_array_equal(result, images)


@pytest.mark.parametrize("name", ["labels-idx1-ubyte", "labels-idx1-ubyte.gz"])
def test_read_idx_returns_labels(tmp_path, name):
    labels = np.array([9, 0, 3, 3, 7], np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / name, labels)), labels)


@pytest.mark.parametrize("magic", [b"\x00\x00\x0d\x01", b"\x1f\x00\x08\x01", b"\x00\x00"])
def test_read_idx_rejects_a_bad_magic(tmp_path, magic):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(magic + bytes(8))
    with pytest.raises(PackError, match="bad magic"):
        read_idx(path)


def test_read_idx_rejects_a_truncated_body(tmp_path):
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(fake_images(2, 0))[:-10])
    with pytest.raises(PackError, match=r"truncated.*\(2, 28, 28\)"):
        read_idx(path)


def test_read_idx_rejects_a_truncated_header(tmp_path):
    path = tmp_path / "images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(fake_images(2, 0))[:9]))  # magic + part of the dimensions
    with pytest.raises(PackError, match="truncated"):
        read_idx(path)


def test_fashion_mnist_limit_takes_that_many_per_class_with_their_labels_and_parts(fashion_dir):
    dataset, images, total = iter_packaged("fashion-mnist", limit=2)
    items = list(images)
    assert dataset.name == "fashion-mnist" and "MIT" in dataset.licence
    assert total == len(items) == 20
    assert Counter(item.label for item in items) == {name: 2 for name in FASHION_MNIST_CLASSES}
    # 3 : 1 per class here, so a limit of 2 takes one image of each part per class
    assert Counter(item.part for item in items) == {"train": 10, "test": 10}
    for item in items:
        index = int(item.origin.split("#")[1])
        part_images, part_labels = fashion_dir[item.part]
        assert item.origin.startswith(f"fashion-mnist {item.part} #")
        assert item.label == FASHION_MNIST_CLASSES[part_labels[index]]
        decoded = cv2.imdecode(np.frombuffer(item.data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert decoded.shape == (28, 28)
        np.testing.assert_array_equal(decoded, part_images[index])


def test_fashion_mnist_without_limit_reads_train_and_test_files_with_their_parts(fashion_dir):
    _, images, total = iter_packaged("fashion-mnist")
    items = list(images)
    assert total == len(items) == 10 * (TRAIN_PER_CLASS + TEST_PER_CLASS)
    assert len({item.data for item in items}) == len(items)
    assert Counter(item.part for item in items) == {"train": 10 * TRAIN_PER_CLASS, "test": 10 * TEST_PER_CLASS}


@pytest.mark.parametrize(
    ("limit", "sizes", "expected"),
    [
        (1000, [6000, 1000], [857, 143]),  # Fashion-MNIST's 6 : 1
        (70, [6000, 1000], [60, 10]),
        (2, [6000, 1000], [1, 1]),  # the test part is never left empty while the limit allows one of each
        (1, [6000, 1000], [1, 0]),
        (7000, [6000, 1000], [6000, 1000]),
        (50, [3, 40], [3, 40]),
        (10, [3, 40], [1, 9]),
    ],
)
def test_limit_is_shared_between_the_official_parts_in_their_proportion(limit, sizes, expected):
    assert limit_per_part(limit, sizes) == expected


def test_missing_fashion_mnist_files_say_how_to_install_them(tmp_path, monkeypatch):
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(tmp_path))
    with pytest.raises(PackError, match="apt-get install dataset-fashion-mnist") as caught:
        iter_packaged("fashion-mnist")
    assert FASHION_MNIST_DIR_ENV in str(caught.value) and "train-images-idx3-ubyte.gz" in str(caught.value)


def test_fashion_mnist_files_that_disagree_are_refused(fashion_dir):
    write_idx(fashion_dir["root"] / "t10k-labels-idx1-ubyte.gz", np.arange(3))
    with pytest.raises(PackError, match="disagree"):
        iter_packaged("fashion-mnist")


def test_unknown_packaged_dataset_lists_the_known_ones():
    with pytest.raises(PackError, match="Unknown packaged dataset 'cifar-10'.*fashion-mnist"):
        iter_packaged("cifar-10")


def test_limit_below_one_is_refused(fashion_dir):
    with pytest.raises(PackError, match="at least 1"):
        iter_packaged("fashion-mnist", limit=0)


def test_pack_build_from_the_packaged_dataset(fashion_dir, tmp_path, capsys):
    code = main(
        [
            "--workspace",
            str(tmp_path / "ws"),
            "pack",
            "build",
            "packaged:fashion-mnist",
            "--id",
            "fashion",
            "--limit",
            "3",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    pack = open_pack(report["pack_dir"])
    assert pack.root == tmp_path / "ws" / "packs" / "fashion"
    assert pack.classes == sorted(FASHION_MNIST_CLASSES)
    assert pack.title == "Fashion-MNIST" and pack.meta["licence"].startswith("MIT")
    assert pack.image_size == (28, 28)
    assert sum(sum(counts.values()) for counts in report["counts"].values()) == 30


def split_shas(pack, *splits: str) -> set[str]:
    return {e.sha256 for s in splits for e in pack.splits[s]}


def test_the_pack_keeps_the_official_split(tmp_path, monkeypatch, capsys):
    files = write_fashion_files(tmp_path / "fm", train_per_class=20, test_per_class=20)
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(files["root"]))
    code, pack_dir = build_fashion(tmp_path, "--json")
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    pack = open_pack(pack_dir)
    assert report["split_rule"] == pack.meta["split_rule"] == "official"
    assert split_shas(pack, "train", "val") == shas_of(files["train"][0])
    assert split_shas(pack, "test", "ranked") == shas_of(files["test"][0])
    sizes = {split: sum(counts.values()) for split, counts in report["counts"].items()}
    assert sizes == {"train": 180, "val": 20, "test": 160, "ranked": 40}


def test_limit_takes_from_both_official_parts(tmp_path, monkeypatch, capsys):
    files = write_fashion_files(tmp_path / "fm", train_per_class=30, test_per_class=5)
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(files["root"]))
    code, pack_dir = build_fashion(tmp_path, "--limit", "14", "--json")
    assert code == 0
    pack = open_pack(pack_dir)
    # 30 : 5 is 6 : 1, so 14 per class takes 12 training and 2 test images of each class
    assert len(split_shas(pack, "train", "val")) == 120 and split_shas(pack, "train", "val") <= shas_of(
        files["train"][0]
    )
    assert len(split_shas(pack, "test", "ranked")) == 20 and split_shas(pack, "test", "ranked") <= shas_of(
        files["test"][0]
    )


def test_an_official_test_image_copying_a_training_image_is_dropped_from_test(tmp_path, monkeypatch, capsys):
    files = write_fashion_files(tmp_path / "fm", train_per_class=20, test_per_class=20)
    test_images, test_labels = files["test"]
    test_images[5] = files["train"][0][7]
    write_idx(files["root"] / "t10k-images-idx3-ubyte.gz", test_images)
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(files["root"]))
    code, pack_dir = build_fashion(tmp_path, "--json")
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    pack = open_pack(pack_dir)
    assert report["duplicates"] == ["fashion-mnist test #5 duplicates fashion-mnist train #7"]
    copied = shas_of(test_images[5:6]).pop()
    assert copied in split_shas(pack, "train", "val") and copied not in split_shas(pack, "test", "ranked")
    assert len(split_shas(pack, "test", "ranked")) == 199


def test_the_cli_warns_when_the_test_split_is_too_small(fashion_dir, tmp_path, capsys):
    code, _ = build_fashion(tmp_path, "--limit", "3")
    assert code == 0
    printed = " ".join(capsys.readouterr().err.split())
    assert "the test split holds only 10 images" in printed and "--limit" in printed


def test_a_test_fraction_is_ignored_with_a_warning_for_an_official_split(fashion_dir, tmp_path, capsys):
    code, pack_dir = build_fashion(tmp_path, "--test", "0.3")
    assert code == 0
    assert "--test does not apply to packaged:fashion-mnist" in " ".join(capsys.readouterr().err.split())
    assert open_pack(pack_dir).meta["split_rule"] == "official"
