"""The server's composition root: settings → engine → app state → FastAPI app.

`create_app(settings)` is what tests and `python -m sync_server` use; `create_app_from_env()` is the factory each
uvicorn worker process calls (settings come from the environment the parent set up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sync_server import __version__
from sync_server.api.board_pages import BoardReadLane, board_pages
from sync_server.api.deps import AppState, StrictQuery
from sync_server.api.errors import error_detail
from sync_server.api.routes import auth, downloads, games, health, leaderboards, oauth, ranked, stats, users
from sync_server.db import create_db_engine, migrate, session_factory, writer_factory
from sync_server.errors import ServiceError
from sync_server.inference import ModelRunner
from sync_server.logs import configure_logging, get_logger
from sync_server.middleware import (
    DATABASE_UNAVAILABLE,
    BodyLimitMiddleware,
    IpRateLimitMiddleware,
    RequestContextMiddleware,
)
from sync_server.oauth import OAuthService
from sync_server.pack_store import open_store
from sync_server.ratelimit import DatabaseCounters, RateLimiter
from sync_server.security import AccessTokens, PasswordHashingBusy, Passwords
from sync_server.settings import Settings, load_settings
from sync_server.signing import load_signer

API_PREFIX = "/api/v1"
_log = get_logger("app")

DESCRIPTION = """EyeVsAI sync server, API v1.

Accounts (email, guest, OAuth with PKCE), global leaderboards of verified ranked sessions, offline session
upload, and ranked sessions dealt, timed and scored by the server. Send the access token as
`Authorization: Bearer <token>`.
"""


def build_app_state(
    settings: Settings, *, clock: Callable[[], dt.datetime] | None = None, oauth_http: object | None = None
) -> AppState:
    """Everything a request needs, built once: engine (migrated when `auto_migrate`), hashers, limiter, OAuth."""
    url = settings.resolved_database_url()
    engine = create_db_engine(url, timeouts=settings.db_timeouts)
    if settings.auto_migrate:
        migrate(engine)
    return AppState(
        settings=settings,
        engine=engine,
        db_sessions=session_factory(engine),
        db_writers=writer_factory(engine),
        passwords=Passwords(settings.argon2),
        tokens=AccessTokens(
            secret=settings.resolved_secret_key(), minutes=settings.access_token_minutes, issuer=settings.public_url
        ),
        limiter=RateLimiter(DatabaseCounters(engine)),
        clock=clock or (lambda: dt.datetime.now(dt.UTC)),
        oauth=OAuthService(settings, http_client=oauth_http),
        models=ModelRunner(settings.resolved_data_dir()),
        signer=load_signer(settings.resolved_data_dir()),
        content_store=open_store(settings),
        board_reads=_board_reads_engine(engine, url, settings),
    )


def _board_reads_engine(engine: Engine, url: str, settings: Settings) -> Engine | None:
    """SQLite: one connection on which the event loop reads boards (api/board_pages.py); None elsewhere (PostgreSQL
    board reads have a pool of their own there, and an in-memory SQLite has only the main engine's)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return create_db_engine(url, pool_size=1, timeouts=settings.db_timeouts)


def create_app(settings: Settings | None = None, *, app_state: AppState | None = None) -> FastAPI:
    """The FastAPI app with its routes and middleware; builds the app state from `settings` unless given."""
    settings = settings or (app_state.settings if app_state else load_settings())
    configure_logging(settings.log_level, as_json=settings.log_json)
    app_state = app_state or build_app_state(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _log.info("server started", extra={"database": app_state.engine.dialect.name, "version": __version__})
        yield
        await board_pages(_app.state).close()
        app_state.engine.dispose()
        if app_state.board_reads is not None:
            app_state.board_reads.dispose()

    app = FastAPI(
        title="EyeVsAI sync server",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
    )
    app.state.app_state = app_state
    app.include_router(health.router, dependencies=[StrictQuery])
    for module in (auth, oauth, users):
        app.include_router(module.router, prefix=API_PREFIX, dependencies=[StrictQuery])
    _add_routers(app)
    _add_error_handlers(app)
    # Outermost last: request id/logging wraps everything, then CORS, then the body limit, then the IP limit, then
    # the lane that serves board reads the routes validated before (api/board_pages.py).
    app.add_middleware(BoardReadLane, state=app.state)
    limits = settings.rate_limits
    app.add_middleware(
        IpRateLimitMiddleware,
        limiter=app_state.limiter,
        limit=limits.per_ip,
        window_s=limits.window_s,
        exempt=("/health", API_PREFIX + downloads.FILES_PATH),  # files: their own budget (downloads_per_ip)
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(RequestContextMiddleware)
    # Outermost: the logs and every limit see the client a trusted proxy reports, never a client's own claim.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    return app


def _add_routers(app: FastAPI) -> None:
    """Routers added as the features land (kept apart so the list reads as the API's table of contents)."""
    for module in (games, leaderboards, ranked, downloads, stats):
        app.include_router(module.router, prefix=API_PREFIX, dependencies=[StrictQuery])


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _refused(_request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if isinstance(exc, PasswordHashingBusy):
            headers["Retry-After"] = str(exc.retry_after_s)
        return JSONResponse({"detail": error_detail(exc.status, exc.detail)}, status_code=exc.status, headers=headers)

    @app.exception_handler(DataError)
    async def _out_of_range(_request: Request, exc: DataError) -> JSONResponse:
        # The edge validation (schemas/common.py) should refuse such values first; this keeps a miss a 4xx.
        _log.warning("value refused by the database", extra={"error": type(exc.orig).__name__})
        return JSONResponse({"detail": error_detail(422, "A value is out of range")}, status_code=422)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # Down, unreachable, timed out, read-only or full: the client should retry later; not a bug of ours.
        cause = getattr(exc, "orig", None) or exc
        # The driver's message says what failed (SQL parameters are hidden at the engine, emails scrubbed in logs).
        _log.warning("database unavailable", extra={"error": type(cause).__name__, "detail": str(exc)[:1000]})
        return JSONResponse({"detail": DATABASE_UNAVAILABLE}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # A body that is not even text (invalid UTF-8) gets FastAPI's bare 400; answer it like any other malformed
        # JSON, with the documented 422, so that clients handle one kind of "bad input" answer.
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": "The body is not valid UTF-8 JSON", "type": "json_invalid"}]},
                status_code=422,
            )
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Short messages without echoing the offending input back (it may be a password).
        errors = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()[:20]
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        _log.error("unhandled error", exc_info=exc)
        return JSONResponse({"detail": "Internal server error"}, status_code=500)


def create_app_from_env() -> FastAPI:
    """uvicorn's factory for worker processes: settings from the environment (the parent migrated already)."""
    return create_app(load_settings())
