"""The game's online settings, a small JSON file in the user data folder: which server, and who is signed in.

The default is no server: the game is fully offline and makes no network call. Secrets never go in this file;
the refresh token lives in the OS keyring (see tokens.py). The account kept here is for display only (the name
on the home screen before any network call).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from classifiers.errors import EyeVsAIError

SETTINGS_FILE = "online.json"


class OnlineSettingsError(EyeVsAIError):
    """A server address that cannot be used."""


@dataclass(frozen=True)
class Account:
    """The signed-in account as the server describes it (UserPublic)."""

    id: str
    display_name: str
    is_guest: bool
    email: str | None = None
    providers: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Account:
        return cls(
            id=str(obj["id"]),
            display_name=str(obj["display_name"]),
            is_guest=bool(obj.get("is_guest")),
            email=obj.get("email"),
            providers=tuple(obj.get("providers") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "providers": list(self.providers)}

    @property
    def label(self) -> str:
        kind = "guest" if self.is_guest else (self.email or ", ".join(self.providers) or "account")
        return f"{self.display_name} ({kind})"


@dataclass(frozen=True)
class OnlineSettings:
    """server_url None means offline. token_file_allowed: the player agreed to a token file when no keyring works.
    share_crowd_answers: the player opted in to sending offline answers to the crowd statistics (off by default)."""

    server_url: str | None = None
    token_file_allowed: bool = False
    share_crowd_answers: bool = False
    account: Account | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys written by newer versions, kept as they are

    @property
    def is_offline(self) -> bool:
        return self.server_url is None

    def with_server(self, url: str | None) -> OnlineSettings:
        """Another server forgets the account shown (the sign-in belongs to the old server)."""
        url = normalise_server_url(url)
        return self if url == self.server_url else replace(self, server_url=url, account=None)


def normalise_server_url(text: str | None) -> str | None:
    """'' or None → None (offline); otherwise an http(s) URL without a trailing slash.

    Raises:
        OnlineSettingsError: not an http:// or https:// address with a host.
    """
    text = (text or "").strip()
    if not text or text.lower() in ("none", "offline"):
        return None
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise OnlineSettingsError(
            f"The server address {text!r} is not a URL ({exc}). Use one like https://eyevsai.example.org."
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise OnlineSettingsError(
            f"The server address {text!r} is not an http(s) URL. "
            "Use one like https://eyevsai.example.org or http://127.0.0.1:8000."
        )
    return text.rstrip("/")


def read_settings(data_dir: Path) -> OnlineSettings:
    """The saved settings; defaults (offline) when the file is missing or unreadable (never an error at start)."""
    path = data_dir / SETTINGS_FILE
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        account = obj.get("account")
        known = {"server_url", "token_file_allowed", "share_crowd_answers", "account"}
        return OnlineSettings(
            server_url=normalise_server_url(obj.get("server_url")),
            token_file_allowed=bool(obj.get("token_file_allowed", False)),
            share_crowd_answers=obj.get("share_crowd_answers") is True,
            account=Account.from_json(account) if isinstance(account, dict) else None,
            extra={k: v for k, v in obj.items() if k not in known},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OnlineSettingsError):
        return OnlineSettings()


def write_settings(data_dir: Path, settings: OnlineSettings) -> None:
    """Replace the settings file atomically (a crash leaves the old or the new file, never half of one)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SETTINGS_FILE
    obj = {
        **settings.extra,
        "server_url": settings.server_url,
        "token_file_allowed": settings.token_file_allowed,
        "share_crowd_answers": settings.share_crowd_answers,
        "account": settings.account.to_json() if settings.account else None,
    }
    tmp = path.with_name(f".{SETTINGS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
