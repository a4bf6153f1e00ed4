"""Kaggle datasets, fetched through Kaggle's own client `kagglehub` with the user's API token.

Kaggle publishes no checksum for a dataset, so each recipe pins a dataset version (a version never changes once
published) and the pack's manifest records what was fetched: every file's SHA-256 and one digest over them all.
kagglehub downloads, resumes and caches the archive itself (~/.cache/kagglehub); its own bar shows the progress.
A class is the name of the folder that holds an image, whatever split folders sit above it.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from classifiers.errors import MissingExtraError
from classifiers.progress import Progress
from trainer.download import DownloadError
from trainer.packs import IMAGE_SUFFIXES, SourceImage
from trainer.recipes.base import FetchContext, Fetched, Recipe, label_of, limit_per_class

TOKEN_HELP = (
    "Kaggle downloads need your API token: create one on kaggle.com (Settings > API), then either save the "
    "kaggle.json it gives you as ~/.kaggle/kaggle.json or set KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN)."
)


def kaggle_credentials() -> str | None:
    """Where kagglehub will find the user's token (a short description), or None when it will find none."""
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME/KAGGLE_KEY"
    folder = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    for name in ("kaggle.json", "access_token", "access_token.txt"):
        if (folder / name).is_file():
            return str(folder / name)
    return None


def download_dataset(handle: str) -> Path:
    """The local folder of a pinned Kaggle dataset (`owner/name/versions/N`), downloaded by kagglehub.

    Raises:
        DownloadError: no token, no connection, or Kaggle refused the request.
        MissingExtraError: kagglehub is not installed.
    """
    if kaggle_credentials() is None:
        raise DownloadError(f"No Kaggle API token found for {handle}. {TOKEN_HELP}")
    try:
        import kagglehub  # lazy: kagglehub and requests, needed by the Kaggle recipes only
    except ImportError as exc:
        raise MissingExtraError(
            "Kaggle recipes need kagglehub: pip install kagglehub (or the trainer's 'train' extra)."
        ) from exc
    try:
        return Path(kagglehub.dataset_download(handle))
    except Exception as exc:  # noqa: BLE001 - kagglehub raises requests', its own and OS errors alike
        offline = "connection" in type(exc).__name__.lower() or "connection" in str(exc).lower()
        hint = (
            "Check the internet connection and rerun; kagglehub resumes the download."
            if offline
            else ("Check that your token is valid and that you accepted the dataset's terms on kaggle.com.")
        )
        raise DownloadError(f"Kaggle download of {handle} failed: {type(exc).__name__}: {exc}. {hint}") from exc


def _iter_folder(root: Path, files: dict[str, str], mapping: dict[str, str]) -> Iterator[SourceImage | str]:
    """Every image under root labelled by its folder, hashing every file (images or not) into `files`."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relpath = path.relative_to(root).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield f"{relpath}: {exc.strerror or exc}"
            continue
        files[relpath] = hashlib.sha256(data).hexdigest()
        if path.suffix.lower() in IMAGE_SUFFIXES and path.parent != root:
            raw = path.parent.name
            label = mapping.setdefault(raw, label_of(raw))
            yield SourceImage(data, label, relpath)


def tree_digest(files: dict[str, str]) -> str:
    """One SHA-256 over every (path, file SHA-256): equal digests mean the same files with the same bytes."""
    lines = "".join(f"{relpath}\t{digest}\n" for relpath, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


class _Manifest(dict[str, Any]):
    """The manifest, whose file digests are summarised once the images have been read."""

    def finish(self) -> None:
        self["files"] = len(self["file_sha256"])
        self["tree_sha256"] = tree_digest(self["file_sha256"])


def kaggle_fetcher(handle: str, version: int):
    """The fetch function of a recipe for Kaggle dataset `handle`, pinned to `version`."""

    def fetch(ctx: FetchContext) -> Generator[Progress, None, Fetched]:
        pinned = f"{handle}/versions/{version}"
        yield Progress("kaggle", 0, 1, f"downloading {pinned} with kagglehub")
        root = download_dataset(pinned)
        yield Progress("kaggle", 1, 1, f"{pinned} at {root}")
        images = [p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.parent != root]
        if not images:
            raise DownloadError(f"Kaggle dataset {pinned} at {root} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
        manifest = _Manifest(kaggle={"handle": handle, "version": version}, class_mapping={}, file_sha256={})
        stream = _iter_folder(root, manifest["file_sha256"], manifest["class_mapping"])
        per_class = Counter(label_of(p.parent.name) for p in images)
        total = sum(min(n, ctx.limit or n) for n in per_class.values())
        return Fetched(limit_per_class(stream, ctx.limit), total, manifest)

    return fetch


def _kaggle(name: str, handle: str, version: int, **fields: Any) -> Recipe:
    return Recipe(
        name=name,
        source=f"https://www.kaggle.com/datasets/{handle} (version {version})",
        fetch=kaggle_fetcher(handle, version),
        needs="Kaggle API token",
        **fields,
    )


KAGGLE_RECIPES = (
    _kaggle(
        "vegetables",
        "misrakahmed/vegetable-image-dataset",
        1,
        title="Vegetables (15 kinds)",
        licence="CC BY-SA 4.0 (as listed on the Kaggle page)",
        citation="M. I. Ahmed, S. M. Mamun, A. U. Z. Asif. DCNN-Based Vegetable Image Classification Using "
        "Transfer Learning: A Comparative Study. ICCCSP 2021.",
        size="21,000 images (224x224)",
        default_id="vegetables",
        classes=tuple(
            label_of(c)
            for c in "Bean Bitter_Gourd Bottle_Gourd Brinjal Broccoli Cabbage Capsicum Carrot Cauliflower "
            "Cucumber Papaya Potato Pumpkin Radish Tomato".split()
        ),
    ),
    _kaggle(
        "street-foods",
        "nikolasgegenava/popular-street-foods",
        1,
        title="Popular street foods (20 dishes)",
        licence="MIT (as listed on the Kaggle page)",
        citation="N. Gegenava. Popular Street Foods. Kaggle, 2025.",
        size="about 3,700 images",
        default_id="street-foods",
        classes=tuple(
            label_of(c)
            for c in "arepas burger bánh_mì churros crepes currywurst empanadas falafel fish_and_chips gelato "
            "hot_dog kebab_(shish_kebab) pad_thai pani_puri pizza_slice poutine pretzel samosas shawarma tacos".split()
        ),
    ),
    _kaggle(
        "music-instruments",
        "nikolasgegenava/music-instruments",
        1,
        title="Musical instruments (10 kinds)",
        licence="CC BY-NC 4.0 (as listed on the Kaggle page)",
        citation="N. Gegenava. Musical Instruments: A Global Collection of Iconic Musical Instruments for "
        "Image Classification. Kaggle.",
        size="10 classes (count shown by Kaggle)",
        default_id="music-instruments",
        classes=tuple("accordion banjo drum flute guitar harmonica saxophone sitar tabla violin".split()),
    ),
)
