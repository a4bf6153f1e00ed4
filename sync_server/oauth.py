"""OAuth sign-in (placeholder until the flow lands)."""

from __future__ import annotations

from sync_server.settings import Settings


class OAuthService:
    def __init__(self, settings: Settings, *, http_client: object | None = None) -> None:
        self.settings = settings
        self.http_client = http_client
