"""Side-by-side comparison of two model cards: headline metrics, per-class accuracy, and what was set differently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifiers.card import ModelCard
from classifiers.registry import family_label


@dataclass(frozen=True)
class ComparisonRow:
    """One line of the comparison; `delta` is b − a for numbers (None otherwise), `section` groups the lines."""

    section: str
    label: str
    a: str
    b: str
    delta: float | None = None


def _percent(value: Any) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _delta(a: Any, b: Any) -> float | None:
    x, y = _number(a), _number(b)
    return None if x is None or y is None else y - x


def compare_cards(a: ModelCard, b: ModelCard) -> list[ComparisonRow]:
    """Rows comparing model a with model b (per-class rows only when both have the same classes)."""
    rows = [
        ComparisonRow("model", "id", a.id, b.id),
        ComparisonRow(
            "model",
            "family / variant",
            f"{family_label(a.family)} / {a.variant}",
            f"{family_label(b.family)} / {b.variant}",
        ),
        ComparisonRow("model", "pack", a.pack_id, b.pack_id),
        ComparisonRow("model", "difficulty", a.difficulty or "–", b.difficulty or "–"),
    ]
    for key, label in (("test_accuracy", "test accuracy"), ("macro_f1", "macro F1")):
        x, y = a.metrics.get(key), b.metrics.get(key)
        text = _percent if key == "test_accuracy" else (lambda v: "–" if v is None else f"{float(v):.3f}")
        rows.append(ComparisonRow("metrics", label, text(x), text(y), _delta(x, y)))
    seconds = (a.training.get("seconds"), b.training.get("seconds"))
    rows.append(
        ComparisonRow(
            "metrics", "training seconds", *("–" if s is None else f"{s:.1f}" for s in seconds), _delta(*seconds)
        )
    )
    if list(a.classes) == list(b.classes):
        per_a, per_b = a.metrics.get("per_class", {}), b.metrics.get("per_class", {})
        for name in a.classes:
            rows.append(
                ComparisonRow(
                    "per-class accuracy",
                    name,
                    _percent(per_a.get(name)),
                    _percent(per_b.get(name)),
                    _delta(per_a.get(name), per_b.get(name)),
                )
            )
    params_a, params_b = a.training.get("params", {}), b.training.get("params", {})
    for name in sorted(set(params_a) | set(params_b)):
        x, y = params_a.get(name, "–"), params_b.get(name, "–")
        if x != y:
            rows.append(ComparisonRow("settings that differ", name, str(x), str(y), _delta(x, y)))
    return rows
