"""`eyevsai-train`: the trainer CLI and its composition root (exit codes: `trainer.commands.context`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from classifiers.errors import EyeVsAIError, ParityError
from trainer.commands import basic, models, pack, pipeline, publish, train, train_deep, train_transfer
from trainer.commands.context import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_PARITY, State
from trainer.console import Output
from trainer.workspace import Workspace

app = typer.Typer(
    name="eyevsai-train",
    help="Build image packs, train and export EyeVsAI classifiers.\n\n"
    "Example: eyevsai-train train shallow --pack fashion-mnist --algorithm svm",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None, typer.Option(help="Trainer workspace (default: $EYEVSAI_WORKSPACE or the user data dir).")
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="Model registry on a database URL (postgresql://user:pw@host/db), shared by several machines "
            "(default: $EYEVSAI_REGISTRY_URL or <workspace>/registry.db).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and final results.")] = False,
    traceback: Annotated[bool, typer.Option("--traceback", "-v", help="Show the stack trace of errors.")] = False,
) -> None:
    state: State = ctx.ensure_object(State)
    state.workspace = Workspace.resolve(workspace, registry_url=registry)
    state.output = Output(quiet=quiet)
    state.traceback = traceback


def _register_commands() -> None:
    train_deep.register(train.app)
    train_transfer.register(train.app, app)
    app.add_typer(pack.app, name="pack")
    app.add_typer(train.app, name="train")
    app.add_typer(models.app, name="models")
    basic.register(app)
    pipeline.register(app)
    publish.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; turns known errors into one red line and an exit code."""
    state = State()
    try:
        # standalone mode: typer prints usage errors itself (exit 2) and turns Ctrl-C into exit 1.
        app(args=argv, prog_name="eyevsai-train", standalone_mode=True, obj=state)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_FAILED)
    except EyeVsAIError as exc:
        if state.traceback:
            raise
        state.output.error(str(exc))
        return EXIT_PARITY if isinstance(exc, ParityError) else EXIT_BAD_INPUT
    except Exception as exc:
        if state.traceback:
            raise
        state.output.error(f"unexpected {type(exc).__name__}: {exc}. Rerun with --traceback and report it.")
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
