"""`combined`: one pack made of several packs of the workspace, each class named '<pack id>: <class>'.

The original game's combined dataset mixed pets, vegetables, street foods and instruments. Nothing is downloaded:
the parts are packs already built (by their own recipes), so their checksums were verified when they were
fetched; the manifest records each part's pack.json SHA-256 and the class mapping. Every labelled image of a
part is used (train, val, test, and ranked when the part holds its ranked labels); the new pack is split afresh.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Generator, Iterator

from classifiers.errors import PackError
from classifiers.pack import PACK_FILE, Pack
from classifiers.progress import Progress
from trainer.packs import RANKED_LABELS_FILE, SourceImage, load_ranked_labels
from trainer.recipes.base import FetchContext, Fetched, Recipe, limit_per_class

DEFAULT_PARTS = ("oxford-pets", "vegetables", "street-foods", "music-instruments")
SEPARATOR = ": "


def combined_label(pack_id: str, label: str) -> str:
    return f"{pack_id}{SEPARATOR}{label}"


def _labelled_entries(pack: Pack) -> list[tuple[str, str]]:
    """(sha256, label) of every image of the pack whose label the trainer knows."""
    entries = [(e.sha256, e.label) for split in ("train", "val", "test") for e in pack.splits[split] if e.label]
    if (pack.root / RANKED_LABELS_FILE).is_file():
        ranked = load_ranked_labels(pack)
        entries += [(e.sha256, ranked[e.sha256]) for e in pack.splits["ranked"] if e.sha256 in ranked]
    return entries


def _iter_parts(parts: list[tuple[Pack, list[tuple[str, str]]]]) -> Iterator[SourceImage | str]:
    for pack, entries in parts:
        for sha, label in entries:
            try:
                data = pack.image_path(sha).read_bytes()
            except (PackError, OSError) as exc:
                yield f"{pack.id} image {sha[:12]}: {exc}"
                continue
            yield SourceImage(data, combined_label(pack.id, label), f"{pack.id}/{sha[:12]}")


def _fetch(ctx: FetchContext) -> Generator[Progress, None, Fetched]:
    if len(ctx.sources) < 2:
        raise PackError(
            f"A combined pack needs at least two packs (got {len(ctx.sources)}); pass them with --from, "
            f"e.g. --from {','.join(DEFAULT_PARTS[:2])}."
        )
    if len({p.id for p in ctx.sources}) != len(ctx.sources):
        raise PackError(f"--from names a pack twice: {', '.join(p.id for p in ctx.sources)}.")
    parts = [(pack, _labelled_entries(pack)) for pack in ctx.sources]
    yield Progress("combine", len(parts), len(parts), f"{sum(len(e) for _, e in parts)} labelled images")
    per_class = Counter(combined_label(p.id, label) for p, entries in parts for _, label in entries)
    total = sum(min(n, ctx.limit or n) for n in per_class.values())
    manifest = {
        "parts": [
            {
                "pack_id": pack.id,
                "title": pack.title,
                "licence": pack.meta.get("licence"),
                "source": pack.meta.get("source"),
                "pack_json_sha256": hashlib.sha256((pack.root / PACK_FILE).read_bytes()).hexdigest(),
            }
            for pack, _ in parts
        ],
        "class_mapping": {
            pack.id: {label: combined_label(pack.id, label) for label in pack.classes} for pack, _ in parts
        },
    }
    return Fetched(limit_per_class(_iter_parts(parts), ctx.limit), total, manifest)


COMBINED = Recipe(
    name="combined",
    title="Combined",
    source="packs of this workspace (--from; default: " + ",".join(DEFAULT_PARTS) + ")",
    licence="each part's own licence (listed in recipe.json)",
    citation="each part's own citation",
    size="the parts' images",
    default_id="combined",
    classes=(),
    fetch=_fetch,
)
