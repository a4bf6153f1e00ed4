"""The sync server's HTTP client (httpx): timeouts, a user agent with the game's version, sign-in and token refresh.

Every call blocks; the UI runs them in workers. A call that needs the account sends the access token; when the
server answers 401 the client refreshes the token pair once (serialised across threads, since refresh tokens are
single-use) and retries once. Failures become the errors in errors.py, with messages a player can act on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any
from urllib.parse import quote

import httpx

from desktop.services.online.errors import ServerRefused, ServerUnreachable, SignInRequired
from desktop.services.online.settings import Account
from desktop.services.online.tokens import TokenStore

API = "/api/v1"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def app_version() -> str:
    try:
        return metadata.version("eyevsai")
    except metadata.PackageNotFoundError:  # a bundle without package metadata
        return "0.0.0"


def user_agent() -> str:
    return f"EyeVsAI/{app_version()} (desktop; httpx {httpx.__version__})"


def _detail(response: httpx.Response) -> str:
    """The server's short message: {"detail": "..."} or a validation list; never the whole body."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.reason_phrase or f"HTTP {response.status_code}"
    if isinstance(detail, list):

        def message(d: dict) -> str:
            text = str(d.get("msg", ""))
            return "is not in the expected format" if text.startswith("String should match pattern") else text

        return (
            "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {message(d)}"
                for d in detail[:3]
                if isinstance(d, dict)
            )
            or "invalid input"
        )
    return str(detail)[:300] if detail else f"HTTP {response.status_code}"


class ServerClient:
    """One server's API for the game; thread-safe (httpx.Client pools connections across threads)."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenStore,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": user_agent(), "Accept": "application/json"},
        )
        self._refresh_lock = threading.Lock()
        self.refreshes = 0  # how many times the token pair was refreshed (shown in diagnostics, checked in tests)

    def close(self) -> None:
        self._http.close()

    # -- transport -----------------------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise ServerUnreachable(
                f"The server {self.base_url} did not answer in time. Check your connection; "
                "the game keeps working offline."
            ) from None
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"Cannot reach the server {self.base_url} ({type(exc).__name__}: {exc}). "
                "Check your connection or the server address; the game keeps working "
                "offline."
            ) from None

    def _checked(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        detail = _detail(response)
        if status == 429 or status >= 500:
            retry = response.headers.get("Retry-After", "")
            wait = float(retry) if retry.isdigit() else None
            what = "is busy" if status in (429, 503) else f"had a problem (HTTP {status}: {detail})"
            raise ServerUnreachable(f"The server {self.base_url} {what}; trying again later.", retry_after_s=wait)
        if status == 401:
            raise SignInRequired(f"The server {self.base_url} did not accept the sign-in ({detail}). Sign in again.")
        error = ServerRefused(status, detail, f"The server refused the request (HTTP {status}): {detail}.")
        try:
            body = response.json()
            error.extra = {k: v for k, v in body.items() if k != "detail"} if isinstance(body, dict) else {}
        except ValueError:
            pass
        raise error

    def _public(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._checked(self._send(method, API + path, **kwargs))

    def _authed(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call as the signed-in account; on 401 the token pair is refreshed once and the call retried once."""
        token = self.tokens.access_token or self._refresh(failed=None)
        response = self._send(method, API + path, token=token, **kwargs)
        if response.status_code == 401:
            token = self._refresh(failed=token)
            response = self._send(method, API + path, token=token, **kwargs)
            if response.status_code == 401:  # a fresh token refused too (account disabled): this sign-in is dead
                self.tokens.clear()
        return self._checked(response)

    def _refresh(self, *, failed: str | None) -> str:
        """A fresh access token. Only one thread refreshes; the others use its result (refresh tokens rotate)."""
        with self._refresh_lock:
            current = self.tokens.access_token
            if current is not None and current != failed:
                return current  # another thread refreshed while this one waited
            refresh = self.tokens.refresh_token()
            if refresh is None:
                raise SignInRequired(f"Not signed in to {self.base_url}. Sign in from the home screen.")
            response = self._send("POST", f"{API}/auth/refresh", json={"refresh_token": refresh})
            if response.status_code in (400, 401, 422):
                self.tokens.clear()
                raise SignInRequired(
                    f"Your sign-in on {self.base_url} has expired or was signed out elsewhere. Sign in again."
                )
            pair = self._checked(response).json()
            self.tokens.save(pair["access_token"], pair["refresh_token"])
            self.refreshes += 1
            return pair["access_token"]

    def _signed_in(self, response: httpx.Response) -> Account:
        pair = response.json()
        self.tokens.save(pair["access_token"], pair["refresh_token"])
        return Account.from_json(pair["user"])

    # -- server and accounts -----------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The server's /health document (status, database, version)."""
        return self._checked(self._send("GET", "/health")).json()

    def providers(self) -> list[dict[str, str]]:
        """The OAuth providers the server offers: [{"name": "github", "title": "GitHub"}, ...]."""
        return self._public("GET", "/auth/oauth/providers").json()

    def register(self, email: str, password: str, display_name: str | None = None) -> Account:
        body = {"email": email, "password": password, **({"display_name": display_name} if display_name else {})}
        return self._signed_in(self._public("POST", "/auth/register", json=body))

    def login(self, email: str, password: str) -> Account:
        try:
            return self._signed_in(self._public("POST", "/auth/login", json={"email": email, "password": password}))
        except SignInRequired:
            raise SignInRequired("Wrong email or password.") from None

    def guest(self, display_name: str | None = None) -> Account:
        body = {"display_name": display_name} if display_name else {}
        return self._signed_in(self._public("POST", "/auth/guest", json=body))

    def upgrade(self, email: str, password: str) -> Account:
        """Give the signed-in guest account an email and password; its history stays."""
        return Account.from_json(
            self._authed("POST", "/auth/upgrade", json={"email": email, "password": password}).json()
        )

    def me(self) -> Account:
        return Account.from_json(self._authed("GET", "/me").json())

    def sign_out(self) -> None:
        """Revoke this sign-in on the server, then forget it here (here even when the server cannot be reached)."""
        refresh = self.tokens.refresh_token()
        try:
            if refresh:
                self._public("POST", "/auth/logout", json={"refresh_token": refresh})
        finally:
            self.tokens.clear()

    def oauth_start(
        self, provider: str, *, redirect_uri: str, state: str, code_challenge: str, link_account: bool = False
    ) -> tuple[str, int]:
        """(authorization URL, seconds to finish). link_account: add the provider to the signed-in account."""
        body = {
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        path = f"/auth/oauth/{quote(provider, safe='')}/start"
        response = self._authed("POST", path, json=body) if link_account else self._public("POST", path, json=body)
        started = response.json()
        return started["authorization_url"], int(started["expires_in"])

    def oauth_token(self, *, code: str, code_verifier: str, redirect_uri: str) -> Account:
        body = {"code": code, "code_verifier": code_verifier, "redirect_uri": redirect_uri}
        return self._signed_in(self._public("POST", "/auth/oauth/token", json=body))

    # -- sessions and boards -----------------------------------------------------------------------------------------
    def upload_session(self, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """(stored session, created): created is False when the server already had it (idempotent upload)."""
        response = self._authed("POST", "/sessions", json=body)
        return response.json(), response.status_code == 201

    def sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        return self._authed("GET", "/sessions", params={"limit": limit}).json()["items"]

    def leaderboard(
        self, pack_id: str, difficulty: str, period: str, *, limit: int = 25, cursor: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._public(
            "GET", f"/leaderboards/{quote(pack_id, safe='')}/{difficulty}/{period}", params=params
        ).json()

    def around_me(self, pack_id: str, difficulty: str, period: str, *, window: int = 5) -> dict[str, Any]:
        return self._authed(
            "GET", f"/leaderboards/{quote(pack_id, safe='')}/{difficulty}/{period}/around-me", params={"window": window}
        ).json()

    # -- ranked ------------------------------------------------------------------------------------------------------
    def ranked_packs(self) -> list[dict[str, Any]]:
        return self._public("GET", "/ranked/packs").json()

    def ranked_start(self, *, pack_id: str, difficulty: str, model_id: str | None = None) -> dict[str, Any]:
        """Start a session (status seeding, with the server seed's hash). An open session of the account is
        abandoned first (it counts as played either way: it would expire), then the start is tried once more."""
        body = {"pack_id": pack_id, "difficulty": difficulty, **({"model_id": model_id} if model_id else {})}
        try:
            return self._authed("POST", "/ranked/sessions", json=body).json()
        except ServerRefused as exc:
            if exc.status != 409 or not exc.extra.get("session_id"):
                raise
            stale = str(exc.extra["session_id"])
        self.ranked_abandon(stale)
        return self._authed("POST", "/ranked/sessions", json=body).json()

    def ranked_seed(self, session_id: str, client_seed: str) -> dict[str, Any]:
        return self._authed("POST", f"/ranked/sessions/{session_id}/seed", json={"client_seed": client_seed}).json()

    def ranked_next(self, session_id: str) -> dict[str, Any]:
        return self._authed("POST", f"/ranked/sessions/{session_id}/next").json()

    def ranked_answer(self, session_id: str, number: int, answer: str | None) -> dict[str, Any]:
        return self._authed(
            "POST", f"/ranked/sessions/{session_id}/rounds/{number}/answer", json={"answer": answer}
        ).json()

    def ranked_abandon(self, session_id: str) -> dict[str, Any]:
        return self._authed("POST", f"/ranked/sessions/{session_id}/abandon").json()

    def ranked_attestation(self, session_id: str) -> dict[str, Any]:
        """{record, signature} of an ended session."""
        return self._authed("GET", f"/ranked/sessions/{session_id}/attestation").json()

    def ranked_public_key(self) -> dict[str, Any]:
        """{algorithm, key_id, public_key} of the key that signs this server's ranked records."""
        return self._public("GET", "/ranked/public-key").json()

    # -- download catalog (packs and opponents to install) ----------------------------------------------------------
    def catalog_packs(self) -> list[dict[str, Any]]:
        """Every pack the server offers, with its models and sample images (GET /downloads/packs)."""
        return self._public("GET", "/downloads/packs").json()["packs"]

    def catalog_manifest(self, pack_id: str) -> dict[str, Any]:
        """{pack_id, files: [{path, sha256, size}, ...]}: what installing the pack and its models writes."""
        return self._public("GET", f"/downloads/packs/{quote(pack_id, safe='')}/manifest").json()

    def catalog_file_bytes(self, sha256: str) -> bytes:
        """A small file whole (a sample image for the previews)."""
        return self._public("GET", f"/downloads/files/{sha256}").content

    @contextmanager
    def catalog_file(self, sha256: str, *, start: int = 0) -> Iterator[tuple[int, Iterator[bytes]]]:
        """Stream a file from byte `start` on: (the offset the body starts at, its chunks). The offset is 0 when
        the server sent the whole file (it ignored the range, or `start` was past the end: 416)."""
        path = f"{API}/downloads/files/{sha256}"
        headers = {"Accept": "*/*", **({"Range": f"bytes={start}-", "If-Range": f'"{sha256}"'} if start else {})}
        with self._streaming(path, headers) as response:
            if response.status_code == 416:
                response.close()
                with self.catalog_file(sha256) as whole:
                    yield whole
                return
            self._checked_stream(response)
            offset = start if response.status_code == 206 else 0
            yield offset, self._chunks(response)

    @contextmanager
    def _streaming(self, path: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        try:
            with self._http.stream("GET", path, headers=headers) as response:
                yield response
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise self._unreachable(exc) from None

    def _checked_stream(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            response.read()
            self._checked(response)

    def _chunks(self, response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(256 * 1024)
        except (httpx.TimeoutException, httpx.TransportError) as exc:  # the connection was cut mid-file
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: Exception) -> ServerUnreachable:
        return ServerUnreachable(
            f"The download from {self.base_url} stopped ({type(exc).__name__}: {exc}). Check your connection; "
            "what arrived so far is kept and the download resumes where it stopped."
        )

    # -- crowd statistics (withheld below the server's minimum of players) ---------------------------------------------
    def image_stats(self, pack_id: str, image_sha256: str, *, source: str = "ranked") -> dict[str, Any]:
        """What the players who saw one pack image answered; source "offline": shared offline rounds."""
        path = f"/stats/packs/{quote(pack_id, safe='')}/images/{quote(image_sha256, safe='')}"
        return self._public("GET", path, params={"source": source}).json()

    def ranked_round_stats(self, session_id: str, number: int) -> dict[str, Any]:
        """The crowd on the pack image behind an answered round of the account's own ranked session."""
        return self._authed("GET", f"/stats/ranked/sessions/{quote(session_id, safe='')}/rounds/{number}").json()

    def pack_stats(self, pack_id: str, *, gallery: int = 12) -> dict[str, Any]:
        """A pack's crowd aggregates: per-class accuracy, confusion, models, the hardest and fool-the-AI galleries."""
        return self._public("GET", f"/stats/packs/{quote(pack_id, safe='')}", params={"gallery": gallery}).json()
