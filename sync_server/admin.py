"""Admin commands of `eyevsai-server`: importing a pack's ranked images and models, publishing packs and models
for download, reviewing held sessions, exporting the open human-label dataset."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.orm import Session

from classifiers.card import ONNX_FILE, read_card
from classifiers.pack import open_pack
from sync_server import catalog, crowd_export, downloads, review
from sync_server.db import create_db_engine, migrate, session_factory, write_session
from sync_server.pack_store import open_store
from sync_server.published_dir import read_publish_dir

_out = Console(stderr=True, highlight=False)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="The server's data directory (SQLite).")]
Traceback = Annotated[bool, typer.Option("--traceback", "-v", help="Show the stack trace of errors.")]


def register(app: typer.Typer, *, settings_of: Callable, fail: Callable[[Exception, bool], typer.Exit]) -> None:
    """Add the admin commands to the server CLI."""

    @app.command("import-pack")
    def import_pack(
        pack_dir: Annotated[Path, typer.Argument(help="The pack's directory (holding pack.json and its images).")],
        labels: Annotated[
            Path | None,
            typer.Option(
                "--labels",
                help="ranked_labels.json (image sha256 → label) of the pack's ranked split, written beside the "
                "full pack by `eyevsai-train pack build`. Not with --pool-split.",
            ),
        ] = None,
        pool_split: Annotated[
            str | None,
            typer.Option(
                "--pool-split",
                help="Draw the ranked set from this labelled split (e.g. train, which the game's pack omits) "
                "instead of the ranked split: which images are ranked is then secret.",
            ),
        ] = None,
        ranked_size: Annotated[
            int, typer.Option("--ranked-size", min=1, help="Images drawn with --pool-split.")
        ] = 1000,
        secret_seed: Annotated[
            str | None,
            typer.Option("--secret-seed", help="Hex seed of the --pool-split draw (default: a random one, not kept)."),
        ] = None,
        model: Annotated[
            list[Path] | None,
            typer.Option(
                "--model",
                "-m",
                help="A model directory (model.json + model.onnx) to play as an AI opponent; repeatable.",
            ),
        ] = None,
        data_dir: DataDir = None,
        traceback: Traceback = False,
    ) -> None:
        """Make a pack playable in ranked mode: store its ranked images with their labels, and the AI opponents.

        Example: eyevsai-server import-pack workspace/packs/fashion-mnist --pool-split train --ranked-size 1000
        --secret-seed $(python -c 'import secrets; print(secrets.token_hex(32))') -m assets/models/fashion-mnist-deep-v1
        """
        try:
            if (labels is None) == (pool_split is None):
                raise catalog.CatalogError("Give exactly one of --labels (the ranked split) and --pool-split.")
            summary = run_import(
                settings_of(data_dir), pack_dir, labels, model or [], pool=(pool_split, ranked_size, secret_seed)
            )
        except Exception as exc:
            raise fail(exc, traceback) from None
        _out.print(
            f"Pack '{summary.pack_id}': {summary.images} ranked image(s) playable"
            + (f", {summary.skipped_unlabelled} without a label skipped" if summary.skipped_unlabelled else "")
        )
        for model_id, difficulty in summary.models:
            _out.print(f"  AI opponent {model_id} ({difficulty})")

    @app.command("publish-pack")
    def publish_pack(
        directory: Annotated[
            Path, typer.Argument(help="The output of `eyevsai-train publish` (packs/, models/, reports/).")
        ],
        data_dir: DataDir = None,
        traceback: Traceback = False,
    ) -> None:
        """Offer a published pack and its models for download ("Get more packs" in the game).

        Every image must be named by its SHA-256 and every model card must match its ONNX file; a bad directory is
        refused as a whole (exit 2). Publishing again replaces the pack's entry; stored files are kept.

        Example: eyevsai-train publish fashion-mnist out/ && eyevsai-server publish-pack out/
        """
        try:
            summaries = run_publish(settings_of(data_dir), directory)
        except Exception as exc:
            raise fail(exc, traceback) from None
        for summary in summaries:
            _out.print(
                f"Pack '{summary.pack_id}' ({summary.title}): {summary.files} file(s), "
                f"{summary.size_bytes / 1e6:.1f} MB, downloadable"
            )
            for model_id, difficulty in summary.models:
                _out.print(f"  model {model_id} ({difficulty or 'no difficulty'})")

    review_app = typer.Typer(help="Held ranked sessions: list, show, approve (onto the boards), reject.")
    app.add_typer(review_app, name="review")
    _register_review(review_app, settings_of=settings_of, fail=fail)
    _register_export(app, settings_of=settings_of, fail=fail)


def run_import(
    settings,  # noqa: ANN001 - Settings
    pack_dir: Path,
    labels_path: Path | None,
    model_dirs: list[Path],
    *,
    pool: tuple[str | None, int, str | None] = (None, 0, None),
) -> catalog.ImportSummary:
    """Read the pack, its ranked set and the models, and import them all in one transaction."""
    pack = open_pack(pack_dir)
    split, size, seed = pool
    skipped = 0
    if split is not None:
        chosen = catalog.pool_selection(pack, split, size, seed or secrets.token_hex(32))
    else:
        given = catalog.read_labels(labels_path) if labels_path else {}
        ranked = sorted({e.sha256 for e in pack.splits["ranked"]})
        chosen = {sha: given[sha] for sha in ranked if sha in given}
        skipped = len(ranked) - len(chosen)
    models = [(read_card(d), (d / ONNX_FILE).read_bytes()) for d in model_dirs]
    engine = create_db_engine(settings.resolved_database_url())
    try:
        migrate(engine)
        with session_factory(engine)() as session:
            summary = catalog.import_ranked(session=session, pack=pack, labels=chosen, models=models)
    finally:
        engine.dispose()
    return catalog.ImportSummary(summary.pack_id, summary.images, skipped, summary.models)


def run_publish(settings, directory: Path) -> list[downloads.PublishSummary]:  # noqa: ANN001 - Settings
    """Check the publish directory, store its files, then record its packs, models and manifests.

    Raises:
        PublishError: the directory is refused (nothing is recorded).
        StoreError: the content store cannot keep the files.
    """
    bundles = read_publish_dir(directory)
    store = open_store(settings)
    with Progress(transient=True, console=_out) as progress:
        task = progress.add_task("storing files", total=None)
        downloads.store_files(store, bundles, lambda done, total: progress.update(task, completed=done, total=total))
    with _database(settings) as session:
        return downloads.record(session=session, bundles=bundles, now=dt.datetime.now(dt.UTC))


@contextmanager
def _database(settings) -> Iterator[Session]:  # noqa: ANN001 - Settings
    engine = create_db_engine(settings.resolved_database_url())
    try:
        migrate(engine)
        with write_session(session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _register_review(app: typer.Typer, *, settings_of: Callable, fail: Callable[[Exception, bool], typer.Exit]) -> None:
    out = Console(highlight=False)

    @app.command("list")
    def list_command(
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per held session.")] = False,
        data_dir: DataDir = None,
        traceback: Traceback = False,
    ) -> None:
        """List the sessions held for review, oldest first (overdue open sessions expire first).

        Example: eyevsai-server review list --json
        """
        try:
            with _database(settings_of(data_dir)) as session:
                held = review.list_held(session=session, now=dt.datetime.now(dt.UTC))
        except Exception as exc:
            raise fail(exc, traceback) from None
        for item in held:
            if as_json:
                out.print(json.dumps(asdict(item), default=str), soft_wrap=True)
            else:
                out.print(
                    f"{item.id}  {item.player}  {item.pack_id}/{item.difficulty}  score {item.score}, "
                    f"{item.correct}/{item.rounds} right, {item.fast_answers} fast answer(s), "
                    f"plausibility {item.plausibility if item.plausibility is not None else 0:.2f}",
                    soft_wrap=True,
                )
        if not held and not as_json:
            _out.print("No session is held for review.")

    @app.command("show")
    def show_command(session_id: str, data_dir: DataDir = None, traceback: Traceback = False) -> None:
        """Show a ranked session and its rounds (times, answers, truths).

        Example: eyevsai-server review show 6f1c…
        """
        try:
            with _database(settings_of(data_dir)) as session:
                item, rounds = review.show(session=session, public_id=session_id)
        except Exception as exc:
            raise fail(exc, traceback) from None
        out.print(json.dumps({**asdict(item), "rounds": rounds}, default=str, indent=1), soft_wrap=True)

    def decide(session_id: str, data_dir: Path | None, traceback: bool, *, approve: bool) -> None:
        try:
            with _database(settings_of(data_dir)) as session:
                item = review.decide(session=session, public_id=session_id, approve=approve)
        except Exception as exc:
            raise fail(exc, traceback) from None
        _out.print(f"Session {item.id}: {item.review}" + (" (offered to the boards)" if approve else ""))

    @app.command("approve")
    def approve_command(session_id: str, data_dir: DataDir = None, traceback: Traceback = False) -> None:
        """Approve a held session: it enters the leaderboards now.

        Example: eyevsai-server review approve 6f1c…
        """
        decide(session_id, data_dir, traceback, approve=True)

    @app.command("reject")
    def reject_command(session_id: str, data_dir: DataDir = None, traceback: Traceback = False) -> None:
        """Reject a held session: it stays in the player's history but never enters a board.

        Example: eyevsai-server review reject 6f1c…
        """
        decide(session_id, data_dir, traceback, approve=False)


def _register_export(app: typer.Typer, *, settings_of: Callable, fail: Callable[[Exception, bool], typer.Exit]) -> None:
    @app.command("export-human-labels")
    def export_command(
        pack: Annotated[str, typer.Option("--pack", help="The pack's id.")],
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Parent folder of the new version (default: the one the server serves)."),
        ] = None,
        data_dir: DataDir = None,
        traceback: Traceback = False,
    ) -> None:
        """Write a new version of the pack's human-label dataset (JSONL, JSON Schema, datasheet; CC BY 4.0).

        Example: eyevsai-server export-human-labels --pack fashion-mnist
        """
        try:
            settings = settings_of(data_dir)
            with _database(settings) as session:
                folder = crowd_export.export_human_labels(
                    session=session,
                    pack_id=pack,
                    out_dir=out or crowd_export.exports_dir(settings.resolved_data_dir(), pack),
                    min_players=settings.crowd_min_players,
                    seconds_per_round=settings.ranked_seconds_per_round,
                    now=dt.datetime.now(dt.UTC),
                )
        except Exception as exc:
            raise fail(exc, traceback) from None
        manifest = json.loads((folder / crowd_export.MANIFEST_FILE).read_text(encoding="utf-8"))
        _out.print(f"{manifest['images']} image(s) of pack '{pack}' exported to {folder}", soft_wrap=True)
