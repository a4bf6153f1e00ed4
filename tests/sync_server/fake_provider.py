"""A fake OAuth 2.0 / OpenID Connect provider on loopback, a browser that follows redirects, and a desktop app's
loopback listener (RFC 8252): enough to run the whole sign-in against the server in the tests.

The provider is strict where real ones are: registered client and redirect URI, PKCE S256 required, one-use codes,
the client authentication method of the provider it plays (X: HTTP Basic; others: form fields; Apple: an ES256
client-secret JWT), and each provider's own userinfo document shape (Apple: ID token only, form_post callback).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import jwt

from tests.sync_server.helpers import ApiClient

_LOOPBACK = httpx.HTTPTransport(verify=False)  # shared: building TLS contexts per browser costs ~0.2 s each
PROVIDER_NAMES = ("google", "github", "discord", "facebook", "x", "apple")
APPLE_ISSUER = "https://appleid.apple.com"


@dataclass
class ProviderUser:
    subject: str
    email: str | None = "someone@example.org"
    name: str | None = "Someone"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def userinfo_document(flavour: str, user: ProviderUser) -> dict[str, Any]:
    """The userinfo answer in each provider's own shape (the server reads each at its own paths)."""
    if flavour == "github":
        return {"id": int(user.subject), "login": user.name, "email": user.email}
    if flavour == "discord":
        return {"id": user.subject, "username": user.name, "email": user.email, "global_name": None}
    if flavour == "x":
        return {"data": {"id": user.subject, "name": user.name, "username": "someone"}}
    if flavour == "facebook":
        return {"id": user.subject, "name": user.name, "email": user.email}
    return {"sub": user.subject, "email": user.email, "name": user.name, "email_verified": True}


@dataclass
class FakeProvider:
    """One provider on http://127.0.0.1:<port>; set `user`, `deny` or `refuse_tokens` to steer the next sign-in."""

    flavour: str
    redirect_uri: str
    clock: Callable[[], dt.datetime]
    client_id: str = "eyevsai-client"
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user: ProviderUser = field(default_factory=lambda: ProviderUser("1001"))
    deny: bool = False
    refuse_tokens: bool = False
    apple_key: Any = None  # the EC public key that checks Apple client-secret JWTs
    team_id: str = "TEAM123456"
    key_id: str = "KEY1234567"
    token_requests: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _tokens: dict[str, ProviderUser] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def settings(self) -> dict[str, str]:
        """The server's settings for this provider, endpoints pointing here."""
        values = {
            "client_id": self.client_id,
            "authorize_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            "userinfo_url": f"{self.url}/userinfo",
        }
        if self.flavour == "apple":
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import ec

            private = ec.generate_private_key(ec.SECP256R1())
            self.apple_key = private.public_key()
            values.update(
                team_id=self.team_id,
                key_id=self.key_id,
                private_key=private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode(),
            )
        else:
            values["client_secret"] = self.client_secret
        return values

    def start(self) -> FakeProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:  # keep the test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                if parts.path == "/authorize":
                    provider._authorize(self, query)
                elif parts.path == "/userinfo":
                    provider._userinfo(self)
                else:
                    _reply(self, 404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                if urlsplit(self.path).path == "/token":
                    provider._token(self, form)
                else:
                    _reply(self, 404, {"error": "not_found"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- endpoints -----------------------------------------------------------------------------------------------

    def _authorize(self, handler: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        problems = [
            name
            for name, ok in (
                ("client_id", query.get("client_id") == self.client_id),
                ("redirect_uri", query.get("redirect_uri") == self.redirect_uri),
                ("response_type", query.get("response_type") == "code"),
                ("state", bool(query.get("state"))),
                ("code_challenge", len(query.get("code_challenge", "")) == 43),
                ("code_challenge_method", query.get("code_challenge_method") == "S256"),
            )
            if not ok
        ]
        if problems:  # a real provider shows an error page and never redirects a bad request
            _reply(handler, 400, {"error": "invalid_request", "bad": problems})
            return
        if self.deny:
            result = {"error": "access_denied", "state": query["state"]}
        else:
            code = secrets.token_urlsafe(16)
            self._codes[code] = {"challenge": query["code_challenge"], "user": self.user}
            result = {"code": code, "state": query["state"]}
            if self.flavour == "apple" and self.user.name:  # Apple posts the name once, beside the code
                result["user"] = json.dumps({"name": {"firstName": self.user.name, "lastName": ""}})
        if query.get("response_mode") == "form_post":
            inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in result.items())
            page = (
                f'<html><body onload="document.forms[0].submit()"><form method="post" '
                f'action="{self.redirect_uri}">{inputs}</form></body></html>'
            )
            _reply(handler, 200, page.encode(), "text/html")
            return
        handler.send_response(302)
        handler.send_header("Location", f"{self.redirect_uri}?{urlencode(result)}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _client_is_authenticated(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> bool:
        if self.flavour == "x":  # confidential clients authenticate with HTTP Basic at X
            given = handler.headers.get("Authorization", "")
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            return given == f"Basic {expected}"
        if form.get("client_id") != self.client_id:
            return False
        if self.flavour == "apple":
            try:
                claims = jwt.decode(
                    form.get("client_secret", ""),
                    self.apple_key,
                    algorithms=["ES256"],
                    audience=APPLE_ISSUER,
                    options={"verify_exp": False, "verify_iat": False},
                )
                header = jwt.get_unverified_header(form["client_secret"])
            except jwt.PyJWTError:
                return False
            return (
                claims.get("iss") == self.team_id
                and claims.get("sub") == self.client_id
                and header.get("kid") == self.key_id
                and claims["exp"] > self.clock().timestamp()
            )
        return form.get("client_secret") == self.client_secret

    def _token(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        self.token_requests.append(form)
        grant = self._codes.pop(form.get("code", ""), None)  # one use
        ok = (
            not self.refuse_tokens
            and grant is not None
            and form.get("grant_type") == "authorization_code"
            and form.get("redirect_uri") == self.redirect_uri
            and _s256(form.get("code_verifier", "")) == grant["challenge"]
            and self._client_is_authenticated(handler, form)
        )
        if not ok:
            _reply(handler, 400, {"error": "invalid_grant"})
            return
        user: ProviderUser = grant["user"]
        access = secrets.token_urlsafe(16)
        self._tokens[access] = user
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
        if self.flavour in ("apple", "google"):
            now = self.clock()
            claims = {
                "iss": APPLE_ISSUER if self.flavour == "apple" else self.url,
                "aud": self.client_id,
                "sub": user.subject,
                "iat": int(now.timestamp()),
                "exp": int(now.timestamp()) + 600,
            }
            if user.email:
                claims["email"] = user.email
            body["id_token"] = jwt.encode(claims, secrets.token_hex(32), algorithm="HS256")
        _reply(handler, 200, body)

    def _userinfo(self, handler: BaseHTTPRequestHandler) -> None:
        token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self._tokens.get(token)
        if user is None or self.flavour == "apple":
            _reply(handler, 401, {"error": "invalid_token"})
            return
        _reply(handler, 200, userinfo_document(self.flavour, user))


def _reply(
    handler: BaseHTTPRequestHandler, status: int, body: dict | bytes, content_type: str = "application/json"
) -> None:
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


class LoopbackApp:
    """The desktop app's side: a PKCE pair, a state and a listener on http://127.0.0.1:<port>/callback."""

    def __init__(self) -> None:
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(16)
        self.challenge = _s256(self.verifier)
        self.received: dict[str, str] | None = None
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path != "/callback":
                    _reply(self, 404, b"not here", "text/plain")
                    return
                app.received = dict(parse_qsl(parts.query))
                _reply(self, 200, b"Signed in; you can close this window.", "text/plain")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    def start_body(self) -> dict[str, str]:
        return {
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
        }

    def token_body(self, code: str) -> dict[str, str]:
        return {"code": code, "code_verifier": self.verifier, "redirect_uri": self.redirect_uri}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _AutoPostForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("method", "").lower() == "post":
            self.action = values.get("action")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


class Browser:
    """Follows redirects (and auto-posting forms) like a browser, across the in-process server and loopback."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.http = httpx.Client(timeout=10, transport=_LOOPBACK)  # plain http on loopback only
        self.visited: list[str] = []

    def open(self, url: str, *, hops: int = 10) -> httpx.Response:
        method, form = "GET", None
        for _ in range(hops):
            self.visited.append(url)
            response = self._send(method, url, form)
            if response.is_redirect:
                url, method, form = urljoin(url, response.headers["location"]), "GET", None
                continue
            if response.headers.get("content-type", "").startswith("text/html") and "<form" in response.text:
                parser = _AutoPostForm()
                parser.feed(response.text)
                if parser.action:
                    url, method, form = parser.action, "POST", parser.fields
                    continue
            return response
        raise AssertionError(f"too many redirects: {self.visited}")

    def _send(self, method: str, url: str, form: dict[str, str] | None) -> httpx.Response:
        parts = urlsplit(url)
        if parts.hostname == "testserver":
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            return self.api.request(method, target, data=form)
        return self.http.request(method, url, data=form)

    def close(self) -> None:
        """Nothing to release: closing the httpx client would close the transport the browsers share."""
