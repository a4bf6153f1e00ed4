"""Running a recipe: fetch and verify its sources, build the pack in a temporary folder, then rename it into place.

The pack and its manifest (`recipe.json`: source, licence, citation, class mapping, the archives' checksums or the
fetched files' hashes) are written under `<dest>/.fetch-<id>-*` and renamed to `<dest>/<id>` as the last step, so
an interrupted or failed fetch leaves no pack behind (only the downloads, which the next run resumes).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.errors import PackError
from classifiers.progress import Progress
from trainer.packs import BuildReport, SplitFractions, build_pack, check_pack_id
from trainer.recipes.base import FetchContext, Recipe

RECIPE_FILE = "recipe.json"


@dataclass(frozen=True)
class FetchReport:
    build: BuildReport
    manifest: dict[str, Any]

    @property
    def pack_dir(self) -> Path:
        return self.build.pack_dir


def fetch_pack(
    recipe: Recipe,
    ctx: FetchContext,
    dest: Path,
    *,
    pack_id: str | None = None,
    fractions: SplitFractions | None = None,
    seed: int = 0,
) -> Generator[Progress, None, FetchReport]:
    """Fetch `recipe`'s sources and build them into dest/<pack_id> (default: the recipe's default id).

    Raises:
        PackError: a bad or taken pack id (before anything is downloaded), or sources that make no pack.
        DownloadError: a source could not be fetched or failed its checksum.
    """
    pack_id = pack_id or recipe.default_id
    check_pack_id(pack_id)
    target = Path(dest) / pack_id
    _refuse_existing(target)  # before a download of hundreds of megabytes, not after it
    return _run(recipe, ctx, target, fractions or SplitFractions(), seed)


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise PackError(f"A pack already exists at {target}. Choose another --id or delete that folder.")


def _run(
    recipe: Recipe, ctx: FetchContext, target: Path, fractions: SplitFractions, seed: int
) -> Generator[Progress, None, FetchReport]:
    fetched = yield from recipe.fetch(ctx)
    target.parent.mkdir(parents=True, exist_ok=True)
    # a hidden sibling: the same file system (the rename is atomic) and never listed as a pack
    staging = Path(tempfile.mkdtemp(prefix=f".fetch-{target.name}-", dir=target.parent))
    try:
        work = build_pack(
            fetched.images,
            staging,
            pack_id=target.name,
            title=recipe.title,
            licence=recipe.licence,
            source=recipe.source,
            fractions=fractions,
            seed=seed,
            total=fetched.total,
        )
        report = yield from work
        finish = getattr(fetched.manifest, "finish", None)
        if finish is not None:
            finish()  # digests of the files read while building
        manifest = _manifest(recipe, fetched.manifest, ctx)
        built = staging / target.name
        (built / RECIPE_FILE).write_text(json.dumps(manifest, indent=1, default=dict) + "\n", encoding="utf-8")
        _refuse_existing(target)  # another run may have finished first
        built.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.pack_dir = target
    return FetchReport(report, manifest)


def _manifest(recipe: Recipe, details: dict[str, Any], ctx: FetchContext) -> dict[str, Any]:
    return {
        "recipe": recipe.name,
        "title": recipe.title,
        "source": recipe.source,
        "licence": recipe.licence,
        "citation": recipe.citation,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "limit_per_class": ctx.limit,
        **dict(details),
    }
