"""Building image packs: from a class-per-folder tree or a packaged dataset, with stratified seeded splits.

A built pack holds every split; its ranked labels are written beside pack.json as ranked_labels.json (for the
server) and never inside it. `export_game_pack` copies only what the game needs (test + ranked images).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from classifiers.errors import ConfigError, PackError
from classifiers.pack import PACK_FILE, Pack, PackEntry, image_relpath, open_pack
from classifiers.progress import Progress

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
RANKED_LABELS_FILE = "ranked_labels.json"
STRATIFIED, OFFICIAL = "stratified", "official"  # the split rules, recorded as pack.json's "split_rule"
PARTS = ("train", "test")
MIN_TEST_PER_CLASS, MIN_TEST_TOTAL = 30, 200  # below these a test accuracy is too coarse to compare models
PACK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")  # a folder name on every OS, never a hidden one
_EXT_BY_MAGIC = (
    (b"\xff\xd8\xff", ".jpg"),
    (b"\x89PNG", ".png"),
    (b"RIFF", ".webp"),
    (b"BM", ".bmp"),
    (b"GIF8", ".gif"),
)


@dataclass(frozen=True)
class SourceImage:
    """One candidate image: its encoded bytes, its class, and where it came from (for messages).

    `part` names the dataset's official part the image belongs to ("train" or "test") when the dataset has an
    official train/test division (Fashion-MNIST); None for a folder tree. Images that carry parts are split by
    `OFFICIAL` rules: official test images never reach train or val.
    """

    data: bytes
    label: str
    origin: str
    part: str | None = None


@dataclass(frozen=True)
class SplitFractions:
    """Fractions of each class per split.

    The stratified rule (folder trees) uses val, test and ranked of each class. The official rule (images that
    carry an official part) uses val of each class's official training images, and official_ranked of each
    class's official test images (the rest of them is the test split).
    """

    val: float = 0.1
    test: float = 0.15
    ranked: float = 0.1
    official_ranked: float = 0.2

    def __post_init__(self) -> None:
        if min(self.val, self.test, self.ranked) < 0 or self.val + self.test + self.ranked >= 0.9:
            # ConfigError is a ValueError and a domain error: the CLI shows one line and exit code 2
            raise ConfigError(
                f"Split fractions val={self.val}, test={self.test}, ranked={self.ranked} must be non-negative "
                "and leave at least 10% for training."
            )
        if not 0 <= self.official_ranked < 1:
            raise ConfigError(
                f"Ranked fraction {self.official_ranked} of the official test images must be at least 0 and below 1 "
                "(the rest of them is the test split)."
            )


@dataclass
class BuildReport:
    pack_dir: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> class -> n
    duplicates: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    split_rule: str = STRATIFIED


def _extension(data: bytes) -> str:
    for magic, ext in _EXT_BY_MAGIC:
        if data.startswith(magic):
            return ext
    return ".img"


def _is_decodable(data: bytes) -> bool:
    return bool(data) and cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None


def iter_image_folder(root: str | Path) -> Iterator[SourceImage | str]:
    """Images of a class-per-folder tree (ImageFolder layout): root/<class>/<file>.

    Yields SourceImage for each image file, and a message string for each file that cannot be read.

    Raises:
        PackError: root is missing, has fewer than two class folders, or a class folder has no images.
    """
    root = Path(root)
    if not root.is_dir():
        raise PackError(f"Source folder {root} does not exist. Pass a folder with one sub-folder per class.")
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < 2:
        raise PackError(
            f"{root} has {len(class_dirs)} class folder(s); a pack needs at least two "
            "(layout: SRC/<class name>/<image files>)."
        )
    for class_dir in class_dirs:
        files = sorted(p for p in class_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise PackError(
                f"Class folder {class_dir} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}). "
                "Add images or remove the folder."
            )
        for path in files:
            try:
                yield SourceImage(path.read_bytes(), class_dir.name, str(path))
            except OSError as exc:
                yield f"{path}: {exc.strerror or exc}"


def _stratified_split(by_class: dict[str, list[str]], fractions: SplitFractions, seed: int) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    splits: dict[str, list[tuple[str, str]]] = {"train": [], "val": [], "test": [], "ranked": []}
    for label in sorted(by_class):
        shas = sorted(by_class[label])  # sorted first so the split depends only on content and seed
        order = rng.permutation(len(shas))
        n = len(shas)
        n_test, n_ranked, n_val = (int(round(n * f)) for f in (fractions.test, fractions.ranked, fractions.val))
        bounds = np.cumsum([n_test, n_ranked, n_val])
        for i, idx in enumerate(order):
            split = "test" if i < bounds[0] else "ranked" if i < bounds[1] else "val" if i < bounds[2] else "train"
            splits[split].append((shas[idx], label))
    for split in splits.values():
        rng.shuffle(split)
    return splits


def _official_split(
    by_class: dict[str, list[str]], part_of: dict[str, str | None], fractions: SplitFractions, seed: int
) -> dict[str, list]:
    """Train/val from each class's official training images, test/ranked from its official test images."""
    rng = np.random.default_rng(seed)
    splits: dict[str, list[tuple[str, str]]] = {"train": [], "val": [], "test": [], "ranked": []}
    rules = (("train", "val", "train", fractions.val), ("test", "ranked", "test", fractions.official_ranked))
    for label in sorted(by_class):
        for part, first, rest, fraction in rules:
            shas = sorted(sha for sha in by_class[label] if part_of[sha] == part)  # content and seed decide
            order = rng.permutation(len(shas))
            n_first = int(round(len(shas) * fraction))
            for i, idx in enumerate(order):
                splits[first if i < n_first else rest].append((shas[idx], label))
    for split in splits.values():
        rng.shuffle(split)
    return splits


def _split(
    by_class: dict[str, list[str]], part_of: dict[str, str | None], fractions: SplitFractions, seed: int
) -> tuple[str, dict[str, list]]:
    """The split rule the images call for (official when they carry parts) and its splits."""
    parts = set(part_of.values())
    if parts == {None}:
        return STRATIFIED, _stratified_split(by_class, fractions, seed)
    if not parts <= set(PARTS):
        raise PackError(f"Images carry official parts {sorted(map(str, parts))}; each must be one of {PARTS}.")
    return OFFICIAL, _official_split(by_class, part_of, fractions, seed)


def build_pack(
    images: Iterable[SourceImage | str],
    out_dir: str | Path,
    *,
    pack_id: str,
    title: str | None = None,
    licence: str = "unknown",
    source: str = "",
    fractions: SplitFractions | None = None,
    seed: int = 0,
    total: int = 0,
    min_per_class: int = 10,
) -> Generator[Progress, None, BuildReport]:
    """Write a pack to out_dir/pack_id, yielding progress; returns the BuildReport.

    Args:
        images: SourceImage items (and message strings for files that could not be read).
        total: expected number of images, for the progress total (0 if unknown).
        min_per_class: classes with fewer images get a warning.

    Raises:
        PackError: a bad pack id, an existing pack, fewer than two classes of readable images.
    """
    # checked now, not at the first step, so a front end reports a bad id before it shows any progress
    check_pack_id(pack_id)
    pack_dir = Path(out_dir) / pack_id
    if (pack_dir / PACK_FILE).exists():
        raise PackError(f"A pack already exists at {pack_dir}. Choose another --id or delete that folder.")
    meta = {"id": pack_id, "title": title or pack_id, "licence": licence, "source": source, "seed": seed}
    return _write_pack(images, pack_dir, meta, fractions or SplitFractions(), total, min_per_class)


def _write_pack(
    images: Iterable[SourceImage | str],
    pack_dir: Path,
    meta: dict[str, Any],
    fractions: SplitFractions,
    total: int,
    min_per_class: int,
) -> Generator[Progress, None, BuildReport]:
    """Import, split and write the pack through a `.partial` folder, renamed into place when complete."""
    seed = meta["seed"]
    tmp_dir = pack_dir.with_name(pack_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    report = BuildReport(pack_dir)
    try:
        by_class, part_of, sizes = yield from _import_images(images, tmp_dir, report, total)
        if len(by_class) < 2:
            raise PackError(f"Only {len(by_class)} class(es) had readable images; a pack needs at least two.")
        report.split_rule, splits = _split(by_class, part_of, fractions, seed)
        _check_balance(by_class, min_per_class, report)
        _check_test_size(splits["test"], sorted(by_class), report)
        height, width = (int(np.median([s[i] for s in sizes])) for i in (0, 1))
        pack_meta = {
            "id": meta["id"],
            "title": meta["title"],
            "version": 1,
            "licence": meta["licence"],
            "source": meta["source"],
            "classes": sorted(by_class),
            "image_size": [height, width],
            "seed": seed,
            "split_rule": report.split_rule,
            "splits": {
                name: [
                    {"sha256": sha} if name == "ranked" else {"sha256": sha, "label": label} for sha, label in entries
                ]
                for name, entries in splits.items()
            },
        }
        (tmp_dir / PACK_FILE).write_text(json.dumps(pack_meta, indent=1) + "\n", encoding="utf-8")
        ranked_labels = {sha: label for sha, label in splits["ranked"]}
        (tmp_dir / RANKED_LABELS_FILE).write_text(json.dumps(ranked_labels, indent=1) + "\n", encoding="utf-8")
        tmp_dir.replace(pack_dir)
    except BaseException:
        # a failed or abandoned build (bad source, Ctrl-C, closed generator) leaves no half-written folder
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    report.counts = {name: dict(Counter(label for _, label in entries)) for name, entries in splits.items()}
    return report


def check_pack_id(pack_id: str) -> None:
    """The one rule for pack ids, which name the pack's folder.

    Raises:
        PackError: pack_id has other characters than letters, digits, '-' and '_', or starts with '-' or '_'.
    """
    if not PACK_ID.match(pack_id):
        raise PackError(
            f"Pack id {pack_id!r} may contain only letters, digits, '-' and '_' (and must start "
            "with a letter or digit)."
        )


def _import_images(
    images: Iterable[SourceImage | str], tmp_dir: Path, report: BuildReport, total: int
) -> Generator[Progress, None, tuple[dict[str, list[str]], dict[str, str | None], list[tuple[int, int]]]]:
    """Store each new decodable image in tmp_dir; record duplicates and unreadable files in the report.

    An image stored once belongs to the official training part if any of its copies does, so an official test
    image that duplicates a training image never reaches the test split.

    Returns:
        (class -> sha256 list, sha256 -> official part, (height, width) of every stored image).
    """
    by_class: dict[str, list[str]] = defaultdict(list)
    seen: dict[str, str] = {}
    part_of: dict[str, str | None] = {}
    sizes: list[tuple[int, int]] = []
    made_dirs: set[Path] = set()
    for n, item in enumerate(images, start=1):
        if isinstance(item, str):
            report.unreadable.append(item)
            continue
        sha = hashlib.sha256(item.data).hexdigest()
        if sha in seen:
            report.duplicates.append(f"{item.origin} duplicates {seen[sha]}")
            if item.part == "train" and part_of[sha] == "test":
                part_of[sha] = "train"
        else:
            decoded = cv2.imdecode(np.frombuffer(item.data, np.uint8), cv2.IMREAD_COLOR) if item.data else None
            if decoded is None:
                report.unreadable.append(f"{item.origin}: not a decodable image")
            else:
                seen[sha] = item.origin
                part_of[sha] = item.part
                sizes.append(decoded.shape[:2])
                target = tmp_dir / image_relpath(sha, _extension(item.data))
                if target.parent not in made_dirs:  # one mkdir per folder, not per image (70,000 for MNIST)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made_dirs.add(target.parent)
                target.write_bytes(item.data)
                by_class[item.label].append(sha)
        if n % 50 == 0 or n == total:
            yield Progress("import", n, total, f"{n} images read")
    return by_class, part_of, sizes


def _check_balance(by_class: dict[str, list[str]], min_per_class: int, report: BuildReport) -> None:
    for label in sorted(by_class):
        if len(by_class[label]) < min_per_class:
            report.warnings.append(f"class '{label}' has only {len(by_class[label])} images")
    counts = [len(v) for v in by_class.values()]
    if max(counts) > 3 * min(counts):
        report.warnings.append(f"classes are unbalanced ({min(counts)}–{max(counts)} images)")


def _check_test_size(test: list[tuple[str, str]], classes: list[str], report: BuildReport) -> None:
    """Warn when the test split is too small for its accuracy to tell models apart."""
    per_class = Counter(label for _, label in test)
    thinnest = min(classes, key=lambda c: per_class[c])
    if per_class[thinnest] >= MIN_TEST_PER_CLASS and len(test) >= MIN_TEST_TOTAL:
        return
    step = f"; one image moves its accuracy by {100 / len(test):.1f} points" if test else ""
    report.warnings.append(
        f"the test split holds only {len(test)} images ('{thinnest}': {per_class[thinnest]}){step}: too few to "
        f"compare models (aim for {MIN_TEST_PER_CLASS}+ per class, {MIN_TEST_TOTAL}+ in all). Add images (a larger "
        "--limit for a packaged dataset) or raise the test fraction (--test; for an official split, a lower --ranked)."
    )


def export_game_pack(
    pack: Pack, out_dir: str | Path, *, max_test: int | None = None, max_ranked: int | None = None
) -> Path:
    """Copy the test and ranked images (no train/val, no ranked labels) into out_dir/<pack id>.

    max_test/max_ranked keep a stratified prefix (the splits are already shuffled) to keep the game pack small.
    """
    target = Path(out_dir) / pack.id
    if target.resolve() == pack.root.resolve():
        # replacing the target first would delete the very images we are about to copy
        raise PackError(
            f"Cannot export pack '{pack.id}' onto its source pack at {pack.root}. "
            "Pass another --to folder (e.g. assets/packs)."
        )
    if target.exists():
        shutil.rmtree(target)
    test = _take_stratified(pack.splits["test"], max_test)
    ranked = _take_ranked(pack, max_ranked)
    for entry in [*test, *ranked]:
        source = pack.image_path(entry.sha256)
        dest = target / image_relpath(entry.sha256, source.suffix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    meta = dict(pack.meta)
    meta["splits"] = {
        "train": [],
        "val": [],
        "test": [{"sha256": e.sha256, "label": e.label} for e in test],
        "ranked": [{"sha256": e.sha256} for e in ranked],
    }
    meta["game_pack"] = True
    target.mkdir(parents=True, exist_ok=True)  # even when the limits keep no image
    (target / PACK_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    open_pack(target)  # validate what we wrote
    return target


def _take_stratified(entries: list, limit: int | None) -> list:
    """At most `limit` entries, as many of each label (the first ones: the split is shuffled)."""
    if limit is None or limit >= len(entries):
        return list(entries)
    by_label: dict[str, list] = defaultdict(list)
    for entry in entries:
        by_label[entry.label].append(entry)
    per_class = limit // len(by_label)
    if per_class < 1:  # fewer places than classes: a shuffled prefix, still within the limit
        return list(entries[: max(limit, 0)])
    keep = {id(e) for group in by_label.values() for e in group[:per_class]}
    return [e for e in entries if id(e) in keep]


def _take_ranked(pack: Pack, limit: int | None) -> list[PackEntry]:
    """Up to `limit` ranked entries, stratified by the server-side labels when the pack holds them."""
    entries = pack.splits["ranked"]
    if limit is None or limit >= len(entries):
        return list(entries)
    if not (pack.root / RANKED_LABELS_FILE).is_file():
        return entries[:limit]  # the split is shuffled: a prefix is a fair sample
    labels = load_ranked_labels(pack)
    labelled = _take_stratified([PackEntry(e.sha256, labels.get(e.sha256)) for e in entries], limit)
    return [PackEntry(e.sha256) for e in labelled]


def load_ranked_labels(pack: Pack) -> dict[str, str]:
    path = pack.root / RANKED_LABELS_FILE
    if not path.is_file():
        raise PackError(f"Pack '{pack.id}' has no {RANKED_LABELS_FILE}; only a full (trainer) pack holds them.")
    return json.loads(path.read_text(encoding="utf-8"))
