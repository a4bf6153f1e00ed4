"""Constrained field types shared by the request bodies and parameters: every string, number and time is bounded.

Strings refuse NUL (PostgreSQL cannot store it) and, where people type them, other control characters; integers
that reach the database fit its 32-bit columns; times are aware and within years 1970..9998, so converting them to
UTC can never overflow. Bad input is therefore a 422 here, never a failure deeper down.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from game_rules.scoring import DIFFICULTIES

INT32_MAX = 2**31 - 1
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(_no_nul)]
AnyPassword = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_no_nul)]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
PackId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ModelId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
Uuid = Annotated[
    str,
    StringConstraints(
        to_lower=True,
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
        r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    ),
]
OpaqueToken = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Difficulty = Annotated[str, Field(pattern=f"^({'|'.join(DIFFICULTIES)})$")]
Permille = Annotated[int, Field(ge=0, le=1000)]
DbId = Annotated[int, Field(ge=0, le=INT32_MAX)]  # a row id or anything else stored in a 32-bit column


def _utc_in_range(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must include a time zone (e.g. 2026-11-18T12:00:00Z)")
    # Checked before converting: 0001-01-01T00:00+14:00 is in year 0 in UTC, which Python cannot represent.
    if not (EARLIEST.replace(tzinfo=None) < value.replace(tzinfo=None) < LATEST.replace(tzinfo=None)):
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1}")
    return value.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_utc_in_range)]


class StrictBody(BaseModel):
    """A request body: unknown fields are refused, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Message(BaseModel):
    detail: str
