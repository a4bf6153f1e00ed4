"""`eyevsai-train list` and `eyevsai-train evaluate`."""

from __future__ import annotations

from typing import Annotated

import typer

from classifiers.card import discover_models
from classifiers.locations import bundled_assets_dir
from classifiers.registry import list_families
from classifiers.runtime import OnnxClassifier
from trainer.training import evaluate_on_test


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
    app.command("models")(models_command)
    app.command("evaluate")(evaluate_command)


def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List classifier families and whether their framework is installed.

    Example: eyevsai-train list
    """
    from trainer.cli import state_of

    output = state_of(ctx).output
    rows = []
    for info in list_families():
        missing = info.missing_modules()
        rows.append({"family": info.name, "variants": list(info.variants), "available": not missing,
                     "extra": info.extra, "missing": missing, "title": info.title})
    if as_json:
        output.emit_json(rows)
        return
    output.table("Classifier families", ["family", "variants", "status", "description"], [
        [r["family"], ", ".join(r["variants"]),
         "[green]available[/]" if r["available"] else f"[yellow]missing {', '.join(r['missing'])}[/] "
         f"(pip install 'eyevsai\\[{r['extra']}]')", r["title"]]
        for r in rows
    ])


def models_command(
    ctx: typer.Context,
    pack: Annotated[str | None, typer.Option(help="Only models of this pack id.")] = None,
    bundled: Annotated[bool, typer.Option(help="Also list the models bundled with the game.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List trained models (workspace first, then bundled) with accuracy and difficulty.

    Example: eyevsai-train models --pack fashion-mnist
    """
    from trainer.cli import state_of

    state = state_of(ctx)
    roots = [state.workspace.models_dir] + ([bundled_assets_dir() / "models"] if bundled else [])
    models, problems = discover_models(*roots)
    for problem in problems:
        state.output.warn(problem)
    rows = [{"id": card.id, "pack": card.pack_id, "family": card.family, "variant": card.variant,
             "test_accuracy": card.test_accuracy, "difficulty": card.difficulty, "path": str(path)}
            for path, card in models if pack is None or card.pack_id == pack]
    if as_json:
        state.output.emit_json(rows)
        return
    state.output.table(f"Models ({len(rows)})", ["id", "pack", "family", "test acc.", "difficulty", "folder"], [
        [r["id"], r["pack"], f"{r['family']}/{r['variant']}",
         "-" if r["test_accuracy"] is None else f"{r['test_accuracy']:.1%}", r["difficulty"] or "-", r["path"]]
        for r in rows
    ])


def evaluate_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model id (workspace or bundled) or model folder.")],
    pack: Annotated[str | None, typer.Option(help="Pack id or folder (default: the model's own pack).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Measure a model's accuracy on a pack's test split through onnxruntime.

    Example: eyevsai-train evaluate fashion-mnist-shallow-svm
    """
    from trainer.cli import state_of

    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    classifier = OnnxClassifier(state.workspace.model_dir(model))
    target = state.workspace.find_pack(pack or classifier.card.pack_id)
    if list(target.classes) != list(classifier.card.classes):
        from classifiers.errors import ModelCardError

        raise ModelCardError(
            f"Model '{classifier.card.id}' predicts {classifier.card.classes} but pack '{target.id}' has classes "
            f"{target.classes}. Evaluate it on the pack it was trained for."
        )
    metrics = output.drive(evaluate_on_test(classifier, target))
    result = {"model": classifier.card.id, "pack": target.id, "provider": classifier.provider, **metrics}
    if as_json:
        output.emit_json(result)
        return
    output.table(f"{classifier.card.id} on {target.id} (test split, {metrics['n_test']} images, "
                 f"{classifier.provider})", ["class", "accuracy"],
                 [[label, f"{acc:.1%}"] for label, acc in metrics["per_class"].items()])
    output.out.print(f"test accuracy [bold]{metrics['test_accuracy']:.1%}[/]   macro F1 {metrics['macro_f1']:.3f}")
