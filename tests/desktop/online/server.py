"""The real sync server on a loopback port for the game's online tests, and ways to hold an upload mid-flight.

The server runs with uvicorn in a thread of the test process on 127.0.0.1:<free port>, with its own SQLite file,
the bundled pack made playable in ranked mode (every ranked image with stand-in labels, the bundled models) and,
when asked, fake OAuth providers from the server's tests. Its clock is the real one plus an offset that tests move
forward, so that ranked answers take a human time without the tests sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from sync_server.main import build_app_state, create_app
from sync_server.models import GameSession
from sync_server.settings import Argon2Params, RateLimits, Settings
from tests.helpers.smtp_sink import SmtpSink
from tests.sync_server.helpers import import_bundled

UPLOAD_PATH = "/api/v1/sessions"
FAST_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1)
RANKED_IMAGES = 1000  # the whole ranked split of the bundled pack: the game can then re-check image choices


class OffsetClock:
    """The live server's clock: real UTC time plus an offset that `advance` moves forward."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += dt.timedelta(seconds=seconds)


class UploadGate:
    """ASGI wrapper that can hold session uploads: `before` the server sees them, or `after` it stored them (the
    reply is held). `reached` is set when an upload is held; `release` lets it go on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.mode: str | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        self.uploads = 0

    def hold(self, mode: str | None) -> None:
        self.mode = mode
        self.reached.clear()
        self.release.clear()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        is_upload = scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == UPLOAD_PATH
        if is_upload:
            self.uploads += 1
        if not is_upload or self.mode is None:
            await self.app(scope, receive, send)
            return
        if self.mode == "before":
            self.reached.set()
            await asyncio.to_thread(self.release.wait, 30)
            await self.app(scope, receive, send)
            return

        async def held_send(message: dict) -> None:
            if message["type"] == "http.response.start":  # the session is committed by now
                self.reached.set()
                await asyncio.to_thread(self.release.wait, 30)
            await send(message)

        await self.app(scope, receive, held_send)


@dataclass
class LiveServer:
    url: str
    app_state: Any
    gate: UploadGate
    clock: OffsetClock
    providers: dict[str, Any] = field(default_factory=dict)
    _server: Any = None
    _thread: threading.Thread | None = None
    mailbox: SmtpSink | None = None  # the server's SMTP server: account mail lands here

    def confirm_email(self, address: str) -> None:
        """Follow the confirmation link last mailed to `address`, as its owner would (open the page, click)."""
        assert self.mailbox is not None
        token = self.mailbox.last_token(address, "verify-email")
        response = httpx.post(f"{self.url}/api/v1/auth/mail/verify-email", data={"token": token}, timeout=10)
        assert response.status_code == 200, response.text

    def copies_of(self, session_id: str) -> int:
        """How many sessions with this uuid the server's database holds."""
        with self.app_state.db_sessions() as db:
            return int(
                db.scalar(select(func.count()).select_from(GameSession).where(GameSession.public_id == session_id)) or 0
            )

    def stop(self) -> None:
        self.gate.release.set()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        for provider in self.providers.values():
            provider.stop()
        if self.mailbox is not None:
            self.mailbox.stop()
        self.app_state.engine.dispose()


def start_server(
    tmp: Path, *, oauth_providers: tuple[str, ...] = (), ranked_images: int = RANKED_IMAGES, **settings_extra: Any
) -> LiveServer:
    """Start the server on a free loopback port; the port is bound first, so fake providers can point at it.

    ranked_images: how many of the bundled pack's ranked images the server deals from (fewer: players see the same
    ones, as the crowd statistics need); settings_extra: other server settings (crowd_min_players=...)."""
    tmp.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    providers = {}
    if oauth_providers:
        from tests.sync_server.fake_provider import FakeProvider

        providers = {
            name: FakeProvider(
                name, f"{url}/api/v1/auth/oauth/{name}/callback", lambda: dt.datetime.now(dt.UTC)
            ).start()
            for name in oauth_providers
        }
    mailbox = SmtpSink().start()
    settings = Settings(
        data_dir=tmp / "server",
        database_url=f"sqlite:///{tmp / 'server.sqlite3'}",
        argon2=FAST_ARGON2,
        log_level="WARNING",
        env="test",
        public_url=url,
        rate_limits=RateLimits(
            auth_per_ip=0, per_ip=0, per_account=0, uploads_per_account=0, ranked_starts_per_account=0
        ),
        oauth={name: provider.settings() for name, provider in providers.items()},
        mail=mailbox.settings(),
        **settings_extra,
    )
    clock = OffsetClock()
    app_state = build_app_state(settings, clock=clock)
    import_bundled(app_state, images=ranked_images)
    gate = UploadGate(create_app(settings, app_state=app_state))
    server = uvicorn.Server(uvicorn.Config(gate, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="sync-server")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sync server did not start")
        time.sleep(0.02)
    return LiveServer(url, app_state, gate, clock, providers, server, thread, mailbox)
