"""Admin commands of `eyevsai-server`: importing a pack's ranked labels and its models' prediction tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from classifiers.batch_prediction import compute_prediction_table
from classifiers.card import read_card
from classifiers.pack import open_pack
from classifiers.progress import run_to_end
from sync_server import catalog
from sync_server.db import create_db_engine, migrate, session_factory

_out = Console(stderr=True, highlight=False)


def register(app: typer.Typer, *, settings_of: Callable, fail: Callable[[Exception, bool], typer.Exit]) -> None:
    """Add the admin commands to the server CLI."""

    @app.command("import-pack")
    def import_pack(
        pack_dir: Annotated[
            Path, typer.Argument(help="The pack's directory (holding pack.json and its ranked images).")
        ],
        labels: Annotated[
            Path,
            typer.Option(
                "--labels",
                help="ranked_labels.json (image sha256 → label), "
                "written beside the full pack by `eyevsai-train pack build`.",
            ),
        ],
        model: Annotated[
            list[Path] | None,
            typer.Option(
                "--model",
                "-m",
                help="A model directory (model.json + model.onnx) to play as an AI opponent; repeatable.",
            ),
        ] = None,
        predictions: Annotated[
            list[Path] | None,
            typer.Option(
                "--predictions",
                "-p",
                help="A prediction table "
                "(JSON) for one of the models; models without one are "
                "run here with ONNX Runtime.",
            ),
        ] = None,
        data_dir: Annotated[
            Path | None, typer.Option("--data-dir", help="The server's data directory (SQLite).")
        ] = None,
        traceback: Annotated[bool, typer.Option("--traceback", "-v", help="Show the stack trace of errors.")] = False,
    ) -> None:
        """Make a pack playable in ranked mode: store its ranked labels and each model's predictions.

        Example: eyevsai-server import-pack workspace/packs/fashion-mnist --labels
        workspace/packs/fashion-mnist/ranked_labels.json -m assets/models/fashion-mnist-shallow-svm
        """
        try:
            summary = run_import(settings_of(data_dir), pack_dir, labels, model or [], predictions or [])
        except Exception as exc:
            raise fail(exc, traceback) from None
        _out.print(
            f"Pack '{summary.pack_id}': {summary.images} ranked image(s) playable"
            + (f", {summary.skipped_unlabelled} without a label skipped" if summary.skipped_unlabelled else "")
        )
        for model_id, difficulty in summary.models:
            _out.print(f"  AI opponent {model_id} ({difficulty})")


def run_import(
    settings,
    pack_dir: Path,
    labels_path: Path,
    model_dirs: list[Path],  # noqa: ANN001 - Settings
    table_paths: list[Path],
):  # noqa: ANN201 - catalog.ImportSummary
    """Read the pack, labels, cards and tables, compute missing tables, and import them all in one transaction."""

    pack = open_pack(pack_dir)
    labels = catalog.read_labels(labels_path)
    tables = {table.model_id: table for table in map(catalog.read_prediction_table, table_paths)}
    playable = sorted({e.sha256 for e in pack.splits["ranked"]} & set(labels))
    models = []
    for model_dir in model_dirs:
        card = read_card(model_dir)
        table = tables.pop(card.id, None)
        if table is None:
            _out.print(f"Running {card.id} on {len(playable)} ranked image(s)…")
            table = run_to_end(compute_prediction_table(model_dir, card, pack, playable))
        models.append((card, table))
    if tables:
        raise catalog.CatalogError(
            f"Prediction table(s) for {sorted(tables)} given without the model directory; add --model for each."
        )
    engine = create_db_engine(settings.resolved_database_url())
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            return catalog.import_ranked(session=session, pack=pack, labels=labels, models=models)
    finally:
        engine.dispose()
