"""The online side as the composition root builds it: settings, the sign-in's tokens, the HTTP client, the outbox.

With no server set, `client` and `tokens` are None and nothing can reach the network. Changing the server or the
sign-in goes through here, so the settings file always says what the game shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx

from desktop.services.online.client import ServerClient
from desktop.services.online.outbox import Outbox, SyncStatus, drain
from desktop.services.online.settings import Account, OnlineSettings, read_settings, write_settings
from desktop.services.online.tokens import TokenStorage, TokenStore
from desktop.services.store import Store


class OnlineConnection:
    """Owned by the store's thread; `client` may be used from any thread."""

    def __init__(
        self,
        data_dir: Path,
        store: Store,
        *,
        keyring_backend: object = None,
        transport_factory: Callable[[], httpx.BaseTransport | None] = lambda: None,
    ) -> None:
        """keyring_backend and transport_factory are for tests (an in-memory keyring, a mock transport)."""
        self.data_dir = data_dir
        self.store = store
        self.outbox = Outbox(store, share_answers=lambda: self.settings.share_crowd_answers)
        self._keyring_backend = keyring_backend
        self._transport_factory = transport_factory
        self.settings = read_settings(data_dir)
        self.tokens: TokenStore | None = None
        self.client: ServerClient | None = None
        self._retired: list[ServerClient] = []
        self._connect()

    def _connect(self) -> None:
        if self.client is not None:
            # Closed at the end, not now: a worker may still be using it (a sync that started before the change).
            self._retired.append(self.client)
        self.tokens = self.client = None
        url = self.settings.server_url
        if url is None:
            return
        self.tokens = TokenStore(
            url, self.data_dir, file_allowed=self.settings.token_file_allowed, backend=self._keyring_backend
        )
        self.client = ServerClient(url, self.tokens, transport=self._transport_factory())

    def _save(self, settings: OnlineSettings) -> None:
        write_settings(self.data_dir, settings)
        self.settings = settings

    # -- state -------------------------------------------------------------------------------------------------------
    @property
    def is_offline(self) -> bool:
        return self.client is None

    @property
    def account(self) -> Account | None:
        return self.settings.account

    @property
    def is_signed_in(self) -> bool:
        return self.settings.account is not None

    def token_storage(self) -> TokenStorage | None:
        """Where the sign-in is kept (asks the keyring once; call it off the GUI thread the first time)."""
        return self.tokens.storage if self.tokens is not None else None

    def sync_status(self) -> SyncStatus:
        return self.outbox.status()

    # -- changes -----------------------------------------------------------------------------------------------------
    def set_server(self, url: str | None) -> None:
        """Point the game at another server (None: offline). Raises OnlineSettingsError for a bad address."""
        settings = self.settings.with_server(url)
        if settings == self.settings:
            return
        self._save(settings)
        self._connect()
        self.outbox.retry_now()

    def allow_token_file(self, allowed: bool) -> None:
        self._save(replace(self.settings, token_file_allowed=allowed))
        if self.tokens is not None:
            self.tokens.allow_file(allowed)

    def share_crowd_answers(self, shared: bool) -> None:
        """Opt in (or out) to sending offline rounds to the crowd statistics; read when each session uploads."""
        if shared != self.settings.share_crowd_answers:
            self._save(replace(self.settings, share_crowd_answers=shared))

    def signed_in(self, account: Account) -> None:
        """Remember who signed in (the tokens are already stored) and send waiting sessions at once."""
        self._save(replace(self.settings, account=account))
        self.outbox.retry_now()

    def signed_out(self, *, forget_tokens: bool = True) -> None:
        """Forget the account shown (after client.sign_out, or when the server no longer accepts the sign-in).

        forget_tokens=False when a worker already cleared them (the keyring may block; the GUI thread skips it).
        """
        if forget_tokens and self.tokens is not None:
            self.tokens.clear()
        self._save(replace(self.settings, account=None))

    def pinned_ranked_key(self) -> dict[str, str] | None:
        """The ranked signing key pinned for the current server (trust on first use), or None."""
        pins = self.settings.extra.get("ranked_keys")
        pin = pins.get(self.settings.server_url or "") if isinstance(pins, dict) else None
        return pin if isinstance(pin, dict) else None

    def pin_ranked_key(self, key: dict[str, str]) -> None:
        """Pin the current server's ranked signing key ({key_id, public_key}) the first time the game sees it."""
        pins = dict(self.settings.extra.get("ranked_keys") or {})
        pins[self.settings.server_url or ""] = {"key_id": key["key_id"], "public_key": key["public_key"]}
        self._save(replace(self.settings, extra={**self.settings.extra, "ranked_keys": pins}))

    def sync(self) -> SyncStatus:
        """Upload every due session now, on this thread (`eyevsai sync`)."""
        if self.client is None:
            return self.outbox.status()
        return drain(self.outbox, self.client)

    def close(self) -> None:
        for client in [*self._retired, *([self.client] if self.client else [])]:
            client.close()
        self._retired.clear()
