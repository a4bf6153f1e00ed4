"""`eyevsai-train list`, `eyevsai-train install FAMILY` and `eyevsai-train evaluate`."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from classifiers.chance import is_at_chance
from classifiers.errors import EyeVsAIError
from classifiers.registry import family_label, get_family, list_families
from trainer.commands.context import EXIT_FAILED, state_of
from trainer.extras import extra_requirements, find_constraints, pip_command
from trainer.usecases import TrainerUseCases


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
    app.command("install")(install_command)
    app.command("evaluate")(evaluate_command)


def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List classifier families and whether their framework is installed.

    Example: eyevsai-train list
    """
    output = state_of(ctx).output
    rows = []
    for info in list_families():
        missing = info.missing_modules()
        rows.append(
            {
                "family": info.name,
                "variants": list(info.variants),
                "available": not missing,
                "extra": info.extra,
                "missing": missing,
                "title": info.title,
                "install": None if not missing else f"eyevsai-train install {family_label(info.name)}",
            }
        )
    if as_json:
        output.emit_json(rows)
        return
    output.table(
        "Classifier families",
        ["family", "variants", "extra", "status", "description"],
        [
            [
                family_label(r["family"]),
                ", ".join(r["variants"]),
                r["extra"],
                "[green]available[/]"
                if r["available"]
                else f"[yellow]missing {', '.join(r['missing'])}[/]: {r['install']}",
                r["title"],
            ]
            for r in rows
        ],
    )


def install_command(
    ctx: typer.Context,
    family: Annotated[str, typer.Argument(help="Family name (see `eyevsai-train list`).")],
    constraints: Annotated[
        Path | None,
        typer.Option(
            help="pip constraints file (default: $EYEVSAI_CONSTRAINTS, "
            "else the project's constraints.txt when there is one)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Install even when the family is already available.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Let pip resolve and report, installing nothing.")] = False,
) -> None:
    """Install a family's pip extra into this environment (pinned by the constraints file).

    Example: eyevsai-train install deep-v1
    """
    output = state_of(ctx).output
    info = get_family(family)
    if info.is_available and not force:
        output.info(f"Family {family_label(info.name)} is already available (extra '{info.extra}' installed).")
        return
    pins = find_constraints(constraints)
    if pins is None:
        output.warn(
            "no constraints file found: pip picks the newest versions; pass --constraints constraints.txt "
            "from the EyeVsAI sources to get the tested ones"
        )
    command = pip_command(extra_requirements(info.extra), pins, dry_run=dry_run)
    output.info("running: " + " ".join(command))
    try:
        code = subprocess.call(command)
    except OSError as exc:
        raise EyeVsAIError(f"Could not run pip ({exc}). Install pip into this environment first.") from exc
    if code != 0:
        output.error(f"pip failed with exit code {code}; nothing was changed for family {family_label(info.name)}.")
        raise typer.Exit(EXIT_FAILED)
    if not dry_run:
        importlib.invalidate_caches()  # the new packages' folders appeared after this process started
        if info.missing_modules():
            output.warn(f"pip finished, but {', '.join(info.missing_modules())} still cannot be imported")
        else:
            output.info(f"Family {family_label(info.name)} is available.")


def evaluate_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model id (workspace or bundled) or model folder.")],
    pack: Annotated[str | None, typer.Option(help="Pack id or folder (default: the model's own pack).")] = None,
    split: Annotated[
        str,
        typer.Option(
            help="test, ranked (needs the built pack's ranked labels) or test+ranked (with the official split: "
            "the dataset's whole test set)."
        ),
    ] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Measure a model's accuracy on a pack's test split (or --split) through onnxruntime.

    Example: eyevsai-train evaluate fashion-mnist-deep-v1 --split test+ranked
    """
    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    evaluation = output.drive(TrainerUseCases(state.workspace).evaluate(model, pack, split))
    metrics = evaluation.metrics
    result = {
        "model": evaluation.model_id,
        "pack": evaluation.pack_id,
        "split": split,
        "provider": evaluation.provider,
        **metrics,
    }
    result["at_chance"] = is_at_chance(metrics)
    if as_json:
        output.emit_json(result)
        return
    where = f"{split} split, {metrics['n_test']} images, {evaluation.provider}"
    output.table(
        f"{evaluation.model_id} on {evaluation.pack_id} ({where})",
        ["class", "accuracy"],
        [[label, f"{acc:.1%}"] for label, acc in metrics["per_class"].items()],
    )
    output.out.print(f"test accuracy [bold]{metrics['test_accuracy']:.1%}[/]   macro F1 {metrics['macro_f1']:.3f}")
    output.flag_chance(evaluation.model_id, metrics)
