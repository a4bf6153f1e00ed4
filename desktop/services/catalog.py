"""What can be played: packs and the models (opponents) for each, from the bundled assets and the user's data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.card import CARD_FILE, ONNX_FILE, ModelCard, discover_models
from classifiers.difficulty import assign_difficulties
from classifiers.pack import PACK_FILE, Pack, discover_packs

PLAYED_SPLITS = ("test",)  # the split the game deals from: a missing file there shortens or breaks sessions


@dataclass(frozen=True)
class OpponentEntry:
    """A playable model: its folder, card and difficulty among the models of its pack."""

    model_dir: Path
    card: ModelCard
    difficulty: str

    @property
    def label(self) -> str:
        accuracy = self.card.test_accuracy
        return f"{self.card.title} ({accuracy:.0%} on test)" if accuracy is not None else self.card.title


@dataclass
class Catalog:
    packs: dict[str, Pack] = field(default_factory=dict)
    opponents: dict[str, list[OpponentEntry]] = field(default_factory=dict)  # pack id -> weakest first
    problems: list[str] = field(default_factory=list)

    def opponents_for(self, pack_id: str, difficulty: str | None = None) -> list[OpponentEntry]:
        return [o for o in self.opponents.get(pack_id, []) if difficulty is None or o.difficulty == difficulty]

    def playable_packs(self) -> list[Pack]:
        """Packs with at least one opponent and test images to play on."""
        return [p for p in self.packs.values() if self.opponents.get(p.id) and p.available("test")]


def load_catalog(roots: list[Path]) -> Catalog:
    """Discover packs under <root>/packs and models under <root>/models for each root (earlier roots win).

    Difficulty is recomputed per pack over the models found (docs/design.md §3), so adding a model re-ranks the
    rest. Broken content becomes a message in `problems` naming the file and what to do; the rest stay playable.
    """
    packs, pack_problems = discover_packs(root / "packs" for root in roots)
    models, model_problems = discover_models(*(root / "models" for root in roots))
    strays = [*_folders_without(roots, "packs", PACK_FILE), *_stray_onnx(roots)]
    catalog = Catalog(packs={p.id: p for p in packs}, problems=[*pack_problems, *model_problems, *strays])
    catalog.problems.extend(problem for pack in packs if (problem := missing_images_problem(pack)))
    by_pack: dict[str, list[tuple[Path, ModelCard]]] = defaultdict(list)
    for path, card in models:
        pack = catalog.packs.get(card.pack_id)
        if pack is None:
            catalog.problems.append(
                f"Model '{card.id}' ({path / CARD_FILE}) is for pack '{card.pack_id}', which is not installed; "
                f"install that pack (eyevsai-train pack export-game) or remove the model folder."
            )
            continue
        if list(card.classes) != list(pack.classes):
            catalog.problems.append(
                f"Model '{card.id}' predicts {len(card.classes)} classes that differ from pack '{pack.id}'; skipped."
            )
            continue
        by_pack[card.pack_id].append((path, card))
    for pack_id, entries in by_pack.items():
        levels = assign_difficulties(card for _, card in entries)
        ranked = sorted(entries, key=lambda e: (e[1].test_accuracy or 0.0, e[1].id))
        catalog.opponents[pack_id] = [OpponentEntry(path, card, levels[card.id]) for path, card in ranked]
    return catalog


def missing_images_problem(pack: Pack) -> str | None:
    """A message when the pack lists images of a played split whose files are missing (None: all present)."""
    missing = [e.sha256 for split in PLAYED_SPLITS for e in pack.splits[split] if not pack.has_image(e.sha256)]
    if not missing:
        return None
    return (
        f"Pack '{pack.id}' lists {len(missing)} image(s) that are missing from {pack.root / 'images'} "
        f"(e.g. {missing[0][:2]}/{missing[0]}); sessions deal from the rest. Re-copy or rebuild the pack."
    )


def _folders_without(roots: list[Path], kind: str, required: str) -> list[str]:
    """A message per folder under <root>/<kind> that lacks its `required` file (so it is not a pack)."""
    problems = []
    for root in roots:
        base = root / kind
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if p.is_dir() and not (p / required).is_file()):
            problems.append(
                f"{folder} is in the {kind} folder but has no {required}, so it was skipped; "
                f"put the whole pack there (with {required}) or remove the folder."
            )
    return problems


def _stray_onnx(roots: list[Path]) -> list[str]:
    """A message per ONNX file under <root>/models that has no model card beside it."""
    problems = []
    for root in roots:
        base = root / "models"
        if not base.is_dir():
            continue
        for onnx in sorted([*base.glob("*.onnx"), *base.glob("*/*.onnx")]):
            if onnx.parent == base or not (onnx.parent / CARD_FILE).is_file():
                problems.append(
                    f"{onnx} has no model card ({CARD_FILE}) beside it, so it cannot be played; a model needs its "
                    f"folder with {CARD_FILE} and {ONNX_FILE}: export it with eyevsai-train, or remove the file."
                )
    return problems
