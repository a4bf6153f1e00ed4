"""Browser sign-in through the game's loopback listener, the real server and the fake provider from its tests."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from desktop.services.online.client import ServerClient
from desktop.services.online.errors import SignInFailed
from desktop.services.online.oauth_loopback import BrowserSignIn, pkce_pair, sign_in_with_browser
from desktop.services.online.tokens import TokenStore

fake_provider = pytest.importorskip("tests.sync_server.fake_provider", reason="the server's fake OAuth provider")


@pytest.fixture
def client(live_server, data_dir: Path, keyring_backend):
    if "github" not in live_server.providers:
        pytest.skip("the server has no OAuth sign-in in this checkout")
    made = ServerClient(live_server.url, TokenStore(live_server.url, data_dir, backend=keyring_backend))
    yield made
    made.close()


def browser_in_background(opened: list[str]):
    """A stand-in for the system browser: follows the redirects (provider, server, loopback) in a thread."""

    def open_url(url: str) -> bool:
        opened.append(url)
        browser = fake_provider.Browser(None)
        threading.Thread(target=lambda: (browser.open(url), browser.close()), daemon=True).start()
        return True

    return open_url


def test_pkce_pair_is_s256() -> None:
    import base64
    import hashlib

    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128 and len(challenge) == 43
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_sign_in_with_a_provider_through_the_browser(live_server, client: ServerClient) -> None:
    live_server.providers["github"].user = fake_provider.ProviderUser("4242", name="Octo")
    opened: list[str] = []
    account = sign_in_with_browser(client, "github", open_url=browser_in_background(opened))
    assert account.providers == ("github",) and account.display_name == "Octo" and not account.is_guest
    query = parse_qs(urlsplit(opened[0]).query)
    assert query["code_challenge_method"] == ["S256"]  # the server's leg to the provider uses PKCE too
    assert client.me().id == account.id and client.tokens.refresh_token()  # tokens stored


def test_a_forged_callback_is_ignored_and_the_real_one_completes(live_server, client: ServerClient) -> None:
    live_server.providers["github"].user = fake_provider.ProviderUser("5151", name="Real")
    flow = BrowserSignIn(client, "github")
    try:
        url = flow.begin()
        forged = httpx.get(flow.redirect_uri, params={"code": "A" * 20, "state": "not-our-state"})
        assert forged.status_code == 400 and flow.ignored_callbacks == 1
        browser_in_background([])(url)
        assert flow.finish(timeout_s=20).display_name == "Real"
    finally:
        flow.close()


def test_a_refusal_at_the_provider_is_reported(live_server, client: ServerClient) -> None:
    provider = live_server.providers["github"]
    provider.deny = True
    try:
        with pytest.raises(SignInFailed, match="github did not complete: The sign-in was cancelled or refused"):
            sign_in_with_browser(client, "github", open_url=browser_in_background([]))
    finally:
        provider.deny = False
    assert client.tokens.refresh_token() is None


def test_cancelling_stops_waiting(client: ServerClient) -> None:
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(SignInFailed, match="cancelled"):
        sign_in_with_browser(client, "github", open_url=lambda url: True, cancelled=cancelled)


def test_a_guest_links_a_provider_and_keeps_its_account(live_server, client: ServerClient) -> None:
    live_server.providers["github"].user = fake_provider.ProviderUser("6161", name="Linked")
    guest = client.guest()
    account = sign_in_with_browser(client, "github", open_url=browser_in_background([]), link_account=True)
    assert account.id == guest.id and account.providers == ("github",) and not account.is_guest
