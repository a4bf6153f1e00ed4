"""FastAPI dependencies as `Annotated` aliases: the app state, a database session, the signed-in user, limits."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sync_server.accounts import user_by_public_id
from sync_server.crowd_stats import PackStatsCache
from sync_server.inference import ModelRunner
from sync_server.middleware import client_ip
from sync_server.models import User
from sync_server.pack_store import ContentStore
from sync_server.ratelimit import RateLimiter
from sync_server.security import AccessTokens, InvalidTokenError, Passwords
from sync_server.settings import Settings
from sync_server.signing import Signer


@dataclass
class AppState:
    """What the composition root builds once per process and every request shares."""

    settings: Settings
    engine: Engine
    db_sessions: sessionmaker[Session]
    passwords: Passwords
    tokens: AccessTokens
    limiter: RateLimiter
    clock: Callable[[], dt.datetime]
    oauth: object  # sync_server.oauth.OAuthService; typed loosely to keep this module free of Authlib
    models: ModelRunner  # the ranked AI opponents, loaded once per process
    signer: Signer  # signs ranked session records
    db_writers: sessionmaker[Session]  # sessions whose transactions write (db.writer_factory)
    content_store: ContentStore  # published pack and model files (disk or S3)
    crowd_cache: PackStatsCache = field(default_factory=PackStatsCache)  # this process's pack statistics
    board_reads: Engine | None = None  # the engine board reads run on (main.py, api/board_pages.py); None: `engine`


async def get_app_state(request: Request) -> AppState:  # async: no threadpool hop
    return request.app.state.app_state


AppStateDep = Annotated[AppState, Depends(get_app_state)]


def get_session(request: Request, app_state: AppStateDep) -> Iterator[Session]:
    """One session per request; a request that may write runs its transactions as writers.

    A writer's transaction takes SQLite's write lock when it begins (see db.py), and it begins at the first query,
    not here: work before that, and work after a commit (password hashing, see `hash_outside_transaction`), holds
    no lock and no connection.
    """
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    with (app_state.db_writers if writes else app_state.db_sessions)() as session:
        yield session


def hash_outside_transaction(session: Session, passwords: Passwords, password: str) -> str:
    """argon2 with no transaction open: what the request read so far is committed (it changed nothing) first.

    Raises:
        PasswordHashingBusy: too many hashes in flight (503 with Retry-After).
    """
    session.commit()
    return passwords.hash(password)


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/v1/auth/login, /register, /guest, /refresh or the OAuth token exchange.",
)
CREDENTIALS_ERROR = HTTPException(
    status.HTTP_401_UNAUTHORIZED, "Could not validate credentials", headers={"WWW-Authenticate": "Bearer"}
)


def too_many_requests(wait: float) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, "Too many requests", headers={"Retry-After": str(int(wait + 0.999))}
    )


def get_token_subject(
    app_state: AppStateDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """The account's public id from a valid access token (no database query); 401 otherwise."""
    return token_subject(app_state, credentials.credentials if credentials else None)


def token_subject(app_state: AppState, token: str | None) -> str:
    """The account's public id in a valid access token; 401 for none or an invalid or expired one."""
    if token is None:
        raise CREDENTIALS_ERROR
    try:
        return app_state.tokens.subject(token, now=app_state.clock())
    except InvalidTokenError:
        raise CREDENTIALS_ERROR from None


TokenSubject = Annotated[str, Depends(get_token_subject)]


def _account_budget(app_state: AppState, public_id: str) -> tuple[str, int, int]:
    limits = app_state.settings.rate_limits
    return f"account:{public_id}", limits.per_account, limits.window_s


def count_account_request(app_state: AppState, public_id: str) -> None:
    """One request against the account's budget; 429 past it."""
    wait = app_state.limiter.hit(*_account_budget(app_state, public_id))
    if wait is not None:
        raise too_many_requests(wait)


async def count_account_request_from_loop(app_state: AppState, public_id: str) -> None:
    """`count_account_request` for a caller on the event loop (a count that writes runs on a worker thread)."""
    wait = await app_state.limiter.hit_from_loop(*_account_budget(app_state, public_id))
    if wait is not None:
        raise too_many_requests(wait)


def get_current_user(app_state: AppStateDep, session: SessionDep, public_id: TokenSubject) -> User:
    """The signed-in, active user; 401 for a missing, invalid or expired token; 429 past the account's limit.

    The limit is counted before the account is read: counting writes in a transaction of its own, which on SQLite
    must not wait for a write lock this request's session already holds.
    """
    count_account_request(app_state, public_id)
    user = user_by_public_id(session=session, public_id=public_id)
    if user is None or not user.is_active:
        raise CREDENTIALS_ERROR
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def optional_user(
    app_state: AppStateDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The signed-in user when a token is sent (and valid), else None."""
    if credentials is None:
        return None
    return get_current_user(app_state, session, get_token_subject(app_state, credentials))


OptionalUser = Annotated[User | None, Depends(optional_user)]


def auth_rate_limit(request: Request, app_state: AppStateDep) -> None:
    """The stricter per-IP budget of the sign-in endpoints (password guessing, account farming)."""
    limits = app_state.settings.rate_limits
    wait = app_state.limiter.hit(f"auth:{client_ip(request.scope)}", limits.auth_per_ip, limits.window_s)
    if wait is not None:
        raise too_many_requests(wait)


AuthRateLimit = Depends(auth_rate_limit)


def login_rate_limit(app_state: AppState, email: str) -> None:
    """Password guesses at one account, from any number of addresses and workers (429 past the limit).

    Keyed by a digest of the email, whether or not an account has it: the answer does not tell which emails exist,
    and the counters hold no emails.
    """
    limits = app_state.settings.rate_limits
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]
    wait = app_state.limiter.hit(f"login:{digest}", limits.login_per_account, limits.window_s)
    if wait is not None:
        raise too_many_requests(wait)


def account_rate_limit(bucket: str, limit_of: Callable[[Settings], int]) -> Callable[..., None]:
    """A dependency counting the signed-in account's requests in a named bucket (uploads, ranked starts).

    Give it in the route's `dependencies=`: those run before the endpoint's, so before any query (see
    `get_current_user` for why counting comes first).
    """

    def check(public_id: TokenSubject, app_state: AppStateDep) -> None:
        limits = app_state.settings.rate_limits
        wait = app_state.limiter.hit(f"{bucket}:{public_id}", limit_of(app_state.settings), limits.window_s)
        if wait is not None:
            raise too_many_requests(wait)

    return check


def any_query(endpoint: Callable) -> Callable:
    """Marks a route that takes whatever query parameters a third party sends (the OAuth provider callback)."""
    endpoint.accepts_any_query = True  # type: ignore[attr-defined]
    return endpoint


_declared_query: dict[int, frozenset[str]] = {}  # per route, filled on first use


def _query_names(dependant) -> Iterator[str]:  # noqa: ANN001 - fastapi's Dependant
    yield from (param.alias for param in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)


async def reject_unknown_query(request: Request) -> None:  # async: no threadpool hop
    """422 for a query parameter the route does not declare: a typo (`?limt=5`) is an error, not ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or getattr(route.endpoint, "accepts_any_query", False):
        return
    allowed = _declared_query.get(id(route))
    if allowed is None:
        allowed = _declared_query[id(route)] = frozenset(_query_names(dependant))
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", unknown[0]),
                    "type": "extra_forbidden",
                    "msg": f"Unknown query parameter; this endpoint takes: {expected}",
                }
            ]
        )


StrictQuery = Depends(reject_unknown_query)
