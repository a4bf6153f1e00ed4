"""What every pack recipe is made of: its description, what a fetch needs, and what a fetch hands the builder."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.pack import Pack
from classifiers.progress import Progress
from trainer.packs import SourceImage


@dataclass(frozen=True)
class FetchContext:
    """What a recipe's fetch may use.

    Attributes:
        downloads_dir: where archives are downloaded to (resumable `.part` files live here too).
        base_url: replaces the recipe's download folder URL (a mirror, or a loopback server in tests).
        limit: at most this many images per class.
        sources: the packs a `combined` recipe is made of.
    """

    downloads_dir: Path
    base_url: str | None = None
    limit: int | None = None
    sources: tuple[Pack, ...] = ()


@dataclass
class Fetched:
    """A recipe's images for `build_pack`, and the manifest to store beside the pack.

    `manifest` may still grow while `images` is consumed (the hashes of files read on the way); it is written
    only after the pack is built.
    """

    images: Iterator[SourceImage | str]
    total: int
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    """One dataset the trainer can fetch and build into a pack.

    Attributes:
        name: the recipe's name on the command line.
        default_id: the pack id used when --id is not given.
        size: download size or image count, for `pack fetch --list`.
        classes: the class names the pack will have (empty when the source decides, as for `combined`).
        fetch: downloads and verifies the sources; returns the images to build from.
    """

    name: str
    title: str
    source: str
    licence: str
    citation: str
    size: str
    default_id: str
    classes: tuple[str, ...]
    fetch: Callable[[FetchContext], Generator[Progress, None, Fetched]]
    needs: str = ""  # what the user must provide (an API token), shown by --list


def limit_per_class(images: Iterable[SourceImage | str], limit: int | None) -> Iterator[SourceImage | str]:
    """The images, keeping at most `limit` of each class (in source order)."""
    counts: Counter[str] = Counter()
    for item in images:
        if isinstance(item, SourceImage) and limit is not None:
            if counts[item.label] >= limit:
                continue
            counts[item.label] += 1
        yield item


def label_of(raw: str) -> str:
    """A class name as the game shows it: 'Bitter_Gourd' -> 'bitter gourd' (the raw name stays in the manifest)."""
    return " ".join(raw.replace("_", " ").split()).lower()
