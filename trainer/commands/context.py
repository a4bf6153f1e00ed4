"""What every `eyevsai-train` command shares: the per-run State, how a command reaches it, and the exit codes.

Exit codes: 0 success; 1 a pipeline job failed or an unexpected error (rerun with --traceback);
2 bad input (usage, missing pack or model, invalid data or option); 3 an export failed its parity check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from trainer.console import Output
from trainer.workspace import Workspace

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_PARITY = 1, 2, 3


@dataclass
class State:
    """What every command receives through the click context."""

    workspace: Workspace | None = None
    output: Output = field(default_factory=Output)
    traceback: bool = False


def state_of(ctx: typer.Context) -> State:
    """The State that `eyevsai-train`'s root callback filled in for this run."""
    return ctx.ensure_object(State)
