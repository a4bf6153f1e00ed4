"""`eyevsai-server` (also `python -m sync_server`): run the sync server, migrate its database, import ranked packs,
publish packs and models for download, review held ranked sessions, export the open human-label dataset.

With nothing configured it serves on http://127.0.0.1:8000 from an SQLite database in the per-user data
directory; `DATABASE_URL=postgresql://…` switches to PostgreSQL. Every setting is an environment variable
(`EYEVSAI_SERVER_<NAME>`, see sync_server/settings.py); the options below override the common ones.

Exit codes: 0 success; 1 an unexpected error (rerun with --traceback); 2 bad input or configuration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from classifiers.errors import EyeVsAIError
from sync_server import admin
from sync_server.db import create_db_engine, current_revision, migrate, open_database
from sync_server.settings import load_settings
from sync_server.signing import load_signer

EXIT_FAILED, EXIT_BAD_INPUT = 1, 2
COMMANDS = ("serve", "migrate", "import-pack", "publish-pack", "review", "export-human-labels")

app = typer.Typer(
    name="eyevsai-server",
    help="The EyeVsAI sync server: accounts, OAuth sign-in, global leaderboards and ranked sessions.\n\n"
    "Example: eyevsai-server serve --workers 4 --port 8000",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=False,
)
_err = Console(stderr=True, highlight=False)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the SQLite database and the generated "
        "secret key live (default: $EYEVSAI_SERVER_DATA_DIR or the user data "
        "directory).",
    ),
]
Traceback = Annotated[bool, typer.Option("--traceback", "-v", help="Show the stack trace of errors.")]


def _fail(exc: Exception, traceback: bool) -> typer.Exit:
    if traceback:
        raise exc
    known = isinstance(exc, EyeVsAIError)
    message = str(exc) if known else f"unexpected {type(exc).__name__}: {exc}. Rerun with --traceback."
    _err.print(f"[bold red]error:[/] {message}", soft_wrap=True, markup=True)
    return typer.Exit(EXIT_BAD_INPUT if known else EXIT_FAILED)


def _settings(data_dir: Path | None):  # noqa: ANN202 - sync_server.settings.Settings

    if data_dir is not None:
        # Through the environment, so that uvicorn's worker processes see the same settings.
        os.environ["EYEVSAI_SERVER_DATA_DIR"] = str(data_dir)
    return load_settings()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            max=64,
            help="uvicorn worker processes; they share the database (use PostgreSQL for many).",
        ),
    ] = 1,
    data_dir: DataDir = None,
    traceback: Traceback = False,
) -> None:
    """Run the server (OpenAPI docs at /docs, health at /health).

    Example: DATABASE_URL=postgresql://eyevsai@db/eyevsai eyevsai-server serve --host 0.0.0.0 --workers 4
    """
    import uvicorn  # lazy: uvicorn (only `serve` needs it)

    try:
        settings = _settings(data_dir)
        # Done once here, before the workers start: they then agree on the schema and on a generated key. An
        # unusable database (unsupported, unreachable, read-only, full) is a configuration error, exit 2.
        dialect, migrated = open_database(settings)
        os.environ["EYEVSAI_SERVER_SECRET_KEY"] = settings.resolved_secret_key()
        load_signer(settings.resolved_data_dir())  # made (or refused) once, before the workers start
        os.environ["EYEVSAI_SERVER_AUTO_MIGRATE"] = "false"
    except Exception as exc:
        raise _fail(exc, traceback) from None
    if migrated:
        _err.print("Migrated the database to the current schema.")
    _err.print(
        f"EyeVsAI sync server on http://{host}:{port} ({workers} worker(s), {dialect} database); docs at /docs",
        soft_wrap=True,
    )
    uvicorn.run(
        "sync_server.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the app itself believes forwarding headers from FORWARDED_ALLOW_IPS only
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@app.command("migrate")
def migrate_command(data_dir: DataDir = None, traceback: Traceback = False) -> None:
    """Apply the database migrations and exit (the server also does this when it starts).

    Example: DATABASE_URL=postgresql://eyevsai@db/eyevsai eyevsai-server migrate
    """

    try:
        settings = _settings(data_dir)
        engine = create_db_engine(settings.resolved_database_url())
        migrate(engine)
        revision = current_revision(engine)
        engine.dispose()
    except Exception as exc:
        raise _fail(exc, traceback) from None
    _err.print(f"Database at revision {revision} ({engine.url.render_as_string(hide_password=True)}).")


admin.register(app, settings_of=_settings, fail=_fail)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: `serve` when no command is named; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("-") and args[0] not in ("--help", "-h")):
        args.insert(0, "serve")
    try:
        app(args=args, prog_name="eyevsai-server", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_FAILED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
