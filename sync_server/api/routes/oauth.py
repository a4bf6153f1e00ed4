"""OAuth sign-in through the system browser (authorization code + PKCE, loopback redirect; see sync_server.oauth)."""

from __future__ import annotations

import html
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from sync_server.api.deps import AppStateDep, AuthRateLimit, OptionalUser, SessionDep, any_query
from sync_server.api.errors import responses
from sync_server.api.routes.auth import sign_in
from sync_server.errors import ServiceError
from sync_server.oauth import CallbackError, OAuthService
from sync_server.oauth_providers import PROVIDERS
from sync_server.schemas.accounts import TokenPair
from sync_server.schemas.oauth import OAuthProviderPublic, OAuthStart, OAuthStarted, OAuthTokenRequest

router = APIRouter(prefix="/auth/oauth", tags=["oauth"])
ProviderName = Annotated[str, Path(pattern=f"^({'|'.join(PROVIDERS)})$", description="e.g. github")]
MAX_FORM_BYTES = 16 * 1024
_CALLBACK_RESPONSES: dict[int | str, dict] = {
    303: {"description": "To the app's loopback redirect, with `code` and `state` (or `error` and `state`)."},
    400: {
        "description": "The sign-in cannot be returned to any app (unknown, used or expired state).",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    **responses(429),
}


def _oauth(app_state: AppStateDep) -> OAuthService:
    return app_state.oauth  # type: ignore[return-value]  # AppState keeps it loosely typed


@router.get("/providers", responses=responses(429))
def list_providers(app_state: AppStateDep) -> list[OAuthProviderPublic]:
    """The sign-in providers this server has enabled (show one button each)."""
    return [OAuthProviderPublic(name=spec.name, title=spec.title) for spec in _oauth(app_state).enabled()]


@router.post(
    "/{provider}/start",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AuthRateLimit],
    responses=responses(401, 404, 413, 422, 429),
)
def start(
    provider: ProviderName, body: OAuthStart, user: OptionalUser, app_state: AppStateDep, session: SessionDep
) -> OAuthStarted:
    """Begin a sign-in: open the returned URL in the system browser and wait on `redirect_uri`.

    With a bearer token the provider is linked to the signed-in account instead (a guest is thereby upgraded and
    keeps its history). The browser comes back to `redirect_uri` with `code` and your `state` (or `error`);
    exchange the code at `/auth/oauth/token`.
    """
    url, lifetime = _oauth(app_state).start(
        session=session,
        provider=provider,
        redirect_uri=body.redirect_uri,
        state=body.state,
        code_challenge=body.code_challenge,
        link_user=user,
        now=app_state.clock(),
    )
    return OAuthStarted(authorization_url=url, expires_in=lifetime)


def _finish_callback(app_state: AppStateDep, provider: str, params: dict[str, str]) -> Response:
    try:
        target = _oauth(app_state).callback(
            db_sessions=app_state.db_sessions, provider=provider, params=params, now=app_state.clock()
        )
    except CallbackError as exc:
        return _page(str(exc), status.HTTP_400_BAD_REQUEST)
    except ServiceError as exc:  # the provider was disabled since the flow started
        return _page(exc.detail, exc.status)
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


def _page(message: str, status_code: int) -> HTMLResponse:
    body = (
        f"<!doctype html><meta charset=utf-8><title>EyeVsAI sign-in</title><h1>Sign-in failed</h1>"
        f"<p>{html.escape(message)} Start again from the EyeVsAI app.</p>"
    )
    return HTMLResponse(body, status_code=status_code)


@router.get(
    "/{provider}/callback", response_class=HTMLResponse, responses=_CALLBACK_RESPONSES, dependencies=[AuthRateLimit]
)
@any_query
def callback(provider: ProviderName, request: Request, app_state: AppStateDep) -> Response:
    """Where the provider sends the browser back (register this URL at the provider). Not called by apps."""
    params = {key: value for key, value in request.query_params.items() if len(value) <= 2048}
    return _finish_callback(app_state, provider, params)


@router.post(
    "/{provider}/callback", response_class=HTMLResponse, responses=_CALLBACK_RESPONSES, dependencies=[AuthRateLimit]
)
@any_query
async def callback_form(provider: ProviderName, request: Request, app_state: AppStateDep) -> Response:
    """The same, for providers that post the result as a form (Apple's `response_mode=form_post`)."""
    body = await request.body()
    params: dict[str, str] = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        try:
            params = dict(parse_qsl(body[:MAX_FORM_BYTES].decode("utf-8"), max_num_fields=20))
        except (UnicodeDecodeError, ValueError):
            params = {}
    return await run_in_threadpool(_finish_callback, app_state, provider, params)


@router.post("/token", dependencies=[AuthRateLimit], responses=responses(400, 409, 413, 422, 429))
def token(body: OAuthTokenRequest, app_state: AppStateDep, session: SessionDep) -> TokenPair:
    """Exchange the one-time sign-in code and your PKCE verifier for an access and a refresh token."""
    user, family = _oauth(app_state).redeem(
        session=session,
        code=body.code,
        code_verifier=body.code_verifier,
        redirect_uri=body.redirect_uri,
        now=app_state.clock(),
    )
    return sign_in(app_state, session, user, family=family)
