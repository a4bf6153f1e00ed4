"""`eyevsai-train pipeline` (train everything, resumable) and `eyevsai-train tune FAMILY`."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterable
from typing import Annotated, Any

import typer

from classifiers.chance import is_at_chance
from classifiers.errors import ConfigError, MissingExtraError, PackError
from classifiers.families.params import Hyperparams, hyperparams_of
from classifiers.pack import Pack
from classifiers.registry import FamilyInfo, family_label, get_family, list_families
from trainer.commands.context import EXIT_FAILED, state_of
from trainer.commands.models import cleanup_plan, run_cleanup
from trainer.console import Output
from trainer.pipeline.claims import DEFAULT_LEASE_S
from trainer.pipeline.display import drive_pipeline
from trainer.pipeline.lock import workspace_lock
from trainer.pipeline.plan import PlanEntry, parse_families, parse_packs, parse_settings, plan_jobs, summary_counts
from trainer.pipeline.runner import PipelineOptions, PipelineRunner
from trainer.usecases import TrainerUseCases
from trainer.workspace import Workspace

SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Fix a hyperparameter: KEY=VALUE for every family that has it, FAMILY.KEY=VALUE for one (repeatable).",
    ),
]
TrialsOpt = Annotated[int, typer.Option(help="Trials per study (in total: a resumed study runs only the missing).")]
TimeoutOpt = Annotated[float | None, typer.Option(help="Start no new trial after this many seconds (per study).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
StorageOpt = Annotated[
    str | None,
    typer.Option(
        "--storage",
        envvar="EYEVSAI_TUNING_STORAGE",
        help="Where the Optuna studies live: a database URL (postgresql://user:pw@host/db) shared by several "
        "machines, or a SQLite file (default: <workspace>/tuning.db).",
    ),
]
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def register(app: typer.Typer) -> None:
    app.command("pipeline")(pipeline_command)
    app.command("tune")(tune_command)


def _require_available(info: FamilyInfo) -> None:
    missing = info.missing_modules()
    if missing:
        raise MissingExtraError(
            f"Family '{family_label(info.name)}' needs {', '.join(missing)}, which is not installed. "
            f"Install it with `eyevsai-train install {family_label(info.name)}`."
        )


def pipeline_command(
    ctx: typer.Context,
    packs: Annotated[list[str], typer.Option("--packs", help="Pack ids (comma-separated or repeated).")],
    families: Annotated[
        list[str] | None,
        typer.Option(
            "--families",
            help="Families, FAMILY or FAMILY/VARIANT, "
            "comma-separated or repeated (default: every installed "
            "family, all variants).",
        ),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Jobs run at once, each in its own process.")] = 1,
    tune: Annotated[bool, typer.Option("--tune", help="Tune each job's hyperparameters with Optuna first.")] = False,
    trials: TrialsOpt = 20,
    timeout: TimeoutOpt = None,
    settings: SetOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the tuning samplers.")] = 0,
    retrain: Annotated[bool, typer.Option(help="Run every job, even those with a finished model.")] = False,
    auto_cleanup: Annotated[
        bool,
        typer.Option(
            "--auto-cleanup",
            help="Afterwards remove superseded models and "
            "earlier failed or interrupted runs (this run's failures stay, "
            "with their logs).",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan and stop.")] = False,
    storage: StorageOpt = None,
    lease: Annotated[
        float,
        typer.Option(
            help="Seconds after which a job whose pipeline stopped renewing its claim (a machine killed or cut "
            "off) is taken over by another pipeline on the same registry."
        ),
    ] = DEFAULT_LEASE_S,
    as_json: JsonOpt = False,
) -> None:
    """Train (and optionally tune) every family × variant × pack, N jobs at a time; re-running skips finished jobs.

    Each job's output goes to <workspace>/logs/pipeline/<model id>.log; a failed job does not stop the others, and the
    exit code is 1 when any failed. Interrupted deep jobs resume from their last epoch's checkpoint.

    Several machines share the work when each runs the same command on one registry URL (--registry, a global
    option) with the workspace folder shared: each job runs once, on whichever machine claims it first.

    Example: eyevsai-train pipeline --families shallow,deep-v1 --packs fashion-mnist --jobs 2 --tune --trials 20
    """
    since = time.time()
    state = state_of(ctx)
    output, workspace = state.output, _with_storage(state.workspace, storage)
    output.as_json = as_json
    if lease < 1:
        raise ConfigError(f"--lease must be at least 1 second, got {lease:g}.")
    selection = _select_families(families, output)
    fixed = parse_settings(settings or [], _declarations(family for family, _ in selection))  # before any pack
    pack_ids = [_trainable(workspace.find_pack(pack)).id for pack in parse_packs(packs)]
    options = PipelineOptions(jobs=jobs, trials=trials, timeout=timeout, params=fixed, seed=seed, lease_s=lease)
    # a shared registry: other machines' pipelines run beside this one, kept apart by their job claims
    shared = workspace.registry_url is not None
    with contextlib.nullcontext() if shared else workspace_lock(workspace.root):
        registry = workspace.registry()
        try:
            for change in registry.reconcile(workspace.models_dir):
                output.info(f"registry: {change}")
            finished = {}
            for entry in plan_jobs(selection, pack_ids, tune=tune, finished={}):
                job = entry.job
                record = registry.finished_job(
                    job.pack_id, job.family, job.variant, tuned=job.tune, models_dir=workspace.models_dir
                )
                if record is not None:
                    finished[job] = record.id
            entries = plan_jobs(selection, pack_ids, tune=tune, finished=finished, retrain=retrain)
            _show_plan(output, entries)
            if dry_run:
                if as_json:
                    output.emit_json({"plan": [_plan_row(e) for e in entries], "counts": summary_counts(entries)})
                return
            runner = PipelineRunner(entries, workspace, registry, options, since=since)
            try:
                reports = drive_pipeline(output, runner.run(), total=sum(e.run for e in entries))
            except KeyboardInterrupt:
                output.error(
                    "interrupted: the running jobs were stopped and recorded as interrupted; run the same "
                    "command again to go on (finished jobs are skipped)."
                )
                raise typer.Exit(EXIT_INTERRUPTED) from None
            cleaned = _auto_cleanup(registry, workspace, reports) if auto_cleanup else []
        finally:
            registry.close()
    _show_summary(output, entries, reports, cleaned, as_json)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(EXIT_FAILED)


def _with_storage(workspace: Workspace, storage: str | None) -> Workspace:
    """The workspace with --storage as its tuning storage, when given."""
    return dataclasses.replace(workspace, tuning_url=storage) if storage else workspace


def _trainable(pack: Pack) -> Pack:
    """The pack, if its training images are there (a game pack ships only test and ranked images).

    Raises:
        PackError: no training images.
    """
    if not pack.available("train"):
        raise PackError(
            f"Pack '{pack.id}' at {pack.root} has no training images (a game pack?). Build the full "
            f"pack into the workspace first: eyevsai-train pack build SRC --id {pack.id}"
        )
    return pack


def _declarations(names: Iterable[str]) -> list[Hyperparams]:
    """The hyperparameter declarations of the named families (each once), which `--set` values must suit."""
    infos = [get_family(name) for name in dict.fromkeys(names)]
    return [declared for info in infos if (declared := hyperparams_of(info.estimator)) is not None]


def _select_families(specs: list[str] | None, output: Output) -> list[tuple[str, str]]:
    infos = list_families()
    known = {info.name: info.variants for info in infos}
    if specs:
        selection = parse_families(specs, known)
        for name in dict.fromkeys(family for family, _ in selection):
            _require_available(get_family(name))
        return selection
    available = [info.name for info in infos if info.is_available]
    for info in infos:
        if not info.is_available:
            output.warn(
                f"family {family_label(info.name)} skipped: {', '.join(info.missing_modules())} not installed "
                f"(eyevsai-train install {family_label(info.name)})"
            )
    return parse_families([",".join(available)], known)


def _plan_row(entry: PlanEntry) -> dict[str, Any]:
    return {
        "job": entry.job.key,
        "pack": entry.job.pack_id,
        "family": entry.job.family,
        "variant": entry.job.variant,
        "tuned": entry.job.tune,
        "run": entry.run,
        "reason": entry.reason,
    }


def _show_plan(output: Output, entries: list[PlanEntry]) -> None:
    counts = summary_counts(entries)
    output.info(f"Plan: {counts['jobs']} job(s), {counts['to_run']} to run, {counts['skipped']} already done")
    if not output.quiet:
        output.table(
            "Pipeline plan",
            ["job", "action"],
            [
                [
                    e.job.label,
                    "[bold]run[/]" + ("" if e.reason == "to run" else f" ({e.reason})")
                    if e.run
                    else f"skip ({e.reason})",
                ]
                for e in entries
            ],
        )


def _auto_cleanup(registry, workspace, reports) -> list[str]:  # noqa: ANN001
    keep = {r.model_id for r in reports if r.status == "failed"}
    items = [item for item in cleanup_plan(registry, workspace) if item.model_id not in keep]
    return [item.describe() for item in run_cleanup(registry, items)]


def _show_summary(output, entries, reports, cleaned: list[str], as_json: bool) -> None:  # noqa: ANN001
    counts = {status: sum(r.status == status for r in reports) for status in ("done", "skipped", "failed")}
    if as_json:
        output.emit_json({"jobs": [r.as_dict() for r in reports], "counts": counts, "cleaned": cleaned})
        return
    for line in cleaned:
        output.info(f"removed {line}")
    rows = []
    for r in reports:
        tuned = r.tuning or {}
        rows.append(
            [
                r.job.label,
                _status(r.status),
                r.model_id or "-",
                "-" if r.test_accuracy is None else f"{r.test_accuracy:.1%}",
                r.difficulty or "-",
                "-" if r.seconds is None else f"{r.seconds:.0f} s",
                f"{tuned['best_value']:.1%} ({tuned.get('COMPLETE', 0)}+{tuned.get('PRUNED', 0)} trials)"
                if tuned.get("best_value") is not None
                else "-",
            ]
        )
    output.table(
        f"Pipeline summary: {counts['done']} trained, {counts['skipped']} skipped (already done), "
        f"{counts['failed']} failed",
        ["job", "status", "model", "test acc.", "difficulty", "time", "tuning (best val acc.)"],
        rows,
    )
    for r in reports:
        if r.status == "failed":
            output.error(f"{r.job.label} failed: {r.error}\n  log: {r.log_path}")


def _status(status: str) -> str:
    return {"done": "[green]done[/]", "skipped": "skipped", "failed": "[red]failed[/]"}.get(status, status)


def tune_command(
    ctx: typer.Context,
    family: Annotated[str, typer.Argument(help="Family name (see `eyevsai-train list`).")],
    pack: Annotated[str, typer.Option("--pack", help="Pack id or folder.")],
    trials: TrialsOpt = 20,
    timeout: TimeoutOpt = None,
    variant: Annotated[
        str | None, typer.Option(help="Tune this variant only (default: the variant is tuned too).")
    ] = None,
    settings: SetOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the sampler.")] = 0,
    storage: StorageOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tune a family's hyperparameters on a pack (Optuna, resumable), then re-train the best and register it.

    Trials are scored on the pack's val split; deep families' bad trials are pruned from their per-epoch
    validation accuracy. The study is kept in <workspace>/tuning.db (or --storage): running the command again
    resumes it, and the same command on several machines with one --storage URL adds their trials to one study.

    Example: eyevsai-train tune shallow --pack fashion-mnist --trials 30 --storage postgresql://me@db-host/optuna
    """
    state = state_of(ctx)
    output, workspace = state.output, _with_storage(state.workspace, storage)
    output.as_json = as_json
    usecases = TrainerUseCases(workspace)
    info = get_family(family)
    _require_available(info)
    settings_by_family = parse_settings(settings or [], _declarations([info.name]))  # before any pack is read
    fixed = {**settings_by_family.get("*", {}), **settings_by_family.get(info.name, {})}
    target = _trainable(workspace.find_pack(pack))
    result = output.drive(
        usecases.tune(info.name, target, trials=trials, timeout=timeout, variant=variant, base_params=fixed, seed=seed)
    )
    trained = output.drive(usecases.train_tuned(info.name, target, result))
    _show_tuning(output, result, trained, as_json)


def _show_tuning(output, result, trained, as_json: bool) -> None:  # noqa: ANN001
    card = trained.card
    if as_json:
        output.emit_json(
            {
                "study": result.study_name,
                "storage": result.storage,
                "best_value": result.best_value,
                "best_trial": result.best_trial,
                "variant": result.variant,
                "params": result.params,
                "counts": result.counts(),
                "trials": result.trials,
                "model": {
                    "id": card.id,
                    "model_dir": str(trained.model_dir),
                    "metrics": card.metrics,
                    "difficulty": card.difficulty,
                    "at_chance": is_at_chance(card.metrics),
                },
            }
        )
        return
    best = sorted((t for t in result.trials if t["state"] == "COMPLETE"), key=lambda t: -t["value"])[:10]
    output.table(
        f"Study {result.study_name}: {len(result.trials)} trial(s): "
        + ", ".join(f"{n} {s.lower()}" for s, n in result.counts().items() if n),
        ["trial", "val acc.", "time", "parameters"],
        [
            [
                t["number"],
                f"{t['value']:.1%}",
                "-" if t["seconds"] is None else f"{t['seconds']:.0f} s",
                ", ".join(f"{k}={_short(v)}" for k, v in t["params"].items()),
            ]
            for t in best
        ],
    )
    output.table(
        f"Best trial {result.best_trial} re-trained as {card.id}",
        ["field", "value"],
        [
            ["val accuracy (tuning)", f"{result.best_value:.1%}"],
            ["test accuracy", f"{card.metrics['test_accuracy']:.1%} on {card.metrics['n_test']} images"],
            ["difficulty", card.difficulty or "-"],
            ["saved to", str(trained.model_dir)],
        ],
    )
    output.flag_chance(card.id, card.metrics)


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
