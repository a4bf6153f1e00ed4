"""`eyevsai-train pack build|fetch|info|export-game`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trainer.commands.context import state_of
from trainer.console import Output
from trainer.datasets import PACKAGED, PREFIX
from trainer.packs import BuildReport, SplitFractions, export_game_pack
from trainer.recipes import RECIPES
from trainer.recipes.fetch import RECIPE_FILE, FetchReport
from trainer.usecases import TrainerUseCases

app = typer.Typer(help="Build and inspect image packs.", no_args_is_help=True)


@app.command("build")
def build(
    ctx: typer.Context,
    src: Annotated[
        str,
        typer.Argument(
            help="A class-per-folder tree (SRC/<class>/<images>), or "
            f"'{PREFIX}NAME' for a packaged dataset ({', '.join(PACKAGED)})."
        ),
    ],
    pack_id: Annotated[str, typer.Option("--id", help="Id of the new pack (a folder name).")],
    title: Annotated[str | None, typer.Option(help="Title shown in the game.")] = None,
    licence: Annotated[str | None, typer.Option(help="Licence of the images.")] = None,
    val: Annotated[
        float, typer.Option(help="Fraction of each class for validation (official split: of its training images).")
    ] = 0.1,
    test: Annotated[
        float | None,
        typer.Option(
            help="Fraction of each class for the test split [default: 0.15; official split: its test images]."
        ),
    ] = None,
    ranked: Annotated[
        float | None,
        typer.Option(
            help="Fraction of each class for the ranked split [default: 0.1; official split: of its test images, 0.2]."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the stratified split.")] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            help="Packaged datasets: at most this many images per class, taken from the official training and test "
            "images in their own proportion (Fashion-MNIST 6:1: --limit 1000 takes 857 + 143)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Folder to write the pack into (default: workspace packs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable report.")] = False,
) -> None:
    """Make a pack from a class-per-folder tree or a packaged dataset, with seeded stratified splits.

    A packaged dataset with an official train/test division (Fashion-MNIST) keeps it: train and val come only
    from its training images, test and ranked only from its test images (the official split).

    Examples:
      eyevsai-train pack build ~/photos/pets --id pets
      eyevsai-train pack build packaged:fashion-mnist --id fashion
      eyevsai-train pack build packaged:fashion-mnist --id fashion-small --limit 1000
    """
    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    usecases = TrainerUseCases(state.workspace)
    packaged = src.startswith(PREFIX)
    if packaged and test is not None:
        output.warn(f"--test does not apply to {src}: its official test images make the test and ranked splits")
    defaults = SplitFractions()
    fractions = SplitFractions(
        val=val,
        test=defaults.test if test is None else test,
        ranked=defaults.ranked if ranked is None or packaged else ranked,
        official_ranked=defaults.official_ranked if ranked is None else ranked,
    )
    options = {"title": title, "licence": licence, "fractions": fractions, "seed": seed, "out_dir": out}
    if packaged:
        work = usecases.build_packaged_pack(src.removeprefix(PREFIX), pack_id, limit=limit, **options)
    else:
        if limit is not None:
            output.warn("--limit applies only to packaged datasets; using every image of the folder")
        work = usecases.build_pack(src, pack_id, **options)
    _show_report(output, output.drive(work), as_json)


def _show_report(output: Output, report: BuildReport, as_json: bool) -> None:
    if as_json:
        output.emit_json(
            {
                "pack_dir": str(report.pack_dir),
                "split_rule": report.split_rule,
                "counts": report.counts,
                "warnings": report.warnings,
                "duplicates": report.duplicates,
                "unreadable": report.unreadable,
            }
        )
        return
    for line in report.duplicates[:20]:
        output.warn(f"duplicate dropped: {line}")
    if len(report.duplicates) > 20:
        output.warn(f"... and {len(report.duplicates) - 20} more duplicates dropped")
    for line in report.unreadable[:20]:
        output.warn(f"unreadable, skipped: {line}")
    for line in report.warnings:
        output.warn(line)
    classes = sorted({c for counts in report.counts.values() for c in counts})
    splits = list(report.counts)
    output.table(
        f"Pack written to {report.pack_dir} ({report.split_rule} split)",
        ["class", *splits],
        [[c, *(report.counts[s].get(c, 0) for s in splits)] for c in classes],
    )


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help=f"Recipe: {', '.join(RECIPES)}.", show_default=False)] = None,
    pack_id: Annotated[str | None, typer.Option("--id", help="Id of the new pack (default: the recipe's).")] = None,
    dest: Annotated[Path | None, typer.Option(help="Folder to write the pack into (default: workspace packs).")] = None,
    list_recipes: Annotated[bool, typer.Option("--list", help="List the recipes with size and licence.")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many images per class.")] = None,
    sources: Annotated[
        str | None, typer.Option("--from", help="combined: comma-separated pack ids to combine.")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="Download folder URL replacing the recipe's (a mirror).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the stratified split.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Download one of the original game's datasets, verify it, and build it into a pack.

    Downloads resume where they stopped; Kaggle recipes need your Kaggle API token.

    Examples:
      eyevsai-train pack fetch --list
      eyevsai-train pack fetch oxford-pets
      eyevsai-train pack fetch vegetables --limit 300
      eyevsai-train pack fetch combined --from oxford-pets,vegetables --id pets-veg
    """
    state = state_of(ctx)
    output = state.output
    output.as_json = as_json
    if list_recipes or name is None:
        _list_recipes(output, as_json)
        return
    usecases = TrainerUseCases(state.workspace)
    parts = [p.strip() for p in sources.split(",") if p.strip()] if sources else None
    work = usecases.fetch_pack(name, pack_id, dest=dest, base_url=base_url, limit=limit, sources=parts, seed=seed)
    report: FetchReport = output.drive(work)
    _show_report(output, report.build, as_json)
    output.info(f"source, licence and checksums recorded in {report.pack_dir / RECIPE_FILE}")


def _list_recipes(output: Output, as_json: bool) -> None:
    if as_json:
        keys = ("name", "title", "size", "licence", "source", "citation", "default_id", "needs", "classes")
        output.emit_json([{k: getattr(r, k) for k in keys} for r in RECIPES.values()])
        return
    rows = [[r.name, r.title, r.size, r.licence, r.source, r.needs] for r in RECIPES.values()]
    output.table(
        "Pack recipes (eyevsai-train pack fetch NAME)", ["recipe", "title", "size", "licence", "source", "needs"], rows
    )


@app.command("info")
def info(ctx: typer.Context, pack: Annotated[str, typer.Argument(help="Pack id or folder.")]) -> None:
    """Show a pack's classes and split sizes.

    Example: eyevsai-train pack info fashion
    """
    state = state_of(ctx)
    target = state.workspace.find_pack(pack)
    rows = []
    for label in target.classes:
        rows.append([label, *(sum(e.label == label for e in target.splits[s]) for s in ("train", "val", "test"))])
    state.output.table(f"{target.title} ({target.id}) at {target.root}", ["class", "train", "val", "test"], rows)
    state.output.info(f"ranked: {len(target.splits['ranked'])} images; licence: {target.meta.get('licence')}")


@app.command("export-game")
def export_game(
    ctx: typer.Context,
    pack: Annotated[str, typer.Argument(help="Pack id or folder (a full pack from `pack build`).")],
    to: Annotated[Path, typer.Option(help="Destination folder (e.g. assets/packs).")],
    max_test: Annotated[int | None, typer.Option(help="Keep at most this many test images (stratified).")] = None,
    max_ranked: Annotated[int | None, typer.Option(help="Keep at most this many ranked images.")] = None,
) -> None:
    """Copy a pack's test and ranked images (no train/val, no ranked labels) for the game.

    Example: eyevsai-train pack export-game fashion-mnist --to assets/packs --max-test 1500 --max-ranked 1000
    """
    state = state_of(ctx)
    target = export_game_pack(state.workspace.find_pack(pack), to, max_test=max_test, max_ranked=max_ranked)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    state.output.info(f"game pack written to {target} ({size / 1e6:.1f} MB)")
