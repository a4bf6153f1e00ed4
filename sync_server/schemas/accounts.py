"""Account, sign-in and token bodies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from sync_server.schemas.common import AnyPassword, DisplayName, Email, OpaqueToken, Password, StrictBody


class UserPublic(BaseModel):
    id: str = Field(description="The account's public id (a UUID).")
    display_name: str
    email: str | None
    is_guest: bool
    providers: list[str] = Field(description="OAuth providers linked to the account.")
    created_at: dt.datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str = Field(
        description="Single use: each refresh returns a new one. Retrying with the previous "
        "one works while the new one is unused (a lost response); any other "
        "reuse signs out every device of that sign-in."
    )
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    user: UserPublic


class RegisterRequest(StrictBody):
    email: Email
    password: Password
    display_name: DisplayName | None = None


class LoginRequest(StrictBody):
    email: Email
    password: AnyPassword


class GuestRequest(StrictBody):
    display_name: DisplayName | None = None


class RefreshRequest(StrictBody):
    refresh_token: OpaqueToken


class UpgradeRequest(StrictBody):
    """Turns the signed-in guest account into an email account; its history stays."""

    email: Email
    password: Password
    display_name: DisplayName | None = None


class UserUpdate(StrictBody):
    """Changing the email or the password needs the current password (guests upgrade instead)."""

    display_name: DisplayName | None = None
    email: Email | None = None
    new_password: Password | None = None
    current_password: AnyPassword | None = None
