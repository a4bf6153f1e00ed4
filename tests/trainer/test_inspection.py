"""Checking a class-per-folder source and a built pack before training (Qt-free helpers of the Pack screen)."""

from __future__ import annotations

import json
from pathlib import Path

from classifiers.pack import open_pack
from tests.helpers.synthetic import CLASS_STYLES, make_synthetic_pack
from tests.trainer.conftest import drive, write_image_folder
from trainer.inspection import class_balance_warnings, inspect_image_folder, sample_shas, summarise_pack, thumbnail
from trainer.packs import build_pack, iter_image_folder


def test_folder_report_counts_classes_and_warns_about_what_building_would_drop(image_folder: Path) -> None:
    report = drive(inspect_image_folder(image_folder, samples_per_class=3))

    names = list(CLASS_STYLES)[:3]
    found = {c.name: (c.files, c.readable) for c in report.classes}  # classes come in folder-name order
    assert found == {names[0]: (17, 16), names[1]: (17, 16), names[2]: (4, 4)}
    assert all(len(c.samples) == min(3, c.readable) for c in report.classes)
    assert report.can_build and not report.errors
    text = "\n".join(report.warnings)
    assert f"class '{names[2]}' has only 4 image(s)" in text
    assert "unbalanced" in text and f"'{names[2]}' has 4" in text
    assert f"1 file(s) cannot be read and will be skipped: {names[0]}/broken.jpg: not a decodable image" in text
    assert "1 duplicate file(s) will be stored once" in text
    assert "1 file(s) without an image suffix are ignored" in text


def test_folder_report_predicts_what_build_pack_stores(image_folder: Path, tmp_path: Path) -> None:
    report = drive(inspect_image_folder(image_folder))
    built = drive(build_pack(iter_image_folder(image_folder), tmp_path / "packs", pack_id="photos"))
    stored = {name: sum(split.get(name, 0) for split in built.counts.values()) for name in built.counts["train"]}
    assert stored == {c.name: c.readable for c in report.classes}
    assert len(built.unreadable) == len(report.unreadable) == 1
    assert len(built.duplicates) == len(report.duplicates) == 1


def test_folder_problems_that_stop_a_build_are_errors(tmp_path: Path) -> None:
    missing = drive(inspect_image_folder(tmp_path / "nowhere"))
    assert not missing.can_build and "is not a folder" in missing.errors[0]

    one_class = write_image_folder(tmp_path / "one", {"red_horizontal": 5})
    assert "1 class folder(s); a pack needs at least two" in drive(inspect_image_folder(one_class)).errors[0]

    with_empty = write_image_folder(tmp_path / "empty", {"red_horizontal": 5, "green_vertical": 5})
    (with_empty / "blue_diagonal").mkdir()
    report = drive(inspect_image_folder(with_empty))
    assert not report.can_build
    assert "Class folder 'blue_diagonal' holds no images" in report.errors[0]


def test_a_class_too_small_to_keep_training_images_is_flagged(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "f", {"red_horizontal": 20, "green_vertical": 1})
    text = "\n".join(drive(inspect_image_folder(folder)).warnings)
    assert "class 'green_vertical' would keep 1 training image(s)" in text


def test_inspection_yields_progress_up_to_the_file_count(tmp_path: Path) -> None:
    folder = write_image_folder(tmp_path / "f", {"red_horizontal": 30, "green_vertical": 30})
    events = list(inspect_image_folder(folder))
    assert events[-1].done == events[-1].total == 60
    assert [e.done for e in events] == sorted(e.done for e in events)


def test_balance_warnings() -> None:
    assert class_balance_warnings({"a": 50, "b": 40}) == []
    warnings = class_balance_warnings({"a": 50, "b": 5})
    assert warnings[0].startswith("class 'b' has only 5 image(s)")
    assert "unbalanced: 'b' has 5 images, 'a' has 50" in warnings[1]


def test_pack_summary_counts_splits_and_flags_untrainable_packs(tmp_path: Path) -> None:
    pack = make_synthetic_pack(tmp_path, per_class=20)
    summary = summarise_pack(pack)
    assert summary.is_trainable and summary.warnings == []
    assert summary.split_total("train") == len(pack.splits["train"])
    assert summary.counts["test"] == {name: sum(e.label == name for e in pack.splits["test"]) for name in pack.classes}
    shas = sample_shas(pack, "train", per_class=2)
    assert all(len(v) == 2 for v in shas.values())
    assert all(pack.splits["train"][0].sha256 in v for k, v in shas.items() if k == pack.splits["train"][0].label)

    meta = json.loads((pack.root / "pack.json").read_text())
    meta["splits"]["train"] = [e for e in meta["splits"]["train"] if e["label"] != "yellow_dots"][:]
    meta["splits"]["train"].append({"sha256": pack.splits["test"][0].sha256, "label": "yellow_dots"})
    (pack.root / "pack.json").write_text(json.dumps(meta))
    starved = summarise_pack(open_pack(pack.root))
    assert not starved.is_trainable
    assert "yellow_dots have fewer than 2 training images" in starved.warnings[0]


def test_thumbnail_fits_the_box_and_keeps_the_aspect_ratio() -> None:
    import numpy as np

    wide = thumbnail(np.zeros((50, 200, 3), np.uint8), 80)
    assert wide.shape == (20, 80, 3)
    tiny = thumbnail(np.zeros((10, 10, 3), np.uint8), 80)
    assert tiny.shape == (40, 40, 3)  # enlarged at most 4x
