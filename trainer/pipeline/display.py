"""The pipeline's live terminal display: an overall bar with ETA, one line per running job, a line per end."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar
from rich.text import Text

from trainer.console import Output
from trainer.pipeline.runner import JobReport, PipelineEvent

R = TypeVar("R")


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
    return f"[red]failed[/] {report.job.label}: {report.error} (log: {report.log_path})"


def drive_pipeline(output: Output, work: Generator[PipelineEvent, None, R], total: int) -> R:
    """Run the pipeline's event generator to completion, showing progress unless quiet or JSON."""
    if output.quiet or output.as_json:
        while True:
            try:
                next(work)
            except StopIteration as stop:
                return stop.value
    columns = (TextColumn("{task.description:<34}"), BarColumn(bar_width=24), MofNCompleteColumn(),
               TimeElapsedColumn(), _Eta(), TextColumn("{task.fields[note]}"))
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
                tasks[key] = bar.add_task(f"  {event.job.label}"[:34], total=None, note="starting")
            elif event.kind == "progress" and event.progress is not None and key in tasks:
                p = event.progress
                bar.update(tasks[key], completed=p.done, total=p.total or None,
                           note=f"{p.stage}: {p.message}"[:60])
            elif event.kind == "ended" and event.report is not None:
                if key in tasks:
                    bar.remove_task(tasks.pop(key))
                finished += 1
                elapsed = time.monotonic() - started
                eta = _clock(elapsed / finished * (total - finished)) if finished < total else "0:00:00"
                bar.update(overall, advance=1, eta=eta)
                bar.console.print(ended_line(event.report), soft_wrap=True, highlight=False)
