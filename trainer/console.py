"""Terminal output for the trainer CLI: progress bars with ETA driven by Progress generators, tables, errors."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar
from rich.table import Table
from rich.text import Text

from classifiers.chance import chance_of_metrics
from classifiers.progress import Progress, run_to_end

R = TypeVar("R")


LOGGED_STAGES = ("epoch", "phase")  # milestones worth a line of their own above the bars


class Output:
    """Where the CLI writes: rich on a terminal, plain JSON for scripts, nothing but errors when quiet."""

    def __init__(self, *, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet = quiet
        self.as_json = as_json
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        for console in (self.out, self.err):
            if not console.is_terminal:  # pipes and logs: no 80-column wrapping of tables
                console.width = 160

    def info(self, message: str) -> None:
        if not (self.quiet or self.as_json):
            self.out.print(message, soft_wrap=True)  # paths stay whole, copy-pasteable

    def warn(self, message: str) -> None:
        if not self.as_json:
            self.err.print(f"[yellow]warning:[/] {message}")

    def flag_chance(self, model_id: str, metrics: dict[str, Any]) -> bool:
        """Warn, in one line with the numbers, when a model's test accuracy is at chance (`classifiers.chance`).

        Returns whether it is (a JSON caller puts that in its output instead; this prints nothing then).
        """
        check = chance_of_metrics(metrics)
        if check is None or not check.is_at_chance:
            return False
        self.warn(f"{model_id} is {check.describe()}")
        return True

    def error(self, message: str) -> None:
        self.err.print(f"[bold red]error:[/] {message}", soft_wrap=True)

    def emit_json(self, obj: Any) -> None:
        self.out.print_json(json.dumps(obj, default=str))

    def table(self, title: str, columns: list[str], rows: list[list[Any]]) -> None:
        """A result table: shown even when quiet (it is the final result), never in JSON mode."""
        if self.as_json:
            return
        # the title goes on its own unwrapped line: a table title wraps to the table's width, which would break
        # the paths and ids it often holds in the middle
        self.out.print(Text(title, style="table.title"), soft_wrap=True)
        table = Table()
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        self.out.print(table)

    def drive(self, work: Generator[Progress, None, R]) -> R:
        """Run a Progress generator to completion with one bar per stage; return its result."""
        if self.quiet or self.as_json:
            return run_to_end(work)
        columns = (
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
        )
        with Bar(*columns, console=self.err, transient=False) as bar:
            tasks: dict[str, int] = {}
            while True:
                try:
                    event = next(work)
                except StopIteration as stop:
                    return stop.value
                if event.stage not in tasks:
                    tasks[event.stage] = bar.add_task(event.stage, total=event.total or None, note="")
                note = "  ".join(f"{k} {v:.4g}" for k, v in event.metrics.items()) or event.message
                bar.update(tasks[event.stage], completed=event.done, total=event.total or None, note=note[:70])
                if event.stage in LOGGED_STAGES and event.message:  # a lasting line per epoch, also in log files
                    bar.console.print(event.message, highlight=False)
