"""Stand-ins for the game's services: an opponent that needs no ONNX model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

from classifiers.pack import Pack
from desktop.core.session import Opponent
from desktop.services.catalog import OpponentEntry


@dataclass
class FakeOpponent:
    """Answers from the pack's labels: right on every image, except those listed in `wrong_on`."""

    entry: OpponentEntry
    wrong_on: set[str] = field(default_factory=set)
    device: str = "Fake device"
    classifier: SimpleNamespace = field(
        default_factory=lambda: SimpleNamespace(provider="FakeProvider", fallback_reason=None)
    )
    load_seconds: float = 0.0

    @property
    def rules_view(self) -> Opponent:
        card = self.entry.card
        return Opponent(card.id, card.title, card.onnx_sha256, self.entry.difficulty)

    def probabilities(
        self, pack: Pack, shas: Sequence[str], *, skip_broken: bool = False, view_px: int | None = None
    ) -> dict[str, dict[str, float]]:
        labels = {e.sha256: e.label for e in pack.splits["test"]}
        out = {}
        for sha in shas:
            truth = labels[sha]
            guess = pack.classes[(pack.classes.index(truth) + 1) % len(pack.classes)] if sha in self.wrong_on else truth
            out[sha] = {c: (0.91 if c == guess else 0.01) for c in pack.classes}
        return out


def fake_loader(**kwargs):
    """An opponent_loader for MainWindow that returns FakeOpponents."""
    return lambda entry, device=None: FakeOpponent(entry, **kwargs)
