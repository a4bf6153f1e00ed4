"""Where the sign-in lives: the refresh token in the OS keyring (`keyring`), the access token only in memory.

When no keyring backend works (a headless Linux machine has only `keyring.backends.fail`; a locked or broken
Secret Service raises), the store never crashes and never writes a file on its own. It says why (`problem`) and
keeps the token in memory until the game quits, unless the player has agreed to a token file: then the token goes
to a file only their user account can read (0600), and `storage` says so, for the UI to show.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from enum import StrEnum
from pathlib import Path

KEYRING_SERVICE = "EyeVsAI"
TOKEN_FILE = "online-token.json"


class TokenStorage(StrEnum):
    keyring = "keyring"
    file = "file"  # the player's choice when no keyring works: readable by their user account only
    memory = "memory"  # no keyring, no file: signed in until the game quits


def keyring_hint() -> str:
    """What a player can do to get a working keyring."""
    if sys.platform.startswith("linux"):
        return "Install and unlock a Secret Service keyring (GNOME Keyring or KWallet) to stay signed in safely."
    return "Check that the system's credential store is available to your account."


class TokenStore:
    """The tokens of one server's sign-in; safe to use from several threads."""

    def __init__(self, server_url: str, data_dir: Path, *, file_allowed: bool = False, backend: object = None) -> None:
        """backend: a `keyring.backend.KeyringBackend`; None uses `keyring.get_keyring()` (looked up on first use)."""
        self.server_url = server_url
        self.file_path = data_dir / TOKEN_FILE
        self.file_allowed = file_allowed
        self._backend = backend
        self._lock = threading.RLock()
        self._keyring_ok: bool | None = None
        self.problem: str | None = None
        self._access: str | None = None
        self._refresh: str | None = None
        self._loaded = False

    # -- where the token goes --------------------------------------------------------------------------------------
    @property
    def _user(self) -> str:
        return f"refresh-token {self.server_url}"

    def _keyring(self):  # noqa: ANN202 - keyring.backend.KeyringBackend
        if self._backend is None:
            import keyring  # lazy: keyring (backend discovery is slow; only a signed-in player needs it)

            self._backend = keyring.get_keyring()
        return self._backend

    def _keyring_failed(self, exc: BaseException) -> None:
        from keyring.errors import NoKeyringError  # lazy: keyring

        self._keyring_ok = False
        if isinstance(exc, NoKeyringError) or type(self._backend).__module__ == "keyring.backends.fail":
            self.problem = "No system keyring was found on this computer."
        else:
            reason = str(exc).split(". ")[0][:160] or "no details"
            self.problem = f"The system keyring could not be used ({type(exc).__name__}: {reason})."

    def _probe(self) -> bool:
        """Whether the keyring answers (read once); any backend error means it does not."""
        if self._keyring_ok is None:
            try:
                self._keyring().get_password(KEYRING_SERVICE, self._user)
                self._keyring_ok = True
            except Exception as exc:  # noqa: BLE001 - backends raise KeyringError, D-Bus errors, RuntimeError...
                self._keyring_failed(exc)
        return self._keyring_ok

    @property
    def storage(self) -> TokenStorage:
        with self._lock:
            if self._probe():
                return TokenStorage.keyring
            return TokenStorage.file if self.file_allowed else TokenStorage.memory

    def allow_file(self, allowed: bool) -> None:
        """Switch the no-keyring fallback between a 0600 file and memory only (moving a held token across)."""
        with self._lock:
            token = self.refresh_token()
            self.file_allowed = allowed
            if not allowed:
                self._delete_file_token()
            if token:
                self._store_refresh(token)

    # -- tokens ------------------------------------------------------------------------------------------------------
    @property
    def access_token(self) -> str | None:
        return self._access

    def refresh_token(self) -> str | None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self._refresh = self._read_stored()
            return self._refresh

    def has_sign_in(self) -> bool:
        return self.refresh_token() is not None

    def save(self, access_token: str, refresh_token: str) -> None:
        """Keep a new token pair (the refresh token rotates on every refresh: the old one is spent)."""
        with self._lock:
            self._access, self._refresh, self._loaded = access_token, refresh_token, True
            self._store_refresh(refresh_token)

    def clear(self) -> None:
        """Forget the sign-in here (the keyring entry or the file too)."""
        with self._lock:
            self._access, self._refresh, self._loaded = None, None, True
            if self._probe():
                try:
                    self._keyring().delete_password(KEYRING_SERVICE, self._user)
                except Exception:  # noqa: BLE001, S110 - nothing stored (PasswordDeleteError) or a broken backend
                    pass
            self._delete_file_token()

    # -- storage -----------------------------------------------------------------------------------------------------
    def _read_stored(self) -> str | None:
        if self._probe():
            try:
                return self._keyring().get_password(KEYRING_SERVICE, self._user)
            except Exception as exc:  # noqa: BLE001
                self._keyring_failed(exc)
        return self._read_file().get(self.server_url) if self.file_allowed else None

    def _store_refresh(self, token: str) -> None:
        if self._probe():
            try:
                self._keyring().set_password(KEYRING_SERVICE, self._user, token)
                return
            except Exception as exc:  # noqa: BLE001 - e.g. the user dismissed the unlock prompt
                self._keyring_failed(exc)
        if self.file_allowed:
            self._write_file({**self._read_file(), self.server_url: token})

    def _read_file(self) -> dict[str, str]:
        try:
            obj = json.loads(self.file_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            {k: v for k, v in obj.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(obj, dict) else {}
        )

    def _write_file(self, tokens: dict[str, str]) -> None:
        """Written aside with mode 0600 from the start, then moved into place (never readable by others)."""
        self.file_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file_path.with_name(f".{TOKEN_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(tokens, handle)
        os.replace(tmp, self.file_path)

    def _delete_file_token(self) -> None:
        tokens = self._read_file()
        if self.server_url in tokens:
            del tokens[self.server_url]
            if tokens:
                self._write_file(tokens)
            else:
                self.file_path.unlink(missing_ok=True)
