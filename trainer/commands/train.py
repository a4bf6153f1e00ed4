"""`eyevsai-train train FAMILY`: one subcommand per family, each with its own hyperparameters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from classifiers.errors import ConfigError
from classifiers.registry import get_family
from trainer.model_registry import record_training
from trainer.training import default_model_id, train_model

app = typer.Typer(help="Train one model on a pack and export it to ONNX with its model card.", no_args_is_help=True)

PackOpt = Annotated[str, typer.Option("--pack", help="Pack id (in the workspace or bundled) or pack folder.")]
IdOpt = Annotated[str | None, typer.Option("--id", help="Model id (default: <pack>-<family>-<variant>-<time>).")]
TitleOpt = Annotated[str | None, typer.Option(help="Human-readable model title.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
OutOpt = Annotated[
    Path | None, typer.Option("--models-dir", help="Where to write the model folder (default: the workspace's models).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the resulting card as JSON.")]
ReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--replace", help="Overwrite the model folder if --id names one that exists (otherwise that is refused)."
    ),
]


def run_training(
    ctx: typer.Context,
    family: str,
    variant: str | None,
    pack: str,
    params: dict[str, Any],
    model_id: str | None,
    title: str | None,
    as_json: bool,
    models_dir: Path | None = None,
    *,
    replace: bool = False,
) -> None:
    """Shared by every family's command: train (recorded in the workspace's model registry), then print a summary.

    A family's train command (e.g. `train transfer`) calls this, or wraps its own `train_model` generator in
    `trainer.model_registry.record_training`, so that every model it makes is in the registry.
    """
    from trainer.cli import state_of

    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    target = state.workspace.find_pack(pack)
    destination = models_dir or state.workspace.models_dir
    info = get_family(family)
    variant = variant or info.variants[0]
    model_id = model_id or default_model_id(target.id, info.name, variant)
    if not replace:
        refuse_to_overwrite(destination / model_id)
    work = train_model(family, target, destination, variant=variant, params=params, model_id=model_id, title=title)
    registry = state.workspace.registry()
    try:
        result = output.drive(
            record_training(
                registry,
                work,
                model_id=model_id,
                family=info.name,
                variant=variant,
                pack_id=target.id,
                models_dir=destination,
                config={"params": params},
            )
        )
    finally:
        registry.close()
    card = result.card
    if as_json:
        output.emit_json({"model_dir": str(result.model_dir), **card.to_json_obj()})
        return
    output.table(
        f"Model {card.id}",
        ["field", "value"],
        [
            ["family / variant", f"{card.family} / {card.variant}"],
            ["pack", card.pack_id],
            ["test accuracy", f"{card.metrics['test_accuracy']:.1%} on {card.metrics['n_test']} images"],
            ["macro F1", f"{card.metrics['macro_f1']:.3f}"],
            ["difficulty", card.difficulty or "-"],
            ["ONNX parity", f"max abs diff {result.parity.max_abs_diff:.1e} on {result.parity.n_images} images"],
            ["time", f"{result.seconds:.1f} s"],
            ["saved to", str(result.model_dir)],
        ],
    )


def refuse_to_overwrite(model_dir: Path) -> None:
    """Training to the folder of an existing model would delete it: say so before any work is done."""
    if model_dir.exists():
        raise ConfigError(
            f"A model already exists in {model_dir}. Choose another --id, or pass --replace to overwrite it."
        )


@app.command("shallow")
def shallow(
    ctx: typer.Context,
    pack: PackOpt,
    algorithm: Annotated[str, typer.Option(help="svm | rf | logreg")] = "svm",
    feature_size: Annotated[int, typer.Option(help="Images are resized to this square size before features.")] = 64,
    pca: Annotated[int | None, typer.Option(help="Keep this many PCA components (default: no PCA).")] = None,
    select_k: Annotated[int | None, typer.Option(help="Keep the k best features by ANOVA F.")] = None,
    c: Annotated[float, typer.Option("--C", help="Inverse regularisation (svm, logreg).")] = 1.0,
    n_estimators: Annotated[int, typer.Option(help="Trees (rf).")] = 200,
    max_depth: Annotated[int | None, typer.Option(help="Tree depth limit (rf).")] = 16,
    seed: SeedOpt = 0,
    model_id: IdOpt = None,
    title: TitleOpt = None,
    models_dir: OutOpt = None,
    replace: ReplaceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Hand-crafted features (HOG, LBP, colour, Gabor) + SVM / RandomForest / LogisticRegression.

    Example: eyevsai-train train shallow --pack fashion-mnist --algorithm rf --n-estimators 300
    """
    params = {
        "feature_size": feature_size,
        "pca_components": pca,
        "select_k": select_k,
        "C": c,
        "n_estimators": n_estimators,
        "max_depth": max_depth,
        "seed": seed,
    }
    run_training(ctx, "shallow", algorithm, pack, params, model_id, title, as_json, models_dir, replace=replace)
