"""What can be played: packs and the models (opponents) for each, from the bundled assets and the user's data."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from classifiers.card import ModelCard, discover_models
from classifiers.difficulty import assign_difficulties
from classifiers.pack import Pack, discover_packs


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
    rest. A broken pack or model becomes a message in `problems`; the rest stay playable.
    """
    packs, pack_problems = discover_packs(root / "packs" for root in roots)
    models, model_problems = discover_models(*(root / "models" for root in roots))
    catalog = Catalog(packs={p.id: p for p in packs}, problems=[*pack_problems, *model_problems])
    by_pack: dict[str, list[tuple[Path, ModelCard]]] = defaultdict(list)
    for path, card in models:
        pack = catalog.packs.get(card.pack_id)
        if pack is None:
            continue  # a model for a pack that is not installed cannot be played
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
