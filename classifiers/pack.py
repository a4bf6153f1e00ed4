"""Image packs (docs/design.md §2): a self-describing, content-addressed image classification dataset.

```
<pack_id>/pack.json              id, title, version, licence, source, classes, image_size, splits
<pack_id>/images/ab/abcdef….jpg  every image stored once, named by the SHA-256 of its bytes
```
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.errors import PackError
from classifiers.preprocess import decode_image

PACK_FILE = "pack.json"
SPLITS = ("train", "val", "test", "ranked")
LABELLED_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class PackEntry:
    """One image of a split; `label` is None in the ranked split (its labels live on the server)."""

    sha256: str
    label: str | None = None


def image_relpath(sha256: str, ext: str) -> str:
    """Where an image lives inside a pack: images/<first two hex chars>/<sha256><ext>."""
    return f"images/{sha256[:2]}/{sha256}{ext}"


class Pack:
    """Read access to one pack on disk."""

    def __init__(self, root: Path, meta: dict[str, Any]) -> None:
        self.root = root
        self.meta = meta
        self.id: str = meta["id"]
        self.title: str = meta.get("title") or self.id
        self.classes: list[str] = list(meta["classes"])
        self.splits: dict[str, list[PackEntry]] = {
            name: [PackEntry(e["sha256"], e.get("label")) for e in meta.get("splits", {}).get(name, [])]
            for name in SPLITS
        }
        self._paths: dict[str, Path] | None = None

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"Pack({self.id!r}, classes={len(self.classes)}, {sizes})"

    @property
    def image_size(self) -> tuple[int, int] | None:
        hint = self.meta.get("image_size")
        return (int(hint[0]), int(hint[1])) if hint else None

    def _index(self) -> dict[str, Path]:
        if self._paths is None:
            self._paths = {p.name.split(".")[0]: p for p in (self.root / "images").glob("*/*") if p.is_file()}
        return self._paths

    def has_image(self, sha256: str) -> bool:
        return sha256 in self._index()

    def image_path(self, sha256: str) -> Path:
        try:
            return self._index()[sha256]
        except KeyError:
            raise PackError(
                f"Pack '{self.id}' lists image {sha256[:12]}… but its file is missing from "
                f"{self.root / 'images' / sha256[:2]}. Rebuild or re-copy the pack."
            ) from None

    def read_bytes(self, sha256: str) -> bytes:
        path = self.image_path(sha256)
        try:
            return path.read_bytes()
        except OSError as exc:  # removed or unreadable since the pack indexed its files
            raise PackError(f"Pack '{self.id}': could not read {path} ({exc.strerror or exc}).") from exc

    def load_image(self, sha256: str) -> np.ndarray:
        """The decoded RGB uint8 image."""
        return decode_image(self.read_bytes(sha256), name=f"image {sha256[:12]}… of pack '{self.id}'")

    def labelled(self, split: str) -> tuple[list[str], np.ndarray]:
        """(sha256 list, integer label array in `classes` order) for a labelled split."""
        if split not in LABELLED_SPLITS:
            raise PackError(f"Split '{split}' has no labels in a pack; use one of {LABELLED_SPLITS}.")
        entries = self.splits[split]
        index = {name: i for i, name in enumerate(self.classes)}
        return [e.sha256 for e in entries], np.array([index[e.label] for e in entries], dtype=np.int64)

    def available(self, split: str) -> list[PackEntry]:
        """The entries of a split whose image files are present (game packs omit train/val files)."""
        index = self._index()
        return [e for e in self.splits[split] if e.sha256 in index]


def _validate(meta: dict[str, Any], source: Path) -> None:
    for key in ("id", "classes", "splits"):
        if key not in meta:
            raise PackError(f"{source} has no '{key}' field; is it an EyeVsAI pack.json?")
    classes = meta["classes"]
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise PackError(f"{source} must list at least two distinct classes, got {classes}.")
    known = set(classes)
    for split in LABELLED_SPLITS:
        for entry in meta["splits"].get(split, []):
            if entry.get("label") not in known:
                raise PackError(
                    f"{source}: an image of split '{split}' has label {entry.get('label')!r}, "
                    f"which is not one of the pack's classes."
                )
    for entry in meta["splits"].get("ranked", []):
        if "label" in entry:
            raise PackError(f"{source}: ranked images must not carry labels in a client pack.")


def open_pack(path: str | Path) -> Pack:
    """Open the pack in directory `path` (or the pack.json file itself).

    Raises:
        PackError: when the directory holds no valid pack.json.
    """
    path = Path(path)
    root = path.parent if path.name == PACK_FILE else path
    meta_path = root / PACK_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"No pack at {root} (no {PACK_FILE}). Build one with `eyevsai-train pack build`.") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise PackError(f"{meta_path} is not readable JSON ({exc}).") from exc
    _validate(meta, meta_path)
    return Pack(root, meta)


def discover_packs(roots: Iterable[str | Path]) -> tuple[list[Pack], list[str]]:
    """Every valid pack directly under the roots, and a message per broken one. First root wins on id clashes."""
    packs: list[Pack] = []
    problems: list[str] = []
    seen: set[str] = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for meta_path in sorted(root.glob(f"*/{PACK_FILE}")):
            try:
                pack = open_pack(meta_path.parent)
            except PackError as exc:
                problems.append(str(exc))
                continue
            if pack.id not in seen:
                seen.add(pack.id)
                packs.append(pack)
    return packs, problems


def find_pack(pack_id_or_path: str | Path, roots: Iterable[str | Path]) -> Pack:
    """A pack by directory path, or by id among the packs under the roots."""
    candidate = Path(pack_id_or_path)
    if (candidate / PACK_FILE).is_file() or candidate.name == PACK_FILE:
        return open_pack(candidate)
    roots = list(roots)
    packs, _ = discover_packs(roots)
    for pack in packs:
        if pack.id == str(pack_id_or_path):
            return pack
    known = ", ".join(p.id for p in packs) or "none"
    raise PackError(
        f"No pack '{pack_id_or_path}' (known packs: {known}). "
        "Build one with `eyevsai-train pack build SRC --id ID` or pass the pack's directory."
    )
