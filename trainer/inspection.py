"""Checking a class-per-folder source or a built pack before training: counts, samples and plain warnings.

The trainer GUI shows these before a pack is built or a model trained; they need no Qt, so they are tested
without it. The rules match `trainer.packs` (which folders count as classes, which files as images, the split
fractions) so a warning here predicts what building or training would do.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from classifiers.pack import Pack
from classifiers.progress import Progress
from trainer.packs import IMAGE_SUFFIXES, SplitFractions

MIN_PER_CLASS = 10  # the same threshold `build_pack` warns at
IMBALANCE_RATIO = 3.0
SAMPLES_PER_CLASS = 6
MIN_TRAIN_PER_CLASS = 2  # `check_trainable` refuses fewer


@dataclass
class ClassSummary:
    """One class folder: how many image files it holds, how many decode, and a few sample paths."""

    name: str
    files: int = 0
    readable: int = 0
    samples: list[Path] = field(default_factory=list)


@dataclass
class FolderInspection:
    """What a class-per-folder tree would give as a pack.

    Attributes:
        errors: problems that stop a pack from being built (fewer than two classes, an empty class folder).
        warnings: problems worth fixing first (tiny or unbalanced classes, unreadable files, duplicates).
        unreadable: "path: reason" for each file that cannot be decoded.
        duplicates: files whose bytes equal an earlier file's (building keeps one copy).
        ignored: files skipped because their suffix is not an image suffix.
    """

    root: Path
    classes: list[ClassSummary] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    ignored: int = 0

    @property
    def can_build(self) -> bool:
        return not self.errors

    @property
    def total_readable(self) -> int:
        return sum(c.readable for c in self.classes)


def _decode_problem(data: bytes) -> str | None:
    """None when the bytes decode as an image, else the reason."""
    if not data:
        return "empty file"
    # a reduced decode is several times faster for JPEG and still fails on files OpenCV cannot read
    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_4) is None:
        return "not a decodable image"
    return None


def inspect_image_folder(
    root: str | Path,
    *,
    samples_per_class: int = SAMPLES_PER_CLASS,
    min_per_class: int = MIN_PER_CLASS,
    fractions: SplitFractions | None = None,
) -> Generator[Progress, None, FolderInspection]:
    """Read every image file of root/<class>/... and report what a pack built from it would hold.

    Yields "inspect" progress per file; returns the FolderInspection. Never raises for bad content: problems
    become errors and warnings a person can act on.
    """
    root = Path(root)
    report = FolderInspection(root)
    if not root.is_dir():
        report.errors.append(f"{root} is not a folder. Choose a folder with one sub-folder per class.")
        return report
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < 2:
        report.errors.append(
            f"{root} has {len(class_dirs)} class folder(s); a pack needs at least two "
            "(layout: FOLDER/<class name>/<image files>)."
        )
    files_by_class: dict[str, list[Path]] = {}
    for class_dir in class_dirs:
        files = sorted(p for p in class_dir.rglob("*") if p.is_file())
        images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
        report.ignored += len(files) - len(images)
        files_by_class[class_dir.name] = images
    total = sum(len(v) for v in files_by_class.values())
    seen: dict[str, Path] = {}
    done = 0
    for name, paths in files_by_class.items():
        summary = ClassSummary(name, files=len(paths))
        for path in paths:
            done += 1
            _inspect_file(path, summary, report, seen, samples_per_class)
            if done % 25 == 0 or done == total:
                yield Progress("inspect", done, total, f"{done}/{total} files checked")
        report.classes.append(summary)
    _add_warnings(report, min_per_class, fractions or SplitFractions())
    return report


def _inspect_file(
    path: Path, summary: ClassSummary, report: FolderInspection, seen: dict[str, Path], samples_per_class: int
) -> None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.unreadable.append(f"{path}: {exc.strerror or exc}")
        return
    reason = _decode_problem(data)
    if reason:
        report.unreadable.append(f"{path}: {reason}")
        return
    digest = hashlib.sha256(data).hexdigest()
    if digest in seen:
        report.duplicates.append(f"{path} duplicates {seen[digest]}")
        return
    seen[digest] = path
    summary.readable += 1
    if len(summary.samples) < samples_per_class:
        summary.samples.append(path)


def _add_warnings(report: FolderInspection, min_per_class: int, fractions: SplitFractions) -> None:
    for summary in report.classes:
        if summary.files == 0:
            report.errors.append(
                f"Class folder '{summary.name}' holds no images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}). Add images or remove the folder."
            )
        elif summary.readable == 0:
            report.errors.append(f"No image of class '{summary.name}' can be read. Replace its files.")
    readable = [c for c in report.classes if c.readable]
    report.warnings += class_balance_warnings({c.name: c.readable for c in readable}, min_per_class)
    for summary in readable:
        n_train = summary.readable - sum(
            round(summary.readable * f) for f in (fractions.val, fractions.test, fractions.ranked)
        )
        if n_train < MIN_TRAIN_PER_CLASS:
            report.warnings.append(
                f"class '{summary.name}' would keep {max(n_train, 0)} training image(s) after "
                f"holding out {fractions.val + fractions.test + fractions.ranked:.0%} for "
                "validation, test and ranked play; "
                "training needs at least 2"
            )
    if report.unreadable:
        shown = "; ".join(_relative(line, report.root) for line in report.unreadable[:3])
        more = f" and {len(report.unreadable) - 3} more" if len(report.unreadable) > 3 else ""
        report.warnings.append(f"{len(report.unreadable)} file(s) cannot be read and will be skipped: {shown}{more}")
    if report.duplicates:
        report.warnings.append(f"{len(report.duplicates)} duplicate file(s) will be stored once")
    if report.ignored:
        report.warnings.append(f"{report.ignored} file(s) without an image suffix are ignored")


def _relative(line: str, root: Path) -> str:
    """ "/abs/root/cat/x.jpg: reason" → "cat/x.jpg: reason" (shorter, still unambiguous)."""
    prefix = f"{root}/"
    return line[len(prefix) :] if line.startswith(prefix) else line


def class_balance_warnings(
    counts: dict[str, int], min_per_class: int = MIN_PER_CLASS, ratio: float = IMBALANCE_RATIO
) -> list[str]:
    """Warnings for classes with fewer than min_per_class images and for a largest/smallest ratio above ratio."""
    warnings = [
        f"class '{name}' has only {n} image(s) (at least {min_per_class} recommended)"
        for name, n in sorted(counts.items())
        if n < min_per_class
    ]
    present = [n for n in counts.values() if n > 0]
    if len(present) >= 2 and max(present) > ratio * min(present):
        smallest = min(counts, key=lambda k: counts[k])
        largest = max(counts, key=lambda k: counts[k])
        warnings.append(
            f"classes are unbalanced: '{smallest}' has {counts[smallest]} images, '{largest}' has "
            f"{counts[largest]}; accuracy will favour the large classes"
        )
    return warnings


@dataclass
class PackSummary:
    """A built pack's images per split and class, and what stops or weakens training on it."""

    pack_id: str
    title: str
    classes: list[str]
    counts: dict[str, dict[str, int]]  # split -> class -> n
    ranked: int
    warnings: list[str] = field(default_factory=list)
    is_trainable: bool = True

    def split_total(self, split: str) -> int:
        return sum(self.counts.get(split, {}).values())


def summarise_pack(pack: Pack, min_per_class: int = MIN_PER_CLASS) -> PackSummary:
    """Counts per split and class and the warnings that matter for training a model on `pack`."""
    counts = {split: dict(Counter(e.label for e in pack.splits[split])) for split in ("train", "val", "test")}
    summary = PackSummary(pack.id, pack.title, list(pack.classes), counts, len(pack.splits["ranked"]))
    train = {name: counts["train"].get(name, 0) for name in pack.classes}
    if not any(train.values()) or pack.meta.get("game_pack"):
        summary.is_trainable = False
        summary.warnings.append(
            "this is a game pack without training images; build a full pack from the source folder to train on it"
        )
        return summary
    too_few = [name for name, n in train.items() if n < MIN_TRAIN_PER_CLASS]
    if too_few:
        summary.is_trainable = False
        summary.warnings.append(
            f"class(es) {', '.join(too_few)} have fewer than {MIN_TRAIN_PER_CLASS} training "
            "images; training will refuse this pack"
        )
    summary.warnings += [
        w.replace("image(s)", "training image(s)") for w in class_balance_warnings(train, min_per_class)
    ]
    untested = [name for name in pack.classes if counts["test"].get(name, 0) == 0]
    if untested:
        summary.warnings.append(
            f"class(es) {', '.join(untested)} have no test images; their accuracy cannot be measured"
        )
    if not counts["val"]:
        summary.warnings.append("no validation images: deep models early-stop on the training loss instead")
    return summary


def sample_shas(pack: Pack, split: str = "train", per_class: int = SAMPLES_PER_CLASS) -> dict[str, list[str]]:
    """Up to per_class image hashes of each class from a split (first ones: splits are shuffled)."""
    picked: dict[str, list[str]] = {name: [] for name in pack.classes}
    for entry in pack.available(split):
        bucket = picked.get(entry.label or "")
        if bucket is not None and len(bucket) < per_class:
            bucket.append(entry.sha256)
    return picked


def thumbnail(image: np.ndarray, size: int = 72) -> np.ndarray:
    """An RGB uint8 image scaled to fit size×size, keeping its aspect ratio (never enlarged above 4×)."""
    height, width = image.shape[:2]
    scale = min(size / height, size / width, 4.0)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    return np.ascontiguousarray(cv2.resize(image, target, interpolation=interpolation))
