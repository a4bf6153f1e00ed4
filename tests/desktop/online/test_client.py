"""The game's HTTP client against the real server: user agent, timeouts, clear errors, 401 → one refresh."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest

from desktop.services.online.client import ServerClient, app_version
from desktop.services.online.errors import ServerRefused, ServerUnreachable, SignInRequired
from desktop.services.online.tokens import TokenStore


class CountingTransport(httpx.HTTPTransport):
    """The real transport, counting requests by path (and keeping the last request's headers)."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []
        self.headers: httpx.Headers | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.paths.append(request.url.path)
            self.headers = request.headers
        return super().handle_request(request)

    def count(self, suffix: str) -> int:
        return sum(path.endswith(suffix) for path in self.paths)


def _client(url: str, data_dir: Path, keyring_backend, transport: httpx.BaseTransport | None = None) -> ServerClient:
    return ServerClient(url, TokenStore(url, data_dir, backend=keyring_backend), transport=transport)


def test_requests_carry_the_game_version_and_have_timeouts(live_server, data_dir, keyring_backend) -> None:
    transport = CountingTransport()
    client = _client(live_server.url, data_dir, keyring_backend, transport)
    assert client.health()["status"] == "ok"
    assert transport.headers["user-agent"].startswith(f"EyeVsAI/{app_version()} ")
    assert app_version() == "0.1.0"
    timeout = client._http.timeout
    assert timeout.connect == 5.0 and timeout.read == 15.0
    client.close()


def test_an_expired_access_token_is_refreshed_once_then_the_call_retried(
    live_server, data_dir, keyring_backend
) -> None:
    transport = CountingTransport()
    client = _client(live_server.url, data_dir, keyring_backend, transport)
    account = client.guest()
    client.tokens._access = "not-a-valid-token"  # as after the 15 minutes an access token lives
    assert client.me().id == account.id
    assert transport.count("/auth/refresh") == 1 and client.refreshes == 1
    assert transport.count("/me") == 2  # the refused call, then its one retry
    client.close()


def test_threads_hitting_401_together_refresh_only_once(live_server, data_dir, keyring_backend) -> None:
    """Refresh tokens are single use: two refreshes with the same token would sign the device out."""
    transport = CountingTransport()
    client = _client(live_server.url, data_dir, keyring_backend, transport)
    account = client.guest()
    client.tokens._access = "expired"
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(client.me().id)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert results == [account.id] * 4
    assert transport.count("/auth/refresh") == 1
    client.close()


def test_a_revoked_sign_in_asks_to_sign_in_again_after_one_refresh(live_server, data_dir, keyring_backend) -> None:
    transport = CountingTransport()
    client = _client(live_server.url, data_dir, keyring_backend, transport)
    client.guest()
    other_device = _client(live_server.url, data_dir / "other", None)
    other_device.tokens.save("x", client.tokens.refresh_token())
    other_device.sign_out()  # the same sign-in revoked elsewhere
    client.tokens._access = "expired"
    with pytest.raises(SignInRequired, match="Sign in again"):
        client.me()
    assert transport.count("/auth/refresh") == 1
    assert client.tokens.refresh_token() is None  # forgotten here too: nothing keeps retrying a dead sign-in
    client.close()


class LosesFirstRefreshAnswer(CountingTransport):
    """The server gets the first refresh and rotates the token, but its answer never arrives (a dropped link)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/auth/refresh") and self.count("/auth/refresh") == 1:
            response.read()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_a_lost_refresh_answer_does_not_sign_the_device_out(live_server, data_dir, keyring_backend) -> None:
    transport = LosesFirstRefreshAnswer()
    client = _client(live_server.url, data_dir, keyring_backend, transport)
    account = client.guest()  # a guest can only get back in with its refresh token
    client.tokens._access = "expired"
    with pytest.raises(ServerUnreachable, match="did not answer in time"):
        client.me()
    assert client.tokens.refresh_token() is not None  # kept: the game stays signed in, offline
    assert client.me().id == account.id  # the retry with the same token is accepted
    assert transport.count("/auth/refresh") == 2
    client.close()


def test_an_unreachable_server_is_a_plain_message(data_dir) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    client = _client(url, data_dir, None)
    with pytest.raises(ServerUnreachable, match=f"Cannot reach the server {url}.*keeps working offline"):
        client.health()
    client.close()


def test_wrong_password_and_refusals_read_plainly(live_server, data_dir, keyring_backend) -> None:
    client = _client(live_server.url, data_dir, keyring_backend)
    zoe = client.register("zoe@example.org", "correct horse battery")
    live_server.confirm_email("zoe@example.org")
    with pytest.raises(SignInRequired, match="^Wrong email or password.$"):
        client.login("zoe@example.org", "wrong password!")
    # Registering a taken email answers like a free one (it tells nobody the address has an account)...
    other = client.register("zoe@example.org", "another good secret")
    assert other.id != zoe.id and other.email == "zoe@example.org"
    # ...and the address still signs in to its owner's account only.
    assert client.login("zoe@example.org", "correct horse battery").id == zoe.id
    with pytest.raises(ServerRefused, match="password") as refused:
        client.register("weak@example.org", "password123")
    assert refused.value.status == 422
    client.close()


def test_sign_out_revokes_the_sign_in_on_the_server(live_server, data_dir, keyring_backend) -> None:
    client = _client(live_server.url, data_dir, keyring_backend)
    client.guest()
    refresh = client.tokens.refresh_token()
    client.sign_out()
    assert client.tokens.refresh_token() is None and keyring_backend.secrets == {}
    stolen = _client(live_server.url, data_dir / "thief", None)
    stolen.tokens.save("x", refresh)  # the old token is worth nothing now
    with pytest.raises(SignInRequired):
        stolen.me()
    client.close()
    stolen.close()


def test_a_guest_keeps_its_account_when_it_adds_an_email(live_server, data_dir, keyring_backend) -> None:
    client = _client(live_server.url, data_dir, keyring_backend)
    guest = client.guest()
    kept = client.upgrade("kept@example.org", "correct horse battery")
    assert kept.id == guest.id and not kept.is_guest and kept.email == "kept@example.org"
    client.close()
