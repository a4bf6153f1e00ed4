"""Account, sign-in and token bodies, and the rules for what players may choose: display names and passwords."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, field_validator
from zxcvbn import zxcvbn

from sync_server.schemas.common import AnyPassword, DisplayName, Email, OpaqueToken, Password, StrictBody

MAX_NAME_CHARS = 40
MAX_COMBINING_RUN = 2  # accents stack two deep in real scripts (Vietnamese); "Zalgo" text stacks dozens
# zxcvbn's score: 0 < 10^3 guesses, 1 < 10^6, 2 < 10^8, 3 < 10^10. Sign-ins are rate limited per IP and per
# account, so 10^6 guesses (score 2) is out of an online attacker's reach while common and patterned passwords
# (top lists, keyboard walks, repeats, the email itself) score 0 or 1.
MIN_PASSWORD_SCORE = 2
ZXCVBN_MAX_CHARS = 72  # zxcvbn refuses longer input; the first 72 characters decide (a longer tail only helps)
# Letters that render as nothing (Hangul fillers, braille blank): category Lo/So, yet invisible on a board.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Control, format (bidi overrides, zero-width, BOM), surrogate, private-use, unassigned, line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _name_problem(char: str) -> bool:
    category = unicodedata.category(char)
    return category in _REFUSED_CATEGORIES or (category == "Zs" and char != " ")


def _is_visible(char: str) -> bool:
    return not (char.isspace() or unicodedata.category(char).startswith("M") or char in _BLANK_LETTERS)


def _combining_runs_ok(name: str) -> bool:
    run = 0
    for char in name:
        run = run + 1 if unicodedata.category(char).startswith("M") else 0
        if run > MAX_COMBINING_RUN:
            return False
    return True


def check_display_name(value: str) -> str:
    """The name as stored (NFKC, trimmed), or ValueError when it could spoof or hide on a public board.

    Refused: control and format characters (bidi overrides such as U+202E, zero-width characters, the BOM), odd
    spaces and separators, names with no visible character, and stacks of combining marks.
    """
    name = unicodedata.normalize("NFKC", value).strip()
    if any(_name_problem(char) for char in name):
        raise ValueError("Display names cannot contain control, formatting or invisible characters (e.g. U+202E)")
    if not any(_is_visible(char) for char in name):
        raise ValueError("Display names need at least one visible character")
    if not _combining_runs_ok(name):
        raise ValueError(f"Display names allow at most {MAX_COMBINING_RUN} combining marks on one letter")
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(f"Display names have at most {MAX_NAME_CHARS} characters")
    return name


def clean_display_name(raw: str) -> str:
    """A name that passes `check_display_name` made from untrusted text (an email's local part, a provider's
    name), or "" when nothing visible is left: the caller then picks a generated name."""
    name = "".join(char for char in unicodedata.normalize("NFKC", raw) if not _name_problem(char))
    kept: list[str] = []
    for char in name:  # drop combining marks beyond the allowed stack
        kept.append(char)
        if not _combining_runs_ok("".join(kept[-MAX_COMBINING_RUN - 1 :])):
            kept.pop()
    name = " ".join("".join(kept).split())[:MAX_NAME_CHARS].strip()
    return name if any(_is_visible(char) for char in name) else ""


def check_password(password: str, *context: str | None) -> str:
    """`password`, or ValueError saying why it is too easy to guess. `context`: the email and name to count as
    known to an attacker."""
    inputs = [part for value in context if value for part in (value, *value.replace("@", " ").split())]
    verdict = zxcvbn(password[:ZXCVBN_MAX_CHARS], user_inputs=inputs)
    if verdict["score"] >= MIN_PASSWORD_SCORE:
        return password
    warning = verdict["feedback"].get("warning") or "This password is too easy to guess."
    raise ValueError(
        f"{warning.rstrip('.')}. Choose a less common password: a few unrelated words, or 12+ mixed characters."
    )


PlayerName = Annotated[DisplayName, AfterValidator(check_display_name)]


class UserPublic(BaseModel):
    id: str = Field(description="The account's public id (a UUID).")
    display_name: str
    email: str | None = Field(
        description="The sign-in email; until it is confirmed, the address waiting for confirmation."
    )
    email_verified: bool = Field(False, description="Whether `email` is confirmed (only then can it sign in).")
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


class _NewPassword(StrictBody):
    """A body choosing a password: it must not be common or guessable from the email and name."""

    @field_validator("password", "new_password", check_fields=False)
    @classmethod
    def _hard_to_guess(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return check_password(value, info.data.get("email"), info.data.get("display_name"))


class RegisterRequest(_NewPassword):
    """Creates an account and signs it in on this device; the email signs in elsewhere once confirmed."""

    email: Email
    display_name: PlayerName | None = None
    password: Password


class LoginRequest(StrictBody):
    email: Email
    password: AnyPassword


class GuestRequest(StrictBody):
    display_name: PlayerName | None = None


class RefreshRequest(StrictBody):
    refresh_token: OpaqueToken


class UpgradeRequest(_NewPassword):
    """Turns the signed-in guest account into an email account; its history stays."""

    email: Email
    display_name: PlayerName | None = None
    password: Password


class UserUpdate(_NewPassword):
    """Changing the email or the password needs the current password (guests upgrade instead)."""

    display_name: PlayerName | None = None
    email: Email | None = None
    new_password: Password | None = None
    current_password: AnyPassword | None = None


class PasswordResetRequest(StrictBody):
    email: Email


class Accepted(BaseModel):
    """A request taken in; what happens next arrives by mail (the answer is the same whatever the address)."""

    detail: str
