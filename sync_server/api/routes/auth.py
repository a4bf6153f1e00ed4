"""Sign-up, sign-in, guests, token refresh and logout; password reset and the pages mailed links open."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, BackgroundTasks, status
from sqlalchemy.orm import Session

from sync_server import account_tokens, accounts
from sync_server.api.deps import (
    AppState,
    AppStateDep,
    AuthRateLimit,
    CurrentUser,
    SessionDep,
    hash_outside_transaction,
    login_rate_limit,
)
from sync_server.api.errors import http_error, responses
from sync_server.api.routes.mail_pages import router as mail_pages_router
from sync_server.mail import mailer_for
from sync_server.models import User
from sync_server.schemas.accounts import (
    Accepted,
    GuestRequest,
    LoginRequest,
    PasswordResetRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UpgradeRequest,
    UserPublic,
    clean_display_name,
)

router = APIRouter(prefix="/auth", tags=["auth"])
router.include_router(mail_pages_router)
RESET_ACCEPTED = Accepted(detail="If an account signs in with this email, a link to reset its password is on its way.")


def sign_in(app_state: AppState, session: Session, user: User, *, family: str | None = None) -> TokenPair:
    """A fresh token pair for `user` (one refresh-token family per sign-in unless `family` continues one)."""
    return accounts.issue_tokens(
        session=session,
        user=user,
        tokens=app_state.tokens,
        refresh_days=app_state.settings.refresh_token_days,
        family=family,
        now=app_state.clock(),
    )


def mail_email_confirmation(
    app_state: AppState, session: Session, background: BackgroundTasks, user: User, email: str
) -> None:
    """Ask for `email` on `user`'s account and mail the link (or the holder's notice) after the response."""
    outgoing = account_tokens.request_email(
        session=session, user=user, email=email, public_url=app_state.settings.public_url, now=app_state.clock()
    )
    background.add_task(mailer_for(app_state.settings).deliver, outgoing)


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, dependencies=[AuthRateLimit], responses=responses(429, 503)
)
def register(
    body: RegisterRequest, app_state: AppStateDep, session: SessionDep, background: BackgroundTasks
) -> TokenPair:
    """Create an account and sign it in on this device.

    The email signs in elsewhere once it is confirmed with the link mailed to it. The answer is the same whether
    or not another account holds the address (its holder is mailed a notice instead), so it tells nobody which
    addresses have accounts.
    """
    password_hash = hash_outside_transaction(session, app_state.passwords, body.password)
    name = body.display_name or clean_display_name(body.email.split("@")[0]) or f"Player-{secrets.token_hex(3)}"
    user = accounts.create_user(session=session, password_hash=password_hash, display_name=name)
    mail_email_confirmation(app_state, session, background, user, body.email)
    return sign_in(app_state, session, user)


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
    return sign_in(app_state, session, user)


@router.post("/guest", status_code=status.HTTP_201_CREATED, dependencies=[AuthRateLimit], responses=responses(429))
def guest(body: GuestRequest, app_state: AppStateDep, session: SessionDep) -> TokenPair:
    """Create a guest (device) account and sign in; upgrade it later without losing its history."""
    user = accounts.create_user(session=session, display_name=body.display_name or accounts.guest_name(), is_guest=True)
    return sign_in(app_state, session, user)


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
def upgrade(
    body: UpgradeRequest, user: CurrentUser, app_state: AppStateDep, session: SessionDep, background: BackgroundTasks
) -> UserPublic:
    """Give the signed-in guest account a password and an email to confirm; its sessions and boards stay its own.

    Like registering, the answer does not depend on whether another account holds the address.
    """
    password_hash = hash_outside_transaction(session, app_state.passwords, body.password)
    try:
        user = accounts.upgrade_guest(
            session=session,
            user=user,
            password_hash=password_hash,
            display_name=body.display_name,
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None
    mail_email_confirmation(app_state, session, background, user, body.email)
    return accounts.user_public(user)


@router.post(
    "/password-reset", status_code=status.HTTP_202_ACCEPTED, dependencies=[AuthRateLimit], responses=responses(429)
)
def request_password_reset(
    body: PasswordResetRequest, app_state: AppStateDep, session: SessionDep, background: BackgroundTasks
) -> Accepted:
    """Mail a password-reset link to the account signing in with this email (the same answer for any address)."""
    outgoing = account_tokens.request_password_reset(
        session=session, email=body.email, public_url=app_state.settings.public_url, now=app_state.clock()
    )
    if outgoing is not None:
        background.add_task(mailer_for(app_state.settings).deliver, outgoing)
    return RESET_ACCEPTED
