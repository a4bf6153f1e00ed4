"""Reading and checking the output of `eyevsai-train publish` before the server offers it for download.

```
DIR/packs/<pack id>/pack.json, images/ab/<sha256>.<ext>    the game pack (test and ranked images)
DIR/models/<model id>/model.json, model.onnx                the pack's models, difficulty set
DIR/predictions/…, DIR/reports/…                            not published (the server's import-pack reads them)
```
Every image must be present and named by its own SHA-256, and every model card must match its ONNX file
(`classifiers.card.read_card`), name a pack of DIR and its classes: a publish directory that was tampered with
or copied half-way is refused as a whole, before anything is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.card import CARD_FILE, ONNX_FILE, ModelCard, discover_models, file_sha256
from classifiers.errors import EyeVsAIError
from classifiers.pack import PACK_FILE, SPLITS, Pack, discover_packs

SAMPLES = 8
# Ids become folder names in the game's data folder: no separators, no "..".
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PublishError(EyeVsAIError):
    """A publish directory the server refuses (incomplete, tampered, or models that do not fit their pack)."""


@dataclass(frozen=True)
class PublishedFile:
    """One file of a download: where it installs (relative to the game's data folder), its bytes' hash and size."""

    path: str
    source: Path
    sha256: str
    size: int
    model_id: str | None = None


@dataclass
class PackBundle:
    """A checked pack with its models and every file a client downloads for them."""

    pack: Pack
    models: list[ModelCard] = field(default_factory=list)
    files: list[PublishedFile] = field(default_factory=list)
    samples: list[dict[str, str | None]] = field(default_factory=list)

    def size_of(self, model_id: str | None) -> int:
        return sum(f.size for f in self.files if f.model_id == model_id)


def read_publish_dir(directory: Path) -> list[PackBundle]:
    """Every pack of DIR/packs with its models of DIR/models, checked (see the module docstring).

    Raises:
        PublishError: no pack, a broken or incomplete pack, a tampered image, a model whose card does not match
            its ONNX, or a model of a pack DIR does not hold.
    """
    directory = Path(directory)
    packs, problems = discover_packs([directory / "packs"])
    if problems:
        raise PublishError(problems[0])
    if not packs:
        raise PublishError(
            f"{directory} holds no pack (no {directory / 'packs' / '<id>' / PACK_FILE}). Publish it with "
            "`eyevsai-train publish PACK DIR`, which copies the game pack there."
        )
    bundles = {pack.id: _read_pack(pack) for pack in packs}
    for card, model_dir in _read_models(directory / "models"):
        bundle = bundles.get(card.pack_id)
        if bundle is None:
            raise PublishError(
                f"Model '{card.id}' in {model_dir} plays pack '{card.pack_id}', which {directory / 'packs'} "
                f"does not hold (it holds {', '.join(sorted(bundles))})."
            )
        if list(card.classes) != list(bundle.pack.classes):
            raise PublishError(
                f"Model '{card.id}' in {model_dir} names classes {card.classes}, but pack '{bundle.pack.id}' has "
                f"{bundle.pack.classes}. Re-train it on this pack."
            )
        bundle.models.append(card)
        for name in (CARD_FILE, ONNX_FILE):
            bundle.files.append(_file(f"models/{card.id}/{name}", model_dir / name, card.id))
    return [bundles[pack_id] for pack_id in sorted(bundles)]


def _read_pack(pack: Pack) -> PackBundle:
    if not _ID.match(pack.id):
        raise PublishError(f"Pack id {pack.id!r} in {pack.root} cannot name a folder (letters, digits, . _ -).")
    bundle = PackBundle(pack, files=[_file(f"packs/{pack.id}/{PACK_FILE}", pack.root / PACK_FILE)])
    listed = [entry for split in SPLITS for entry in pack.splits[split]]
    missing = [entry.sha256 for entry in listed if not pack.has_image(entry.sha256)]
    if missing:
        raise PublishError(
            f"Pack '{pack.id}' in {pack.root} is incomplete: {len(missing)} of its {len(listed)} images are "
            f"missing (e.g. {missing[0][:12]}…). Publish it again with `eyevsai-train publish`."
        )
    for sha256 in sorted({entry.sha256 for entry in listed}):
        source = pack.image_path(sha256)
        published = _file(f"packs/{pack.id}/{source.relative_to(pack.root).as_posix()}", source)
        if published.sha256 != sha256:
            raise PublishError(
                f"{source} does not match its name: its SHA-256 is {published.sha256[:12]}…. The pack was "
                "changed after it was built; publish it again."
            )
        bundle.files.append(published)
    bundle.samples = _samples(pack)
    return bundle


def _read_models(models_dir: Path) -> list[tuple[ModelCard, Path]]:
    if not models_dir.is_dir():
        return []
    found, problems = discover_models(models_dir)
    if problems:
        raise PublishError(problems[0])
    cards = []
    for model_dir, card in found:
        if not _ID.match(card.id):
            raise PublishError(f"Model id {card.id!r} in {model_dir} cannot name a folder (letters, digits, . _ -).")
        if not card.onnx_sha256:
            raise PublishError(
                f"Model card {model_dir / CARD_FILE} records no onnx_sha256, so no client could check the ONNX "
                "file. Export the model again with eyevsai-train."
            )
        cards.append((card, model_dir))
    ids = [card.id for card, _ in cards]
    if len(ids) != len(set(ids)):
        raise PublishError(f"Two models in {models_dir} share the id '{max(ids, key=ids.count)}'.")
    return cards


def _file(path: str, source: Path, model_id: str | None = None) -> PublishedFile:
    try:
        return PublishedFile(path, source, file_sha256(source), source.stat().st_size, model_id)
    except OSError as exc:
        raise PublishError(f"Could not read {source} ({exc.strerror or exc}).") from exc


def _samples(pack: Pack) -> list[dict[str, str | None]]:
    """Up to SAMPLES preview images: the first test image of each class, then more in split order."""
    entries = pack.splits["test"] or pack.splits["ranked"]
    firsts = {}
    for entry in entries:
        firsts.setdefault(entry.label, entry)
    chosen = [firsts[c] for c in pack.classes if c in firsts][:SAMPLES]
    for entry in entries:
        if len(chosen) >= SAMPLES:
            break
        if entry not in chosen:
            chosen.append(entry)
    return [{"sha256": e.sha256, "label": e.label} for e in chosen]
