"""Sign-up, sign-in, guests, token refresh and logout."""

from __future__ import annotations

from fastapi import APIRouter, status

from sync_server import accounts
from sync_server.api.deps import (
    AppStateDep,
    AuthRateLimit,
    CurrentUser,
    SessionDep,
    hash_outside_transaction,
    login_rate_limit,
)
from sync_server.api.errors import http_error, responses
from sync_server.schemas.accounts import (
    GuestRequest,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UpgradeRequest,
    UserPublic,
)

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AuthRateLimit],
    responses=responses(409, 429, 503),
)
def register(body: RegisterRequest, app_state: AppStateDep, session: SessionDep) -> TokenPair:
    """Create an email account and sign in."""
    password_hash = hash_outside_transaction(session, app_state.passwords, body.password)
    if accounts.email_taken(session=session, email=body.email):
        raise http_error(accounts.AccountError(409, "Email already registered"))
    try:
        user = accounts.create_user(
            session=session,
            email=body.email,
            password_hash=password_hash,
            display_name=body.display_name or body.email.split("@")[0][:40],
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None
    return accounts.issue_tokens(
        session=session,
        user=user,
        tokens=app_state.tokens,
        refresh_days=app_state.settings.refresh_token_days,
        now=app_state.clock(),
    )


@router.post("/login", dependencies=[AuthRateLimit], responses=responses(401, 429, 503))
def login(body: LoginRequest, app_state: AppStateDep, session: SessionDep) -> TokenPair:
    """Sign in with email and password."""
    login_rate_limit(app_state, body.email)
    try:
        user = accounts.authenticate(
            session=session, passwords=app_state.passwords, email=body.email, password=body.password
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None
    return accounts.issue_tokens(
        session=session,
        user=user,
        tokens=app_state.tokens,
        refresh_days=app_state.settings.refresh_token_days,
        now=app_state.clock(),
    )


@router.post("/guest", status_code=status.HTTP_201_CREATED, dependencies=[AuthRateLimit], responses=responses(429))
def guest(body: GuestRequest, app_state: AppStateDep, session: SessionDep) -> TokenPair:
    """Create a guest (device) account and sign in; upgrade it later without losing its history."""
    user = accounts.create_user(session=session, display_name=body.display_name or accounts.guest_name(), is_guest=True)
    return accounts.issue_tokens(
        session=session,
        user=user,
        tokens=app_state.tokens,
        refresh_days=app_state.settings.refresh_token_days,
        now=app_state.clock(),
    )


@router.post("/refresh", dependencies=[AuthRateLimit], responses=responses(401, 429))
def refresh(body: RefreshRequest, app_state: AppStateDep, session: SessionDep) -> TokenPair:
    """Exchange a refresh token for a new access token and a new refresh token (the old one is spent)."""
    try:
        return accounts.rotate_refresh_token(
            session=session,
            refresh_token=body.refresh_token,
            tokens=app_state.tokens,
            refresh_days=app_state.settings.refresh_token_days,
            now=app_state.clock(),
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AuthRateLimit], responses=responses(429))
def logout(body: RefreshRequest, session: SessionDep) -> None:
    """Revoke this sign-in (the refresh token and every token rotated from the same sign-in)."""
    accounts.logout(session=session, refresh_token=body.refresh_token)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=responses(401, 429))
def logout_all(user: CurrentUser, session: SessionDep) -> None:
    """Revoke every refresh token of the signed-in account (all devices)."""
    accounts.logout_everywhere(session=session, user=user)


@router.post("/upgrade", responses=responses(401, 409, 429, 503))
def upgrade(body: UpgradeRequest, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> UserPublic:
    """Give the signed-in guest account an email and password; its sessions and boards stay its own."""
    password_hash = hash_outside_transaction(session, app_state.passwords, body.password)
    try:
        user = accounts.upgrade_guest(
            session=session,
            user=user,
            email=body.email,
            password_hash=password_hash,
            display_name=body.display_name,
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None
    return accounts.user_public(user)
