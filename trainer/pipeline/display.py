"""The pipeline's live terminal display: an overall bar with ETA, one line per running job, a line per end."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar
from rich.table import Column
from rich.text import Text

from classifiers.progress import run_to_end
from trainer.console import Output
from trainer.pipeline.runner import JobReport, PipelineEvent

R = TypeVar("R")
FIXED_WIDTH = 26 + 10 + 9 + 7 + 11 + 6  # the columns before the note, and the spaces between columns


class _Eta(ProgressColumn):
    """The task's own `eta` field when it has one (whole jobs), else rich's estimate (steps of a stage)."""

    def render(self, task) -> Text:  # noqa: ANN001 - rich's Task
        if "eta" in task.fields:
            return Text(f"ETA {task.fields['eta']}", style="progress.remaining")
        remaining = task.time_remaining
        if remaining is None or not task.total:
            return Text("ETA -:--:--", style="progress.remaining")
        return Text(f"ETA {_clock(remaining)}", style="progress.remaining")


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def ended_line(report: JobReport) -> str:
    if report.status == "done":
        accuracy = "" if report.test_accuracy is None else f", test accuracy {report.test_accuracy:.1%}"
        return f"[green]done[/] {report.job.label}: {report.model_id}{accuracy} ({report.seconds or 0:.0f} s)"
    if report.status == "skipped":
        return f"skipped {report.job.label}: {report.model_id} ({report.note or 'already done'})"
    return f"[red]failed[/] {report.job.label}: {report.error} (log: {report.log_path})"


def drive_pipeline(output: Output, work: Generator[PipelineEvent, None, R], total: int) -> R:
    """Run the pipeline's event generator to completion, showing progress unless quiet or JSON."""
    if output.quiet or output.as_json:
        return run_to_end(work)
    # fixed narrow columns and an elastic note, so that every job keeps one line in an 80-column terminal
    fixed = {"no_wrap": True, "overflow": "ellipsis"}
    columns = (
        TextColumn("{task.description}", table_column=Column(width=26, **fixed)),
        BarColumn(bar_width=10, table_column=Column(width=10)),
        MofNCompleteColumn(table_column=Column(min_width=9, justify="right", no_wrap=True)),
        TimeElapsedColumn(table_column=Column(width=7, no_wrap=True)),
        _Eta(table_column=Column(width=11, no_wrap=True)),
        TextColumn("{task.fields[note]}", table_column=Column(**fixed)),
    )
    started = time.monotonic()
    with Bar(*columns, console=output.err, transient=False) as bar:
        overall = bar.add_task("[bold]all jobs", total=total, note="", eta="-:--:--")
        tasks: dict[str, int] = {}
        finished = 0
        while True:
            try:
                event = next(work)
            except StopIteration as stop:
                bar.update(overall, eta="0:00:00")
                return stop.value
            key = event.job.key
            if event.kind == "started":
                tasks[key] = bar.add_task(f"  {event.job.label}", total=None, note="starting")
            elif event.kind == "progress" and event.progress is not None and key in tasks:
                p = event.progress
                room = max(8, bar.console.width - FIXED_WIDTH)  # cut here: rich would squeeze the other columns
                note = f"{p.stage}: {p.message}"
                bar.update(
                    tasks[key],
                    completed=p.done,
                    total=p.total or None,
                    note=note if len(note) <= room else note[: room - 1] + "…",
                )
            elif event.kind == "ended" and event.report is not None:
                if key in tasks:
                    bar.remove_task(tasks.pop(key))
                finished += 1
                elapsed = time.monotonic() - started
                eta = _clock(elapsed / finished * (total - finished)) if finished < total else "0:00:00"
                bar.update(overall, advance=1, eta=eta)
                bar.console.print(ended_line(event.report), soft_wrap=True, highlight=False)
