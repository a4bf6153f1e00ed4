"""Building packs from a class-per-folder tree: content-addressed images, hidden ranked labels, seeded splits."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from classifiers.errors import EyeVsAIError, PackError
from classifiers.pack import PACK_FILE, open_pack
from classifiers.progress import Progress
from tests.helpers.synthetic import CLASS_STYLES, synthetic_sources
from trainer.packs import (
    OFFICIAL,
    RANKED_LABELS_FILE,
    STRATIFIED,
    BuildReport,
    SplitFractions,
    build_pack,
    export_game_pack,
    iter_image_folder,
    load_ranked_labels,
)

PER_CLASS = 20  # with the default fractions: 3 test, 2 ranked, 2 val, 13 train per class


def write_image_folder(root: Path, per_class: int = PER_CLASS, seed: int = 0) -> dict[str, str]:
    """An ImageFolder tree root/<class>/<n>.png; returns sha256 -> label of every image written."""
    labels = {}
    for source in synthetic_sources(per_class, seed):
        path = root / source.origin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source.data)
        labels[hashlib.sha256(source.data).hexdigest()] = source.label
    return labels


def run_build(images, out_dir: Path, pack_id: str = "pets", **kwargs) -> BuildReport:
    work = build_pack(images, out_dir, pack_id=pack_id, **kwargs)
    progress: list[object] = []
    while True:
        try:
            progress.append(next(work))
        except StopIteration as stop:
            report = stop.value
            break
    assert all(isinstance(p, Progress) for p in progress)  # the report is returned, not yielded
    assert isinstance(report, BuildReport)
    return report


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "photos"
    return root, write_image_folder(root)


@pytest.fixture
def built(source, tmp_path: Path):
    root, labels = source
    report = run_build(iter_image_folder(root), tmp_path / "packs", seed=1)
    return open_pack(report.pack_dir), labels, report


def all_entries(pack) -> list[str]:
    return [e.sha256 for split in pack.splits.values() for e in split]


def test_build_writes_every_image_once_named_by_its_sha256(built):
    pack, labels, report = built
    assert (pack.root / PACK_FILE).is_file()
    assert sorted(all_entries(pack)) == sorted(labels)
    for sha in labels:
        path = pack.image_path(sha)
        assert path.stem == sha
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert pack.classes == sorted(CLASS_STYLES)
    assert pack.image_size == (48, 48)
    assert report.duplicates == [] and report.unreadable == []


def test_file_names_never_reveal_a_label(built):
    pack, _, _ = built
    names = [str(p.relative_to(pack.root)).lower() for p in pack.root.rglob("*")]
    words = {part for label in CLASS_STYLES for part in label.split("_")}
    assert not [name for name in names for word in words if word in name]


def test_labelled_splits_keep_the_folder_labels(built):
    pack, labels, _ = built
    for split in ("train", "val", "test"):
        for entry in pack.splits[split]:
            assert entry.label == labels[entry.sha256]


def test_ranked_labels_live_only_beside_pack_json(built):
    pack, labels, _ = built
    meta = json.loads((pack.root / PACK_FILE).read_text())
    assert meta["splits"]["ranked"] and all(set(e) == {"sha256"} for e in meta["splits"]["ranked"])
    ranked = load_ranked_labels(pack)
    assert (pack.root / RANKED_LABELS_FILE).is_file()
    assert set(ranked) == {e.sha256 for e in pack.splits["ranked"]}
    assert all(ranked[sha] == labels[sha] for sha in ranked)


def test_progress_reaches_the_given_total(source, tmp_path):
    root, labels = source
    events = list(build_pack(iter_image_folder(root), tmp_path / "packs", pack_id="p", total=len(labels)))
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done == progress[-1].total == len(labels)


def test_exact_duplicates_are_dropped_and_reported(source, tmp_path):
    root, labels = source
    shutil.copyfile(root / "red_horizontal" / "0.png", root / "red_horizontal" / "copy.png")
    shutil.copyfile(root / "red_horizontal" / "1.png", root / "yellow_dots" / "stray.png")
    report = run_build(iter_image_folder(root), tmp_path / "packs")
    pack = open_pack(report.pack_dir)
    assert sorted(all_entries(pack)) == sorted(labels)
    assert len(report.duplicates) == 2
    assert any("copy.png" in line for line in report.duplicates)
    assert any("stray.png" in line for line in report.duplicates)


def test_corrupt_and_empty_files_are_skipped_and_reported(source, tmp_path):
    root, labels = source
    (root / "green_vertical" / "broken.png").write_bytes(b"\x89PNG this is not really a png")
    (root / "blue_diagonal" / "empty.jpg").write_bytes(b"")
    report = run_build(iter_image_folder(root), tmp_path / "packs")
    assert sorted(all_entries(open_pack(report.pack_dir))) == sorted(labels)
    assert len(report.unreadable) == 2
    assert any("broken.png" in line for line in report.unreadable)
    assert any("empty.jpg" in line for line in report.unreadable)


def test_class_folder_without_images_names_the_folder_and_leaves_nothing(source, tmp_path):
    root, _ = source
    (root / "zebra").mkdir()
    (root / "zebra" / "notes.txt").write_text("no images here")
    out = tmp_path / "packs"
    with pytest.raises(PackError, match="zebra"):
        run_build(iter_image_folder(root), out)
    # the other classes were read before the empty one: no half-written pack may stay behind
    assert not out.exists() or list(out.iterdir()) == []


def test_missing_source_folder_raises(tmp_path):
    with pytest.raises(PackError, match="does not exist"):
        list(iter_image_folder(tmp_path / "nowhere"))


def test_a_single_class_folder_is_refused(tmp_path):
    root = tmp_path / "photos"
    write_image_folder(root, per_class=3)
    for extra in sorted(root.iterdir())[1:]:
        shutil.rmtree(extra)
    with pytest.raises(PackError, match="at least two"):
        list(iter_image_folder(root))


def test_fewer_than_two_readable_classes_are_refused(tmp_path):
    images = synthetic_sources(5, classes=["red_horizontal"])
    images.append(type(images[0])(b"garbage", "green_vertical", "green_vertical/0.png"))
    out = tmp_path / "packs"
    with pytest.raises(PackError, match="at least two"):
        run_build(images, out)
    assert not out.exists() or list(out.iterdir()) == []


def test_splits_are_stratified_and_cover_every_image_once(built):
    pack, labels, report = built
    ranked = load_ranked_labels(pack)
    per_split = {split: Counter(e.label for e in pack.splits[split]) for split in ("train", "val", "test")}
    per_split["ranked"] = Counter(ranked.values())
    expected = {"train": 13, "val": 2, "test": 3, "ranked": 2}
    for split, n in expected.items():
        assert per_split[split] == {label: n for label in CLASS_STYLES}, split
        assert report.counts[split] == {label: n for label in CLASS_STYLES}
    assert len(all_entries(pack)) == len(set(all_entries(pack))) == len(labels)


def _splits(pack_dir: Path) -> dict:
    return json.loads((pack_dir / PACK_FILE).read_text())["splits"]


def test_same_seed_gives_the_same_splits_and_another_seed_differs(source, tmp_path):
    root, _ = source
    first = run_build(iter_image_folder(root), tmp_path / "a", seed=7)
    again = run_build(iter_image_folder(root), tmp_path / "b", seed=7)
    other = run_build(iter_image_folder(root), tmp_path / "c", seed=8)
    assert _splits(first.pack_dir) == _splits(again.pack_dir)
    assert _splits(first.pack_dir)["test"] != _splits(other.pack_dir)["test"]


def test_custom_fractions_change_the_split_sizes(source, tmp_path):
    root, _ = source
    report = run_build(
        iter_image_folder(root), tmp_path / "packs", fractions=SplitFractions(val=0.0, test=0.5, ranked=0.0)
    )
    assert report.counts["test"] == {label: 10 for label in CLASS_STYLES}
    assert report.counts["val"] == {} and report.counts["ranked"] == {}


@pytest.mark.parametrize(
    "fractions",
    [
        {"val": -0.1},
        {"test": 0.5, "val": 0.3, "ranked": 0.2},
        {"test": 0.95, "val": 0.0, "ranked": 0.0},
    ],
)
def test_split_fractions_that_leave_too_little_training_are_refused(fractions):
    # a domain error (EyeVsAIError) so the CLI shows one line and exit code 2, still a ValueError for callers
    with pytest.raises(EyeVsAIError, match="at least 10% for training") as caught:
        SplitFractions(**fractions)
    assert isinstance(caught.value, ValueError)


def test_an_existing_pack_is_never_overwritten(source, tmp_path):
    root, _ = source
    report = run_build(iter_image_folder(root), tmp_path / "packs", seed=0)
    before = (report.pack_dir / PACK_FILE).read_text()
    with pytest.raises(PackError, match="already exists"):
        run_build(iter_image_folder(root), tmp_path / "packs", seed=1)
    assert (report.pack_dir / PACK_FILE).read_text() == before


@pytest.mark.parametrize("pack_id", ["-pets", "_pets", "pets!", "my pets", ".pets", "", "a/b"])
def test_a_pack_id_that_is_no_plain_folder_name_is_refused(source, tmp_path, pack_id):
    root, _ = source
    with pytest.raises(PackError, match="may contain only letters, digits, '-' and '_'"):
        run_build(iter_image_folder(root), tmp_path / "packs", pack_id=pack_id)
    assert not (tmp_path / "packs").exists() or list((tmp_path / "packs").iterdir()) == []


def test_a_pack_id_may_use_dashes_and_underscores_after_its_first_character(source, tmp_path):
    root, _ = source
    report = run_build(iter_image_folder(root), tmp_path / "packs", pack_id="Pets_2-b")
    assert open_pack(report.pack_dir).id == "Pets_2-b"


def _image_files(root: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (root / "images").rglob("*") if p.is_file()}


def test_game_pack_holds_only_test_and_ranked_images_without_ranked_labels(built, tmp_path):
    pack, _, _ = built
    game = open_pack(export_game_pack(pack, tmp_path / "game"))
    assert game.meta["game_pack"] is True
    assert game.splits["train"] == [] and game.splits["val"] == []
    assert game.splits["test"] == pack.splits["test"]
    assert [e.sha256 for e in game.splits["ranked"]] == [e.sha256 for e in pack.splits["ranked"]]
    assert all(e.label is None for e in game.splits["ranked"])
    assert _image_files(game.root) == {e.sha256 for s in ("test", "ranked") for e in pack.splits[s]}
    assert not (game.root / RANKED_LABELS_FILE).exists()
    assert "label" not in (game.root / PACK_FILE).read_text().split('"ranked"')[1]


def test_game_pack_limits_keep_every_class(built, tmp_path):
    pack, _, _ = built
    ranked_labels = load_ranked_labels(pack)
    game = open_pack(export_game_pack(pack, tmp_path / "game", max_test=8, max_ranked=4))
    assert Counter(e.label for e in game.splits["test"]) == {label: 2 for label in CLASS_STYLES}
    assert Counter(ranked_labels[e.sha256] for e in game.splits["ranked"]) == {label: 1 for label in CLASS_STYLES}
    assert len(_image_files(game.root)) == 12


def test_exporting_again_replaces_the_previous_game_pack(built, tmp_path):
    pack, _, _ = built
    export_game_pack(pack, tmp_path / "game")
    game = open_pack(export_game_pack(pack, tmp_path / "game", max_test=4, max_ranked=0))
    assert len(game.splits["test"]) == 4 and game.splits["ranked"] == []
    assert len(_image_files(game.root)) == 4


def test_exporting_onto_the_source_pack_is_refused(built):
    pack, labels, _ = built
    with pytest.raises(PackError, match="source pack"):
        export_game_pack(pack, pack.root.parent, max_test=4)
    assert sorted(all_entries(open_pack(pack.root))) == sorted(labels)
    assert len(_image_files(pack.root)) == len(labels)


@pytest.mark.parametrize("limit", [0, 2, 3])
def test_game_pack_limits_are_never_exceeded(built, tmp_path, limit):
    pack, _, _ = built
    game = open_pack(export_game_pack(pack, tmp_path / "game", max_test=limit, max_ranked=limit))
    assert len(game.splits["test"]) == limit and len(game.splits["ranked"]) == limit


def official_sources(train_per_class: int = 30, test_per_class: int = 63) -> tuple[list, set[str], set[str]]:
    """Images that carry official parts (as Fashion-MNIST's do): the images and the sha256 sets of each part."""
    train = [replace(s, part="train") for s in synthetic_sources(train_per_class, seed=1)]
    test = [replace(s, part="test") for s in synthetic_sources(test_per_class, seed=2)]
    return [*train, *test], *({hashlib.sha256(s.data).hexdigest() for s in part} for part in (train, test))


def test_official_parts_keep_test_images_out_of_training(tmp_path):
    images, train_shas, test_shas = official_sources()
    report = run_build(images, tmp_path / "packs", seed=3)
    pack = open_pack(report.pack_dir)
    assert report.split_rule == pack.meta["split_rule"] == OFFICIAL
    assert {e.sha256 for s in ("train", "val") for e in pack.splits[s]} == train_shas
    assert {e.sha256 for s in ("test", "ranked") for e in pack.splits[s]} == test_shas
    # val: 0.1 of each class's training part; ranked: 0.2 of each class's test part
    assert report.counts == {
        "train": {label: 27 for label in CLASS_STYLES},
        "val": {label: 3 for label in CLASS_STYLES},
        "test": {label: 50 for label in CLASS_STYLES},
        "ranked": {label: 13 for label in CLASS_STYLES},
    }
    assert report.warnings == []  # 200 test images, 50 per class: enough to measure
    again = run_build(images, tmp_path / "again", seed=3)
    assert _splits(again.pack_dir) == _splits(report.pack_dir)


def test_official_fractions_apply_to_their_part(tmp_path):
    images, _, _ = official_sources()
    fractions = SplitFractions(val=0.2, official_ranked=0.5)
    report = run_build(images, tmp_path / "packs", fractions=fractions)
    assert [report.counts[s]["yellow_dots"] for s in ("train", "val", "test", "ranked")] == [24, 6, 31, 32]


@pytest.mark.parametrize("test_first", [False, True])
def test_an_official_test_image_that_duplicates_a_training_image_stays_out_of_test(tmp_path, test_first):
    images, train_shas, _ = official_sources()
    copy = replace(images[0], part="test", origin="t10k copy")
    report = run_build([copy, *images] if test_first else [*images, copy], tmp_path / "packs")
    pack = open_pack(report.pack_dir)
    sha = hashlib.sha256(copy.data).hexdigest()
    assert sha in {e.sha256 for s in ("train", "val") for e in pack.splits[s]}
    assert sha not in {e.sha256 for s in ("test", "ranked") for e in pack.splits[s]}
    assert len(report.duplicates) == 1 and "t10k copy" in report.duplicates[0]
    assert {e.sha256 for s in ("train", "val") for e in pack.splits[s]} == train_shas


def test_folder_images_keep_the_stratified_rule(built):
    pack, _, report = built
    assert report.split_rule == pack.meta["split_rule"] == STRATIFIED


def test_images_with_an_unknown_part_are_refused(tmp_path):
    images, _, _ = official_sources()
    with pytest.raises(PackError, match="official parts"):
        run_build([*images, replace(images[0], data=images[0].data + b"x", part=None)], tmp_path / "packs")
    assert not (tmp_path / "packs" / "pets.partial").exists()


def test_a_test_split_too_small_to_measure_is_warned_about_with_its_numbers(tmp_path):
    images, _, _ = official_sources(train_per_class=30, test_per_class=10)
    report = run_build(images, tmp_path / "packs")
    assert report.counts["test"] == {label: 8 for label in CLASS_STYLES}
    [warning] = report.warnings
    assert "test split holds only 32 images" in warning and ": 8)" in warning
    assert "30+ per class" in warning and "--limit" in warning and "--test" in warning
