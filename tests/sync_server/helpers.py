"""Test helpers for the server: a synchronous client over the ASGI app, a settable clock, sign-up shortcuts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal

from sync_server.api.deps import AppState


class FakeClock:
    """The server's clock in tests: a fixed UTC time that tests move forward."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class ApiClient:
    """httpx against the app in-process (ASGI transport), driven synchronously through an anyio portal."""

    def __init__(self, app: Any, app_state: AppState, *, raise_app_exceptions: bool = True) -> None:
        """`raise_app_exceptions=False` answers a server bug with the 500 a real client would see."""
        self.app = app
        self.app_state = app_state
        self.mailbox: Any = None  # tests.helpers.smtp_sink.SmtpSink the server mails to, when it has one
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self._portal.call(lambda: self._client.request(method, url, headers=headers, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def close_client(self) -> None:
        """Stops the in-process client and its event loop, with the board reads' pool (the app's shutdown does it
        in a server); the databases stay open."""
        from sync_server.api.board_pages import board_pages

        self._portal.call(board_pages(self.app.state).close)
        self._portal.call(self._client.aclose)
        self._portal_cm.__exit__(None, None, None)

    def close(self) -> None:
        self.close_client()
        self.app_state.engine.dispose()
        if self.app_state.board_reads is not None:
            self.app_state.board_reads.dispose()

    # Shortcuts used across the tests.
    def register(
        self, email: str = "ada@example.org", password: str = "correct horse", *, confirm: bool = True, **extra: Any
    ) -> dict:
        """A new account, signed in; `confirm`: its email confirmed from the mail (so it can sign in elsewhere)."""
        response = self.post("/api/v1/auth/register", json={"email": email, "password": password, **extra})
        assert response.status_code == 201, response.text
        if confirm:
            self.confirm_email(email.strip().lower())
        return response.json()

    def confirm_email(self, address: str) -> httpx.Response:
        """Post the confirmation form of the newest link mailed to `address` (needs `mailbox`, an SmtpSink)."""
        assert self.mailbox is not None, "this client's server has no SMTP sink"
        token = self.mailbox.last_token(address, "verify-email")
        response = self.post("/api/v1/auth/mail/verify-email", data={"token": token})
        assert response.status_code == 200, response.text
        return response

    def guest(self, **extra: Any) -> dict:
        response = self.post("/api/v1/auth/guest", json=extra)
        assert response.status_code == 201, response.text
        return response.json()


# --- ranked data: the bundled pack and models with made-up labels and prediction tables -------------------------


def bundled_pack_dir():
    from classifiers.locations import bundled_assets_dir

    return bundled_assets_dir() / "packs" / "fashion-mnist"


def bundled_model_dirs():
    from classifiers.locations import bundled_assets_dir

    return sorted((bundled_assets_dir() / "models").glob("fashion-mnist-*"))


def fake_labels(pack, count: int) -> dict[str, str]:
    """Deterministic stand-in labels for the first `count` ranked images (the real ones live with the trainer)."""
    shas = sorted(e.sha256 for e in pack.splits["ranked"])[:count]
    return {sha: pack.classes[int(sha[:8], 16) % len(pack.classes)] for sha in shas}


def import_bundled(app_state: AppState, *, images: int = 30, models: tuple[str, ...] | None = None) -> dict[str, str]:
    """Make the bundled pack playable in ranked mode on the app's database (its images and its real models, which
    the server runs on every served variant); returns the labels used (pack image sha256 → label)."""
    from classifiers.card import ONNX_FILE, read_card
    from classifiers.pack import open_pack
    from sync_server.catalog import import_ranked

    pack = open_pack(bundled_pack_dir())
    labels = fake_labels(pack, images)
    dirs = [d for d in bundled_model_dirs() if models is None or d.name in models]
    with app_state.db_sessions() as session:
        import_ranked(
            session=session,
            pack=pack,
            labels=labels,
            models=[(read_card(d), (d / ONNX_FILE).read_bytes()) for d in dirs],
        )
    return labels


def round_truth(app_state: AppState, session_id: str, number: int) -> str:
    """What a perfect bot knows: the truth of a dealt round (read from the server's database, the strongest
    possible lookup: better than any nearest-neighbour search on the variant)."""
    from sqlalchemy import select

    from sync_server.models import GameSession, SessionRound

    with app_state.db_sessions() as session:
        game_id = session.scalar(select(GameSession.id).where(GameSession.public_id == session_id))
        return session.get(SessionRound, (game_id, number)).truth
