"""`eyevsai-train publish --pack ID`: rank a pack's models, write the game's models folder, report, predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainer.commands.context import state_of
from trainer.publish import REPORT_COLUMNS, refusal_lines, report_rows, tier_lines
from trainer.usecases import TrainerUseCases


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_command)


def publish_command(
    ctx: typer.Context,
    pack: Annotated[
        str, typer.Option("--pack", help="Pack id (a full pack of the workspace: its ranked images are needed).")
    ],
    to: Annotated[
        Path | None,
        typer.Option(help="Destination folder (default: <workspace>/published); e.g. `assets` for the bundled models."),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            help="Publish only these active models of the pack: ID[,ID...], or the option repeated (default: all).",
        ),
    ] = None,
    allow_chance: Annotated[
        bool,
        typer.Option("--allow-chance", help="Publish models whose test accuracy is at chance too (refused otherwise)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
) -> None:
    """Assign easy/medium/hard by test-accuracy terciles and publish the pack's active models.

    Writes DIR/models/<id> (ONNX + card), DIR/reports/<pack>.json and .txt, and each model's prediction table on
    the pack's ranked split in DIR/predictions/<pack>/ (with ranked_labels.json) for `eyevsai-server
    import-pack`. Models of the pack already in DIR/models that are not active any more, or not chosen, are
    removed. A model whose test accuracy is at chance is not published unless --allow-chance.

    Example: eyevsai-train publish --pack fashion-mnist --to assets --models fashion-mnist-deep-v1
    """
    state = state_of(ctx)
    output, workspace = state.output, state.workspace
    output.as_json = as_json
    destination = to or workspace.root / "published"
    usecases = TrainerUseCases(workspace)
    target = usecases.find_pack(pack)
    for change in usecases.reconcile():
        output.info(f"registry: {change}")
    chosen = [model_id.strip() for item in models or [] for model_id in item.split(",") if model_id.strip()]
    work = usecases.publish(
        target.id, destination, with_game_pack=False, models=chosen or None, allow_chance=allow_chance
    )
    report = output.drive(work)
    if as_json:
        output.emit_json(report.to_json_obj())
        return
    for model_id in report.removed:
        output.warn(f"removed {model_id} from {destination / 'models'} (not an active model of {target.id} chosen)")
    for line in refusal_lines(report):
        output.warn(line)
    output.table(
        f"Published {len(report.models)} model(s) of {target.id} to {destination}", REPORT_COLUMNS, report_rows(report)
    )
    for line, is_warning in tier_lines(report):
        (output.warn if is_warning else output.info)(line)
    output.info(f"report: {destination / 'reports' / f'{target.id}.json'} (and .txt)")
    tables = destination / "predictions" / target.id
    output.info(f"prediction tables on {report.ranked_images} ranked images: {tables}")
    if report.ranked_labels:
        models = " ".join(f"-m {m.path}" for m in report.models)  # the server runs the models itself
        output.info(f"server import: eyevsai-server import-pack {target.root} --labels {report.ranked_labels} {models}")
