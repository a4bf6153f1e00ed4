"""`eyevsai-train models list|show|remove|cleanup`: the workspace's model registry."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from classifiers.card import discover_models, read_card
from classifiers.chance import is_at_chance
from classifiers.errors import ConfigError, ModelCardError
from classifiers.locations import bundled_assets_dir
from classifiers.registry import family_label
from trainer.commands.context import State, state_of
from trainer.model_registry import DONE, REMOVABLE, STATUSES, ModelRecord, ModelRegistry, iter_stale_partials
from trainer.pipeline.lock import workspace_lock
from trainer.publish import tier_test_lines
from trainer.usecases import TrainerUseCases
from trainer.workspace import Workspace

app = typer.Typer(
    help="The model registry: every model trained in the workspace, with its status.\n\n"
    "Without a subcommand, lists the models like `models list`.\n\n"
    "Example: eyevsai-train models list --pack fashion-mnist --all"
)

PackOpt = Annotated[str | None, typer.Option(help="Only models of this pack id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
BundledOpt = Annotated[bool, typer.Option(help="Also list the models bundled with the game.")]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Every run of the registry (failed, interrupted, superseded, "
        "trained into other folders with --models-dir), not only the "
        "workspace's active models.",
    ),
]


def _start(ctx: typer.Context, as_json: bool) -> tuple[State, TrainerUseCases]:
    state = state_of(ctx)
    state.output.as_json = as_json
    return state, TrainerUseCases(state.workspace)


def _report_changes(state: State, changes: list[str]) -> None:
    for change in changes:
        state.output.info(f"registry: {change}")


@app.callback(invoke_without_command=True)
def models_root(
    ctx: typer.Context,
    pack: PackOpt = None,
    bundled: BundledOpt = True,
    all_runs: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    if ctx.invoked_subcommand is None:
        list_models(ctx, pack, bundled, all_runs, None, as_json)


@app.command("list")
def list_models(
    ctx: typer.Context,
    pack: PackOpt = None,
    bundled: BundledOpt = True,
    all_runs: AllOpt = False,
    status: Annotated[str | None, typer.Option(help=f"Only runs with this status ({', '.join(STATUSES)}).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the registry's models (workspace first, then bundled) with accuracy, difficulty and status.

    Example: eyevsai-train models list --pack fashion-mnist
    """
    if status is not None and status not in STATUSES:
        raise ConfigError(f"Unknown status {status!r}; choose one of {', '.join(STATUSES)}.")
    state, usecases = _start(ctx, as_json)
    statuses = (status,) if status else (None if all_runs else (DONE,))
    records, changes = usecases.model_records(pack_id=pack, statuses=statuses)
    _report_changes(state, changes)
    if not (all_runs or status):  # what plays: the workspace's folder, not models made with --models-dir
        folder = state.workspace.models_dir.resolve()
        records = [r for r in records if r.model_dir and Path(r.model_dir).resolve().parent == folder]
    rows = [_row(record) for record in records]
    if bundled and status in (None, "bundled"):
        known = {row["id"] for row in rows}
        found, problems = discover_models(bundled_assets_dir() / "models")
        for problem in problems:
            state.output.warn(problem)
        rows += [
            {
                "id": card.id,
                "pack": card.pack_id,
                "family": card.family,
                "variant": card.variant,
                "version": None,
                "status": "bundled",
                "tuned": bool(card.training.get("tuning")),
                "test_accuracy": card.test_accuracy,
                "at_chance": is_at_chance(card.metrics),
                "difficulty": card.difficulty,
                "onnx_bytes": None,
                "created": card.created,
                "path": str(path),
            }
            for path, card in found
            if (pack is None or card.pack_id == pack) and card.id not in known
        ]
    if as_json:
        state.output.emit_json(rows)
        return
    state.output.table(
        f"Models ({len(rows)})",
        ["id", "pack", "family", "v.", "status", "test acc.", "difficulty", "folder"],
        [
            [
                r["id"],
                r["pack"],
                f"{family_label(r['family'])}/{r['variant']}" + (" (tuned)" if r["tuned"] else ""),
                r["version"] or "-",
                r["status"],
                "-"
                if r["test_accuracy"] is None
                else f"{r['test_accuracy']:.1%}" + (" at chance" if r["at_chance"] else ""),
                r["difficulty"] or "-",
                r["path"],
            ]
            for r in rows
        ],
    )


def _row(record: ModelRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "pack": record.pack_id,
        "family": record.family,
        "variant": record.variant,
        "version": record.version,
        "status": record.status,
        "tuned": record.tuned,
        "test_accuracy": record.test_accuracy,
        "at_chance": record.test_accuracy is not None and is_at_chance(record.metrics),
        "difficulty": record.difficulty,
        "onnx_bytes": record.onnx_bytes,
        "created": record.created,
        "path": record.model_dir,
    }


@app.command("show")
def show_model(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model id (see `eyevsai-train models list --all`).")],
    as_json: JsonOpt = False,
) -> None:
    """Everything the registry and the model card know about one model.

    Example: eyevsai-train models show fashion-mnist-shallow-svm-20261101120000
    """
    state, usecases = _start(ctx, as_json)
    record, changes = usecases.model_record(model)
    _report_changes(state, changes)
    card = None
    if record.model_dir and Path(record.model_dir).is_dir():
        try:
            card = read_card(record.model_dir, check_onnx=False)
        except ModelCardError as exc:
            state.output.warn(str(exc))
    if as_json:
        state.output.emit_json(
            {
                **record.as_dict(),
                "metrics": record.metrics,
                "config": record.config,
                "card": card.to_json_obj() if card else None,
            }
        )
        return
    metrics = record.metrics or (card.metrics if card else {})
    rows = [
        ["family / variant", f"{family_label(record.family)} / {record.variant}"],
        ["pack", record.pack_id],
        ["version", record.version],
        ["status", record.status + (f": {record.error}" if record.error else "")],
        ["tuned", "yes" if record.tuned else "no"],
        ["created / finished", f"{record.created} / {record.finished or '-'}"],
        ["training time", "-" if record.seconds is None else f"{record.seconds:.1f} s"],
        ["test accuracy", "-" if record.test_accuracy is None else f"{record.test_accuracy:.2%}"],
        ["macro F1", metrics.get("macro_f1", "-")],
        ["difficulty", record.difficulty or "-"],
        ["ONNX", f"{record.onnx_path or '-'} ({record.onnx_bytes or 0:,} bytes)"],
        ["ONNX sha256", record.onnx_sha256 or "-"],
        ["log", record.log_path or "-"],
        ["checkpoint", record.checkpoint or "-"],
        ["parameters", json.dumps((record.config or {}).get("params", {}), default=str)],
    ]
    if (record.config or {}).get("tuning"):
        rows.append(["tuning", json.dumps(record.config["tuning"], default=str)])
    state.output.table(f"Model {record.id}", ["field", "value"], rows)
    if record.test_accuracy is not None:
        state.output.flag_chance(record.id, metrics)
    if metrics.get("per_class"):
        state.output.table(
            "Per-class test accuracy",
            ["class", "accuracy"],
            [[label, f"{value:.1%}"] for label, value in metrics["per_class"].items()],
        )


@app.command("tiers")
def test_tiers(
    ctx: typer.Context,
    pack: Annotated[str, typer.Option(help="Pack id (a full pack: its test split is where the tiers are tested).")],
    models_dir: Annotated[
        Path | None, typer.Option(help="Folder of the models (default: the workspace's models).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-rank the difficulties of a pack's models in a folder and test adjacent tiers (exact McNemar test).

    Example: eyevsai-train models tiers --pack fashion-mnist --models-dir assets/models
    """
    state, usecases = _start(ctx, as_json)
    folder = models_dir or state.workspace.models_dir
    levels, tests = state.output.drive(usecases.test_tiers(pack, folder))
    if as_json:
        state.output.emit_json({"levels": levels, "tier_tests": [asdict(t) for t in tests]})
        return
    state.output.table(
        f"Difficulties of pack {pack} in {folder}",
        ["model", "difficulty"],
        [list(item) for item in sorted(levels.items())],
    )
    for line, is_warning in tier_test_lines(tests, len(levels)):
        if is_warning:
            state.output.warn(line)
        else:
            state.output.info(line)


@app.command("remove")
def remove_model(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model id.")],
    as_json: JsonOpt = False,
) -> None:
    """Delete a model's folder, checkpoint and log, and its registry entry; re-rank the pack's difficulties.

    Example: eyevsai-train models remove fashion-mnist-shallow-rf-20261101120000
    """
    state, usecases = _start(ctx, as_json)
    _report_changes(state, usecases.reconcile())
    removed = usecases.remove_model(model)
    if as_json:
        state.output.emit_json({"removed": model, "paths": [str(p) for p in removed]})
        return
    state.output.info(f"removed {model}" + "".join(f"\n  {p}" for p in removed))


@dataclass
class CleanupItem:
    """Something `cleanup` deletes: a registry run and its files, or a stray half-written model folder."""

    reason: str
    model_id: str | None = None
    paths: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        what = self.model_id or (str(self.paths[0]) if self.paths else "?")
        return f"{what} ({self.reason})"

    def as_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "reason": self.reason, "paths": [str(p) for p in self.paths]}


def cleanup_plan(registry: ModelRegistry, workspace: Workspace) -> list[CleanupItem]:
    """Failed, interrupted, superseded and missing runs with their files; stray `*.partial` model folders."""
    items = [
        CleanupItem(record.status + (f": {record.error}" if record.error else ""), record.id, record.files)
        for record in registry.records(statuses=REMOVABLE)
    ]
    items += [
        CleanupItem("half-written model folder", None, [path])
        for path in iter_stale_partials(workspace.models_dir, registry)
        if not any(path in item.paths for item in items)
    ]
    return items


def run_cleanup(registry: ModelRegistry, items: list[CleanupItem]) -> list[CleanupItem]:
    for item in items:
        if item.model_id is not None:
            record = registry.find(item.model_id)
            if record is not None:
                registry.remove(record)
        else:
            for path in item.paths:
                shutil.rmtree(path, ignore_errors=True)
    return items


@app.command("cleanup")
def cleanup_models(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be removed.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove failed, interrupted and superseded runs with their files (model folders, checkpoints, logs).

    Example: eyevsai-train models cleanup --dry-run
    """
    state = state_of(ctx)
    state.output.as_json = as_json
    with workspace_lock(state.workspace.root, what="cleanup"):
        registry = state.workspace.registry()
        try:
            _report_changes(state, registry.reconcile(state.workspace.models_dir))
            items = cleanup_plan(registry, state.workspace)
            freed = sum(_size(p) for item in items for p in item.paths)
            if not dry_run:
                run_cleanup(registry, items)
        finally:
            registry.close()
    if as_json:
        state.output.emit_json({"dry_run": dry_run, "items": [i.as_dict() for i in items], "bytes": freed})
        return
    verb = "Would remove" if dry_run else "Removed"
    state.output.table(
        f"{verb} {len(items)} item(s), {freed / 1e6:.1f} MB",
        ["model / path", "why", "files"],
        [[item.model_id or "-", item.reason, "\n".join(str(p) for p in item.paths) or "-"] for item in items],
    )


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
