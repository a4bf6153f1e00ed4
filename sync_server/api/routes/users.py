"""The signed-in account."""

from __future__ import annotations

from fastapi import APIRouter

from sync_server import accounts
from sync_server.api.deps import AppStateDep, CurrentUser, SessionDep
from sync_server.api.errors import http_error, responses
from sync_server.schemas.accounts import UserPublic, UserUpdate

router = APIRouter(prefix="/me", tags=["account"])


@router.get("", responses=responses(401, 429))
def read_me(user: CurrentUser) -> UserPublic:
    """The signed-in account."""
    return accounts.user_public(user)


@router.patch("", responses=responses(400, 401, 403, 409, 429))
def update_me(body: UserUpdate, user: CurrentUser, app_state: AppStateDep, session: SessionDep) -> UserPublic:
    """Change the display name; the email or password too, with the current password."""
    try:
        user = accounts.update_user(
            session=session,
            passwords=app_state.passwords,
            user=user,
            display_name=body.display_name,
            email=body.email,
            new_password=body.new_password,
            current_password=body.current_password,
        )
    except accounts.AccountError as exc:
        raise http_error(exc) from None
    return accounts.user_public(user)
