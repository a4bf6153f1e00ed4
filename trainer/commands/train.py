"""`eyevsai-train train FAMILY`: one subcommand per family, each with its own hyperparameters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trainer.commands.context import state_of
from trainer.usecases import TrainerUseCases

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
    """Shared by every family's command: train (recorded in the workspace's model registry), then print a summary."""
    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    usecases = TrainerUseCases(state.workspace)
    work = usecases.train(
        family,
        variant,
        usecases.find_pack(pack),
        params,
        model_id=model_id,
        title=title,
        models_dir=models_dir,
        replace=replace,
    )
    result = output.drive(work)
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
