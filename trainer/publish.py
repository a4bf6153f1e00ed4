"""Publishing a pack's models: difficulty by test-accuracy terciles, the game's models folder, a report, and the
prediction tables the sync server imports for ranked play.

```
DIR/models/<model id>/model.onnx, model.json         the game's models (docs/design.md §3), difficulty set
DIR/predictions/<pack id>/<model id>.json            {"model_id", "onnx_sha256", "classes", "predictions":
                                                      {image sha256: [probabilities in `classes` order]}}
DIR/predictions/<pack id>/ranked_labels.json         copied from the pack, for `eyevsai-server import-pack`
DIR/reports/<pack id>.json, <pack id>.txt            every model with accuracy, difficulty and size, and whether
                                                      adjacent tiers differ on the test split (exact McNemar)
```
A prediction table (`game_rules.prediction_table.PredictionTable`) is made by
`classifiers.batch_prediction.compute_prediction_table`, as the server's `import-pack` makes a missing one, on the
pack's whole ranked split. A model of the pack already in DIR that the registry says no longer plays
(superseded or failed) is taken out, so the game never meets stale opponents; any other model of the pack there
(trained elsewhere, or with `train --models-dir DIR/models`) is kept, ranked and tabled with the rest, so the
difficulties in DIR are always the terciles of exactly the models the game will find there.

The user chooses which of the pack's active models go (`models`; default all). A chosen model whose test accuracy
is at chance (`classifiers.chance`) is refused, named in the report with the numbers, unless `allow_chance`; a
refused or unchosen model that an earlier publish put in DIR is taken out with the rest.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Collection, Generator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from classifiers.batch_prediction import compute_prediction_table
from classifiers.card import ONNX_FILE, ModelCard, discover_models, read_card, write_card
from classifiers.chance import chance_of_metrics, is_at_chance
from classifiers.difficulty import tier_boundaries
from classifiers.errors import ConfigError, PackError
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import family_label
from classifiers.stats import SIGNIFICANCE, discordant_counts, mcnemar_exact
from trainer.model_registry import DONE, ModelRecord, ModelRegistry, now, rank_cards
from trainer.packs import RANKED_LABELS_FILE
from trainer.predictions import predict_test_split


@dataclass
class PublishedModel:
    id: str
    title: str
    family: str
    variant: str
    test_accuracy: float | None
    macro_f1: float | None
    difficulty: str | None
    onnx_bytes: int
    onnx_sha256: str
    path: str
    predictions: str
    kept: bool = False  # found in the destination, unknown to the registry: ranked, not copied
    at_chance: bool = False  # published although at chance (allow_chance)


@dataclass
class RefusedModel:
    """A chosen model that was not published, and why (the chance test's verdict with its numbers)."""

    id: str
    reason: str


@dataclass
class TierTest:
    """Whether two adjacent difficulty tiers differ: the strongest model of the lower tier against the weakest of
    the upper one (`classifiers.difficulty.tier_boundaries`), paired image by image on the pack's test split.

    Attributes:
        b: test images only the upper model got right; c: only the lower model got right.
        p_value: the two-sided exact McNemar test on b and c (`classifiers.stats.mcnemar_exact`).
        significant: p_value < 0.05; when false, the game's two tiers are one level of play in truth.
    """

    lower_tier: str
    upper_tier: str
    lower_model: str
    upper_model: str
    lower_accuracy: float
    upper_accuracy: float
    n_images: int
    b: int
    c: int
    p_value: float
    significant: bool


@dataclass
class PublishReport:
    pack_id: str
    pack_title: str
    destination: str
    published: str
    ranked_images: int
    models: list[PublishedModel] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    ranked_labels: str | None = None
    refused: list[RefusedModel] = field(default_factory=list)
    not_chosen: list[str] = field(default_factory=list)  # active models of the pack left out by `models`
    tier_tests: list[TierTest] = field(default_factory=list)

    def to_json_obj(self) -> dict[str, Any]:
        return asdict(self)


def publish(
    registry: ModelRegistry,
    pack: Pack,
    destination: str | Path,
    *,
    models_dir: str | Path | None = None,
    models: Collection[str] | None = None,
    allow_chance: bool = False,
) -> Generator[Progress, None, PublishReport]:
    """Rank, copy and export the pack's chosen active models into destination (see the module docstring).

    Args:
        models_dir: publish the active models of this folder (default: the workspace's models folder, beside
            the registry); models trained elsewhere with `train --models-dir` are not published.
        models: the ids of the active models to publish (default: all of them).
        allow_chance: publish chosen models whose test accuracy is at chance too (otherwise they are refused).

    Raises:
        PackError: the pack has no active model, or none left to publish, or its ranked images are missing.
        ConfigError: `models` names a model that is not an active model of the pack.
        ModelCardError: a model's files no longer match its card.
    """
    destination = Path(destination)
    ranked = [entry.sha256 for entry in pack.splits["ranked"]]
    missing = len(ranked) - len(pack.available("ranked"))
    if missing:
        raise PackError(
            f"Pack '{pack.id}' at {pack.root} lacks {missing} of its {len(ranked)} ranked images, which "
            "the prediction tables need. Publish from the full pack the models were trained on."
        )
    records = registry.active(pack.id, models_dir or registry.path.parent / "models")
    if not records:
        raise PackError(
            f"No trained model of pack '{pack.id}' in the registry {registry.path}. Train some with "
            f"`eyevsai-train pipeline --packs {pack.id}` first."
        )
    report = PublishReport(pack.id, pack.title, str(destination), now(), len(ranked))
    cards, report.refused = select_models(records, models, pack.id, allow_chance=allow_chance)
    refused = {model.id for model in report.refused}
    report.not_chosen = [record.id for record in records if record.id not in cards and record.id not in refused]
    left_out = {record.id for record in records} - set(cards)
    report.removed, kept = _sort_out_destination(destination, pack.id, set(cards), registry, left_out)
    levels = rank_cards([*cards.values(), *kept.values()])  # the workspace and the destination agree with the game
    registry.set_difficulties({model_id: levels[model_id] for model_id in cards})
    tables_dir = destination / "predictions" / pack.id
    every = sorted(
        [(m, p, c, False) for m, (p, c) in cards.items()] + [(m, p, c, True) for m, (p, c) in kept.items()],
        key=lambda item: item[0],
    )
    placed: list[tuple[Path, ModelCard]] = []
    for index, (model_id, path, card, is_kept) in enumerate(every):
        yield Progress("publish", index, len(every), f"{'ranking' if is_kept else 'copying'} {model_id}")
        target = path if is_kept else _copy_model(path, card, destination / "models")
        placed.append((target, card))
        table = yield from compute_prediction_table(target, card, pack, ranked)
        table_path = tables_dir / f"{model_id}.json"
        _write_text(table_path, table.to_json())
        report.models.append(
            PublishedModel(
                card.id,
                card.title,
                card.family,
                card.variant,
                card.test_accuracy,
                card.metrics.get("macro_f1"),
                card.difficulty,
                (target / ONNX_FILE).stat().st_size,
                card.onnx_sha256,
                str(target),
                str(table_path),
                is_kept,
                is_at_chance(card.metrics),
            )
        )
    yield Progress("publish", len(every), len(every), f"published {len(every)} model(s)")
    report.tier_tests = yield from tier_tests(placed, levels, pack)
    labels = pack.root / RANKED_LABELS_FILE
    if labels.is_file():
        tables_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(labels, tables_dir / RANKED_LABELS_FILE)
        report.ranked_labels = str(tables_dir / RANKED_LABELS_FILE)
    # strongest first, in the order terciles rank them (accuracy, then id)
    report.models.sort(key=lambda m: (m.test_accuracy or 0.0, m.id), reverse=True)
    _write_json(destination / "reports" / f"{pack.id}.json", report.to_json_obj())
    (destination / "reports" / f"{pack.id}.txt").write_text(render_text(report), encoding="utf-8")
    return report


def select_models(
    records: list[ModelRecord], models: Collection[str] | None, pack_id: str, *, allow_chance: bool
) -> tuple[dict[str, tuple[Path, ModelCard]], list[RefusedModel]]:
    """The chosen models to publish (id → (folder, card)), and those refused at chance (unless allow_chance).

    Raises:
        ConfigError: `models` names a model that is not one of the records.
        PackError: nothing is left to publish (naming the refused models and why).
    """
    chosen = choose_models(records, models, pack_id)
    cards = {record.id: (Path(record.model_dir or ""), read_card(record.model_dir or "")) for record in chosen}
    refused = [] if allow_chance else refuse_at_chance(cards)
    for model in refused:
        del cards[model.id]
    if not cards:
        reasons = "; ".join(f"{r.id} is {r.reason}" for r in refused)
        raise PackError(
            f"Nothing of pack '{pack_id}' to publish: {reasons}. Train better models, or pass --allow-chance to "
            "publish them anyway."
        )
    return cards, refused


def choose_models(records: list[ModelRecord], models: Collection[str] | None, pack_id: str) -> list[ModelRecord]:
    """The records `models` names (all of them when None), in the registry's order.

    Raises:
        ConfigError: an id that is not one of the records (listing those that are).
    """
    if models is None:
        return records
    known = {record.id for record in records}
    unknown = [model_id for model_id in models if model_id not in known]
    if unknown:
        raise ConfigError(
            f"--models {','.join(unknown)}: not an active model of pack '{pack_id}'; choose from {', '.join(known)}."
        )
    return [record for record in records if record.id in set(models)]


def refuse_at_chance(cards: dict[str, tuple[Path, ModelCard]]) -> list[RefusedModel]:
    """The models whose test accuracy is at chance, each with the chance test's verdict."""
    refused = []
    for model_id, (_, card) in cards.items():
        check = chance_of_metrics(card.metrics)
        if check is not None and check.is_at_chance:
            refused.append(RefusedModel(model_id, check.describe()))
    return refused


def _sort_out_destination(
    destination: Path, pack_id: str, active: set[str], registry: ModelRegistry, left_out: set[str]
) -> tuple[list[str], dict[str, tuple[Path, ModelCard]]]:
    """Remove the pack's models in destination that the registry says no longer play (superseded, failed,
    missing) or that this publish leaves out (not chosen, or refused at chance), with their tables; keep the
    others (trained elsewhere, or done in another models folder such as `train --models-dir assets/models` makes)
    to be ranked with the rest.

    Returns: (removed ids, kept id → (folder, card)).
    """
    removed, kept = [], {}
    found, _problems = discover_models(destination / "models")
    for path, card in found:
        if card.pack_id != pack_id or card.id in active:
            continue
        record = registry.find(card.id)
        if card.id not in left_out and (record is None or record.status == DONE):
            kept[card.id] = (path, card)
            continue
        shutil.rmtree(path)
        (destination / "predictions" / pack_id / f"{card.id}.json").unlink(missing_ok=True)
        removed.append(card.id)
    return removed, kept


def _copy_model(source: Path, card: ModelCard, models_dir: Path) -> Path:
    """Copy the ONNX file and the card into models_dir/<id>, replacing an earlier copy in one rename."""
    target = models_dir / card.id
    staging = models_dir / f"{card.id}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(source / ONNX_FILE, staging / ONNX_FILE)
    write_card(card, staging)
    read_card(staging)  # the copy matches its card
    if target.exists():
        shutil.rmtree(target)
    staging.replace(target)
    return target


def _write_text(path: Path, text: str) -> None:
    """Write a file in one rename: a reader (the server's import) never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _write_json(path: Path, obj: Any) -> None:
    _write_text(path, json.dumps(obj, indent=1, ensure_ascii=False) + "\n")


def report_rows(report: PublishReport) -> list[list[str]]:
    return [
        [
            m.id + (" (kept)" if m.kept else ""),
            f"{family_label(m.family)}/{m.variant}",
            "-" if m.test_accuracy is None else f"{m.test_accuracy:.1%}" + (" at chance" if m.at_chance else ""),
            "-" if m.macro_f1 is None else f"{m.macro_f1:.3f}",
            m.difficulty or "-",
            _size(m.onnx_bytes),
        ]
        for m in report.models
    ]


REPORT_COLUMNS = ["model", "family/variant", "test acc.", "macro F1", "difficulty", "ONNX size"]


def tier_tests(
    models: list[tuple[Path, ModelCard]], levels: dict[str, str], pack: Pack
) -> Generator[Progress, None, list[TierTest]]:
    """Test each pair of adjacent tiers (see `TierTest`) on the test images of the pack that are present.

    A card keeps the confusion matrix, not which images each model got right, and McNemar's test needs exactly
    that pairing: so the boundary models run on the test split here (onnxruntime on the CPU, fast).

    Args:
        models: (folder, card) of every model of the pack that is published.
        levels: model id -> difficulty, as ranked for this publish.
    """
    folders = {card.id: path for path, card in models}
    correct: dict[str, dict[str, bool]] = {}  # model id -> image sha256 -> right or wrong
    tests: list[TierTest] = []
    for lower, upper in tier_boundaries([card for _, card in models], levels):
        for card in (lower, upper):
            if card.id not in correct:
                yield Progress("publish", 0, 1, f"testing tiers: {card.id} on the test split")
                predictions = yield from predict_test_split(folders[card.id], pack)
                correct[card.id] = {p.sha256: p.is_correct for p in predictions.items}
        shared = sorted(correct[lower.id].keys() & correct[upper.id].keys())
        if not shared:
            continue
        upper_right = [correct[upper.id][sha] for sha in shared]
        lower_right = [correct[lower.id][sha] for sha in shared]
        b, c = discordant_counts(upper_right, lower_right)
        p_value = mcnemar_exact(b, c)
        tests.append(
            TierTest(
                levels[lower.id],
                levels[upper.id],
                lower.id,
                upper.id,
                sum(lower_right) / len(shared),
                sum(upper_right) / len(shared),
                len(shared),
                b,
                c,
                p_value,
                p_value < SIGNIFICANCE,
            )
        )
    return tests


def tier_lines(report: PublishReport) -> list[tuple[str, bool]]:
    """The report's tier section as (line, is_warning) pairs (see `tier_test_lines`)."""
    return tier_test_lines(report.tier_tests, len(report.models))


def tier_test_lines(tier_tests: list[TierTest], n_models: int) -> list[tuple[str, bool]]:
    """Tier tests as (line, is_warning) pairs: one line per adjacent pair of tiers, and a warning for each pair
    that does not differ significantly."""
    if n_models < 2:
        return []
    if not tier_tests:
        return [("Tiers not tested: the pack has no test images here to compare the models on.", True)]
    lines = [
        (
            "Adjacent tiers on the test split (exact McNemar test; b: images only the stronger model got right, "
            "c: only the weaker):",
            False,
        )
    ]
    for t in tier_tests:
        lines.append(
            (
                f"  {t.lower_tier} -> {t.upper_tier}: {t.lower_model} {t.lower_accuracy:.1%} vs {t.upper_model} "
                f"{t.upper_accuracy:.1%} on {t.n_images} images, b={t.b} c={t.c}, p={t.p_value:.3g}",
                False,
            )
        )
    for t in tier_tests:
        if not t.significant:
            lines.append(
                (
                    f"{t.lower_tier} and {t.upper_tier} do not differ significantly on the test split "
                    f"(p={t.p_value:.2g} >= {SIGNIFICANCE}): players meet the same strength under two names. "
                    "Train models further apart, or evaluate on more test images.",
                    True,
                )
            )
    return lines


def render_text(report: PublishReport) -> str:
    """The report as a plain-text table (what `publish` prints), for reading without tools."""

    buffer = io.StringIO()
    console = Console(file=buffer, width=120, color_system=None, highlight=False)
    table = Table(
        title=f"{report.pack_title} ({report.pack_id}): {len(report.models)} model(s), published "
        f"{report.published}; predictions on {report.ranked_images} ranked images"
    )
    for column in REPORT_COLUMNS:
        table.add_column(column)
    for row in report_rows(report):
        table.add_row(*row)
    console.print(table)
    for line in refusal_lines(report):
        console.print(line)
    for line, is_warning in tier_lines(report):
        console.print(f"warning: {line}" if is_warning else line)
    return buffer.getvalue()


def refusal_lines(report: PublishReport) -> list[str]:
    """One line per chosen model that was not published, naming it and why."""
    return [f"not published: {r.id} is {r.reason}; publish it anyway with --allow-chance" for r in report.refused]


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.0f} kB"
