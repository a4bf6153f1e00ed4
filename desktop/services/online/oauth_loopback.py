"""Signing in with an OAuth provider through the system browser (RFC 8252: loopback redirect, PKCE S256, state).

1. `BrowserSignIn(client, provider)` listens on http://127.0.0.1:<free port>/callback and makes a PKCE verifier
   (and its S256 challenge) and a random state.
2. `begin()` asks the server for the provider's sign-in URL; the caller opens it in the system browser.
3. `finish()` waits for the browser to come back to the loopback listener, ignores any request whose state is not
   ours (a page elsewhere cannot finish our sign-in), and exchanges the one-time code plus the verifier for the
   token pair.
`sign_in_with_browser` runs the three steps for a caller without a GUI thread to hop to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from desktop.services.online.client import ServerClient
from desktop.services.online.errors import SignInFailed
from desktop.services.online.settings import Account

CALLBACK_PATH = "/callback"
POLL_S = 0.1
DEFAULT_WAIT_S = 600.0


def pkce_pair() -> tuple[str, str]:
    """(verifier, challenge): 64 URL-safe characters and BASE64URL(SHA-256(verifier)) without padding (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _page(title: str, text: str) -> bytes:
    return (
        f"<!doctype html><meta charset=utf-8><title>Eye vs AI</title><body style='font-family:sans-serif;"
        f"margin:3em'><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
    ).encode()


class _Listener(ThreadingHTTPServer):
    """Loopback HTTP server that keeps the first callback carrying the expected state."""

    daemon_threads = True

    def __init__(self, state: str) -> None:
        self.expected_state = state
        self.result: dict[str, str] | None = None
        self.arrived = threading.Event()
        self.ignored = 0  # callbacks with a wrong or missing state
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Listener

    def log_message(self, *_args: object) -> None:  # the browser's requests are not the game's log
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._reply(404, _page("Not found", "This address only receives the Eye vs AI sign-in."))
            return
        params = dict(parse_qsl(parts.query))
        if not hmac.compare_digest(params.get("state", ""), self.server.expected_state) or self.server.arrived.is_set():
            self.server.ignored += 1
            self._reply(
                400,
                _page(
                    "Sign-in not recognised",
                    "This response does not belong to the sign-in the game started. Start again from Eye vs AI.",
                ),
            )
            return
        self.server.result = params
        self.server.arrived.set()
        if "code" in params:
            self._reply(
                200,
                _page("Signed in", "You are signed in to Eye vs AI. You can close this tab and go back to the game."),
            )
        else:
            self._reply(200, _page("Sign-in not completed", "Go back to Eye vs AI to try again."))

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class BrowserSignIn:
    """One browser sign-in with `provider`; close() it whatever happens."""

    def __init__(self, client: ServerClient, provider: str, *, link_account: bool = False) -> None:
        """link_account: add the provider to the signed-in account (a guest keeps its history) instead."""
        self.client = client
        self.provider = provider
        self.link_account = link_account
        self.verifier, self.challenge = pkce_pair()
        self.state = secrets.token_urlsafe(24)
        self._listener = _Listener(self.state)
        self.redirect_uri = f"http://127.0.0.1:{self._listener.server_address[1]}{CALLBACK_PATH}"
        self._thread = threading.Thread(
            target=self._listener.serve_forever, args=(POLL_S,), daemon=True, name="eyevsai-oauth-loopback"
        )
        self._thread.start()
        self.expires_in = DEFAULT_WAIT_S

    def begin(self) -> str:
        """The provider's sign-in URL, to open in the system browser."""
        url, self.expires_in = self.client.oauth_start(
            self.provider,
            redirect_uri=self.redirect_uri,
            state=self.state,
            code_challenge=self.challenge,
            link_account=self.link_account,
        )
        return url

    def finish(self, *, cancelled: threading.Event | None = None, timeout_s: float | None = None) -> Account:
        """Wait for the browser to return, then exchange the code for tokens.

        Raises:
            SignInFailed: cancelled, timed out, or refused at the provider.
            OnlineError: the server could not be reached or refused the code.
        """
        wait_s = timeout_s if timeout_s is not None else self.expires_in
        deadline = time.monotonic() + wait_s
        while not self._listener.arrived.wait(POLL_S):
            if cancelled is not None and cancelled.is_set():
                raise SignInFailed("Sign-in cancelled.")
            if time.monotonic() > deadline:
                raise SignInFailed(f"The browser sign-in did not finish within {wait_s:.0f} s. Try again.")
        params = self._listener.result or {}
        if "code" not in params:
            reason = params.get("error_description") or params.get("error") or "no sign-in code came back"
            raise SignInFailed(
                f"The sign-in with {self.provider} did not complete: {reason.rstrip('.')}. "
                "Try again, or choose another way to sign in."
            )
        return self.client.oauth_token(code=params["code"], code_verifier=self.verifier, redirect_uri=self.redirect_uri)

    @property
    def ignored_callbacks(self) -> int:
        return self._listener.ignored

    def close(self) -> None:
        self._listener.shutdown()
        self._listener.server_close()


def sign_in_with_browser(
    client: ServerClient,
    provider: str,
    *,
    open_url: Callable[[str], object] = webbrowser.open,
    cancelled: threading.Event | None = None,
    link_account: bool = False,
) -> Account:
    """The whole browser sign-in in one blocking call (the CLI and tests; the UI runs the steps itself)."""
    flow = BrowserSignIn(client, provider, link_account=link_account)
    try:
        url = flow.begin()
        if open_url(url) is False:
            raise SignInFailed(f"Could not open a web browser. Open this address to sign in:\n{url}")
        return flow.finish(cancelled=cancelled)
    finally:
        flow.close()
