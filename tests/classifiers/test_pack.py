"""Image packs on disk: opening, splits, images, and the messages a user sees when a pack is broken."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.errors import EyeVsAIError, ImageDecodeError, PackError
from classifiers.pack import PACK_FILE, Pack, discover_packs, find_pack, open_pack
from tests.helpers.synthetic import CLASS_STYLES, make_synthetic_pack

PER_CLASS = 25


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic pack built once; tests that damage a pack work on a copy."""
    root = tmp_path_factory.mktemp("packs")
    make_synthetic_pack(root, "synthetic", per_class=PER_CLASS)
    return root / "synthetic"


@pytest.fixture
def pack_copy(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "packs" / "synthetic"
    shutil.copytree(built, target)
    return target


def _write_meta(pack_dir: Path, change: dict) -> None:
    meta = json.loads((pack_dir / PACK_FILE).read_text(encoding="utf-8"))
    meta.update(change)
    (pack_dir / PACK_FILE).write_text(json.dumps(meta), encoding="utf-8")


def test_open_pack_reads_metadata(built: Path) -> None:
    pack = open_pack(built)
    assert pack.id == "synthetic"
    assert pack.title == "Synthetic stripes"
    assert pack.classes == sorted(CLASS_STYLES)
    assert pack.image_size == (48, 48)
    assert sum(len(entries) for entries in pack.splits.values()) == PER_CLASS * len(CLASS_STYLES)
    assert "synthetic" in repr(pack)


def test_open_pack_accepts_the_pack_json_path(built: Path) -> None:
    assert open_pack(built / PACK_FILE).root == built


def test_labelled_split_gives_matching_shas_and_labels(built: Path) -> None:
    pack = open_pack(built)
    for split in ("train", "val", "test"):
        shas, labels = pack.labelled(split)
        assert len(shas) == len(labels) == len(pack.splits[split]) > 0
        assert labels.dtype == np.int64
        assert set(labels.tolist()) == set(range(len(pack.classes)))  # stratified: every class in every split
        for sha, label in zip(shas, labels, strict=True):
            assert pack.classes[label] == next(e.label for e in pack.splits[split] if e.sha256 == sha)


def test_splits_do_not_overlap_and_ranked_has_no_labels(built: Path) -> None:
    pack = open_pack(built)
    seen: set[str] = set()
    for entries in pack.splits.values():
        shas = {e.sha256 for e in entries}
        assert not shas & seen
        seen |= shas
    assert pack.splits["ranked"]
    assert all(e.label is None for e in pack.splits["ranked"])


def test_ranked_split_is_not_labelled(built: Path) -> None:
    with pytest.raises(PackError, match="Split 'ranked' has no labels"):
        open_pack(built).labelled("ranked")


def test_load_image_gives_rgb_uint8_matching_the_class_colour(built: Path) -> None:
    pack = open_pack(built)
    shas, labels = pack.labelled("train")
    for sha, label in list(zip(shas, labels, strict=True))[:8]:
        image = pack.load_image(sha)
        assert image.dtype == np.uint8
        assert image.shape == (48, 48, 3)
        colour = np.array(CLASS_STYLES[pack.classes[label]][0])
        # Each class has a dominant colour; RGB order means the image's channel ranking matches it.
        assert np.argmax(image.reshape(-1, 3).mean(0)) == np.argmax(colour)


def test_image_files_are_named_by_their_content_hash(built: Path) -> None:
    pack = open_pack(built)
    sha = pack.splits["test"][0].sha256
    assert hashlib.sha256(pack.read_bytes(sha)).hexdigest() == sha
    assert pack.image_path(sha).parent.name == sha[:2]


def test_missing_pack_json_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="No pack at") as info:
        open_pack(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_malformed_json_names_the_file(pack_copy: Path) -> None:
    (pack_copy / PACK_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(PackError, match="not readable JSON") as info:
        open_pack(pack_copy)
    assert str(pack_copy / PACK_FILE) in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"classes": ["only"]}, "at least two distinct classes"),
        ({"classes": ["a", "a", "b"]}, "at least two distinct classes"),
        ({"splits": {"train": [{"sha256": "0" * 64, "label": "zebra"}]}}, "'zebra', which is not one of"),
        ({"splits": {"ranked": [{"sha256": "0" * 64, "label": "red_horizontal"}]}}, "ranked images must not carry"),
    ],
    ids=["one-class", "duplicate-class", "unknown-label", "labelled-ranked"],
)
def test_inconsistent_pack_json_is_rejected(pack_copy: Path, change: dict, message: str) -> None:
    _write_meta(pack_copy, change)
    with pytest.raises(PackError, match=message) as info:
        open_pack(pack_copy)
    assert str(pack_copy / PACK_FILE) in str(info.value)


def test_pack_json_without_required_field_is_rejected(pack_copy: Path) -> None:
    meta = json.loads((pack_copy / PACK_FILE).read_text(encoding="utf-8"))
    del meta["classes"]
    (pack_copy / PACK_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(PackError, match="no 'classes' field"):
        open_pack(pack_copy)


def test_missing_image_file_names_the_pack_and_folder(pack_copy: Path) -> None:
    pack = open_pack(pack_copy)
    sha = pack.splits["test"][0].sha256
    pack.image_path(sha).unlink()
    pack = open_pack(pack_copy)
    assert not pack.has_image(sha)
    with pytest.raises(PackError, match="file is missing") as info:
        pack.load_image(sha)
    assert "synthetic" in str(info.value)
    assert str(pack_copy / "images" / sha[:2]) in str(info.value)
    assert sha not in {e.sha256 for e in pack.available("test")}
    assert len(pack.available("test")) == len(pack.splits["test"]) - 1


def test_image_deleted_after_the_pack_was_opened_is_a_pack_error(pack_copy: Path) -> None:
    pack = open_pack(pack_copy)
    sha = pack.splits["test"][0].sha256
    path = pack.image_path(sha)  # the pack has now indexed its files
    path.unlink()
    with pytest.raises(PackError) as info:
        pack.load_image(sha)
    assert str(path) in str(info.value)


def test_corrupt_image_file_is_a_known_error(pack_copy: Path) -> None:
    pack = open_pack(pack_copy)
    sha = pack.splits["test"][0].sha256
    pack.image_path(sha).write_bytes(b"this is not an image")
    with pytest.raises(ImageDecodeError, match="pack 'synthetic'") as info:
        pack.load_image(sha)
    assert isinstance(info.value, EyeVsAIError)


def test_discover_packs_reports_broken_packs_and_keeps_good_ones(built: Path, tmp_path: Path) -> None:
    root = tmp_path / "packs"
    shutil.copytree(built, root / "good")
    (root / "broken_json").mkdir()
    (root / "broken_json" / PACK_FILE).write_text("[", encoding="utf-8")
    (root / "no_classes").mkdir()
    (root / "no_classes" / PACK_FILE).write_text(json.dumps({"id": "x", "splits": {}}), encoding="utf-8")
    (root / "not_a_pack").mkdir()  # no pack.json at all: not a pack, not a problem
    packs, problems = discover_packs([root, tmp_path / "does-not-exist"])
    assert [p.id for p in packs] == ["synthetic"]
    assert len(problems) == 2
    assert any("broken_json" in problem for problem in problems)
    assert any("no_classes" in problem for problem in problems)


def test_discover_packs_first_root_wins_on_id_clash(built: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "user", tmp_path / "bundled"
    shutil.copytree(built, first / "synthetic")
    shutil.copytree(built, second / "synthetic")
    packs, problems = discover_packs([first, second])
    assert problems == []
    assert len(packs) == 1
    assert packs[0].root == first / "synthetic"


def test_find_pack_by_id_and_by_path(built: Path) -> None:
    roots = [built.parent]
    assert find_pack("synthetic", roots).root == built
    assert find_pack(built, []).id == "synthetic"
    assert find_pack(str(built / PACK_FILE), []).id == "synthetic"
    assert isinstance(find_pack("synthetic", roots), Pack)


def test_find_pack_unknown_id_lists_the_known_packs(built: Path, tmp_path: Path) -> None:
    with pytest.raises(PackError, match=r"No pack 'cifar' \(known packs: synthetic\)"):
        find_pack("cifar", [built.parent])
    with pytest.raises(PackError, match=r"known packs: none"):
        find_pack("cifar", [tmp_path])
