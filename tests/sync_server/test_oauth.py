"""OAuth sign-in, end to end: app loopback listener → server → fake provider on loopback → server → app → tokens."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from sync_server.settings import SettingsError, load_settings
from tests.sync_server.fake_provider import PROVIDER_NAMES, Browser, FakeProvider, LoopbackApp, ProviderUser
from tests.sync_server.helpers import ApiClient, FakeClock

OAUTH = "/api/v1/auth/oauth"


class Harness:
    """A server with fake providers enabled, and what one sign-in leaves behind."""

    def __init__(self, api: ApiClient, providers: dict[str, FakeProvider]) -> None:
        self.api, self.providers = api, providers
        self._closing: list = []

    def begin(self, name: str, *, token: str | None = None) -> tuple[LoopbackApp, str]:
        app = LoopbackApp()
        self._closing.append(app)
        started = self.api.post(f"{OAUTH}/{name}/start", json=app.start_body(), token=token)
        assert started.status_code == 201, started.text
        assert started.json()["expires_in"] == 600
        return app, started.json()["authorization_url"]

    def browser(self) -> Browser:
        browser = Browser(self.api)
        self._closing.append(browser)
        return browser

    def sign_in(self, name: str, *, token: str | None = None) -> tuple[LoopbackApp, Browser]:
        """Run the browser part of a sign-in; the app's listener then holds what came back."""
        app, url = self.begin(name, token=token)
        browser = self.browser()
        page = browser.open(url)
        assert page.status_code == 200, page.text  # the app's "you can close this window"
        assert app.received is not None and app.received["state"] == app.state
        return app, browser

    def tokens(self, name: str, *, token: str | None = None) -> dict:
        app, _ = self.sign_in(name, token=token)
        assert "code" in app.received, app.received
        response = self.api.post(f"{OAUTH}/token", json=app.token_body(app.received["code"]))
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        for item in self._closing:
            item.close() if isinstance(item, Browser) else item.stop()
        for provider in self.providers.values():
            provider.stop()


@pytest.fixture
def make_harness(make_client, clock: FakeClock) -> Iterator:
    made: list[Harness] = []

    def make(*names: str) -> Harness:
        providers = {
            name: FakeProvider(name, f"http://testserver{OAUTH}/{name}/callback", clock).start() for name in names
        }
        api = make_client(
            public_url="http://testserver", oauth={name: provider.settings() for name, provider in providers.items()}
        )
        made.append(Harness(api, providers))
        return made[-1]

    yield make
    for harness in made:
        harness.close()


@pytest.mark.parametrize("name", PROVIDER_NAMES)
def test_sign_in_with_each_provider(make_harness, name: str) -> None:
    harness = make_harness(name)
    pair = harness.tokens(name)
    me = harness.api.get("/api/v1/me", token=pair["access_token"]).json()
    assert me["providers"] == [name] and me["is_guest"] is False and me["display_name"] == "Someone"
    assert me["email"] is None  # a provider's email is never taken as the account's
    # The provider leg used PKCE too: the server sent its verifier with the code.
    (exchange,) = harness.providers[name].token_requests
    assert len(exchange["code_verifier"]) >= 43
    # Signing in again finds the same account by its subject; refresh works as for any sign-in.
    again = harness.tokens(name)
    assert again["user"]["id"] == pair["user"]["id"]
    assert harness.api.post("/api/v1/auth/refresh", json={"refresh_token": again["refresh_token"]}).status_code == 200


def test_apple_posts_its_callback_as_a_form(make_harness) -> None:
    harness = make_harness("apple")
    app, url = harness.begin("apple")
    assert parse_qs(urlsplit(url).query)["response_mode"] == ["form_post"]
    browser = harness.browser()
    browser.open(url)
    assert "code" in (app.received or {})


def test_only_configured_providers_are_offered(make_harness) -> None:
    harness = make_harness("github", "x")
    listed = harness.api.get(f"{OAUTH}/providers").json()
    assert listed == [{"name": "github", "title": "GitHub"}, {"name": "x", "title": "X"}]
    body = LoopbackApp()
    try:
        assert harness.api.post(f"{OAUTH}/google/start", json=body.start_body()).status_code == 404
        assert harness.api.post(f"{OAUTH}/myspace/start", json=body.start_body()).status_code == 422
    finally:
        body.stop()


def test_no_provider_configured_offers_none(api: ApiClient) -> None:
    assert api.get(f"{OAUTH}/providers").json() == []


def test_an_email_never_links_accounts(make_harness) -> None:
    harness = make_harness("github")
    ada = harness.api.register("ada@example.org")
    harness.providers["github"].user = ProviderUser("77", email="ada@example.org", name="Ada")
    pair = harness.tokens("github")
    assert pair["user"]["id"] != ada["user"]["id"] and pair["user"]["email"] is None
    assert harness.api.get("/api/v1/me", token=ada["access_token"]).json()["providers"] == []


def test_a_guest_upgrades_through_a_provider_and_keeps_its_history(make_harness) -> None:
    from tests.sync_server.test_games import upload_body

    harness = make_harness("discord")
    guest = harness.api.guest()
    stored = harness.api.post("/api/v1/sessions", token=guest["access_token"], json=upload_body()).json()
    linked = harness.tokens("discord", token=guest["access_token"])
    assert linked["user"]["id"] == guest["user"]["id"]
    assert linked["user"]["is_guest"] is False and linked["user"]["providers"] == ["discord"]
    assert linked["user"]["display_name"] == guest["user"]["display_name"]  # linking keeps the chosen name
    # Later the provider alone signs in to the same account, history included.
    later = harness.tokens("discord")
    assert later["user"]["id"] == guest["user"]["id"]
    history = harness.api.get("/api/v1/sessions", token=later["access_token"]).json()
    assert [s["id"] for s in history["items"]] == [stored["id"]]


def test_an_identity_of_another_account_cannot_be_linked(make_harness) -> None:
    harness = make_harness("google")
    first = harness.tokens("google")  # subject 1001 now belongs to this account
    guest = harness.api.guest()
    app, _ = harness.sign_in("google", token=guest["access_token"])
    assert app.received["error"] == "access_denied" and "already linked" in app.received["error_description"]
    me = harness.api.get("/api/v1/me", token=guest["access_token"]).json()
    assert me["is_guest"] is True and me["providers"] == [] and me["id"] != first["user"]["id"]


def test_linking_needs_a_valid_token(make_harness) -> None:
    harness = make_harness("github")
    app = LoopbackApp()
    try:
        response = harness.api.post(f"{OAUTH}/github/start", json=app.start_body(), token="forged")
        assert response.status_code == 401
    finally:
        app.stop()


def _callback_url(browser: Browser) -> str:
    return next(url for url in browser.visited if "/callback?" in url and "testserver" in url)


def test_the_state_is_checked(make_harness, clock: FakeClock) -> None:
    harness = make_harness("github")
    app, browser = harness.sign_in("github")
    callback = _callback_url(browser)
    # Replayed: the state was spent by the first callback.
    replay = harness.browser().open(callback)
    assert replay.status_code == 400 and "already used" in replay.text
    # Forged or missing: never redirected anywhere.
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    forged = harness.browser().open(
        f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode({**query, 'state': 'x' * 43})}"
    )
    assert forged.status_code == 400 and "unknown" in forged.text
    assert harness.browser().open(f"http://testserver{OAUTH}/github/callback?code=abc").status_code == 400
    # Expired: the user took longer than the flow's lifetime at the provider.
    app, url = harness.begin("github")
    clock.advance(11 * 60)
    late = harness.browser().open(url)
    assert late.status_code == 400 and "expired" in late.text and app.received is None


def test_a_refusal_at_the_provider_reaches_the_app(make_harness) -> None:
    harness = make_harness("facebook")
    harness.providers["facebook"].deny = True
    app, _ = harness.sign_in("facebook")
    assert app.received["error"] == "access_denied" and "code" not in app.received
    harness.providers["facebook"].deny = False
    harness.providers["facebook"].refuse_tokens = True
    app, _ = harness.sign_in("facebook")
    assert app.received["error"] == "server_error" and "Facebook" in app.received["error_description"]


def test_the_sign_in_code_needs_the_apps_verifier_and_works_once(make_harness, clock: FakeClock) -> None:
    harness = make_harness("github")
    app, _ = harness.sign_in("github")
    code = app.received["code"]
    token_url = f"{OAUTH}/token"
    wrong_verifier = {**app.token_body(code), "code_verifier": "v" * 43}
    assert harness.api.post(token_url, json=wrong_verifier).status_code == 400
    other_redirect = {**app.token_body(code), "redirect_uri": "http://127.0.0.1:1/callback"}
    assert harness.api.post(token_url, json=other_redirect).status_code == 400
    first = harness.api.post(token_url, json=app.token_body(code))
    assert first.status_code == 200
    # Used twice: refused, and the tokens issued for it are revoked (the code may have been intercepted).
    second = harness.api.post(token_url, json=app.token_body(code))
    assert second.status_code == 400 and second.json()["detail"] == "Invalid or expired sign-in code; sign in again"
    refresh = harness.api.post("/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]})
    assert refresh.status_code == 401
    # A code not exchanged within two minutes expires.
    app, _ = harness.sign_in("github")
    clock.advance(121)
    assert harness.api.post(token_url, json=app.token_body(app.received["code"])).status_code == 400
    assert harness.api.post(token_url, json={**app.token_body("x" * 43)}).status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "https://evil.example/callback"},
        {"redirect_uri": "http://localhost:5000/callback"},
        {"redirect_uri": "http://127.0.0.1/callback"},  # the app's port must be given
        {"redirect_uri": "http://127.0.0.1:5000/callback?next=x"},
        {"redirect_uri": "http://127.0.0.1:5000/callback#x"},
        {"redirect_uri": "http://me@127.0.0.1:5000/callback"},
        {"redirect_uri": "http://127.0.0.1:99999/callback"},
        {"code_challenge_method": "plain"},
        {"code_challenge": "short"},
        {"state": "no spaces allowed"},
        {"extra": "field"},
    ],
)
def test_start_refuses_anything_but_a_loopback_redirect_with_pkce(make_harness, change: dict) -> None:
    harness = make_harness("github")
    app = LoopbackApp()
    try:
        body = {**app.start_body(), **change}
        response = harness.api.post(f"{OAUTH}/github/start", json=body)
        assert response.status_code == 422, response.text
    finally:
        app.stop()


def test_ipv6_loopback_is_accepted(make_harness) -> None:
    harness = make_harness("github")
    app = LoopbackApp()
    try:
        body = {**app.start_body(), "redirect_uri": "http://[::1]:53123/callback"}
        assert harness.api.post(f"{OAUTH}/github/start", json=body).status_code == 201
    finally:
        app.stop()


def test_provider_settings_are_checked() -> None:
    with pytest.raises(SettingsError, match="client_secret"):
        load_settings(oauth={"github": {"client_id": "x"}})
    with pytest.raises(SettingsError, match="PEM text"):
        load_settings(oauth={"apple": {"client_id": "x", "team_id": "T", "key_id": "K", "private_key": "nonsense"}})
    with pytest.raises(SettingsError, match="Unknown OAuth provider"):
        load_settings(oauth={"myspace": {"client_id": "x", "client_secret": "y"}})
    with pytest.raises(SettingsError, match="must be https"):
        load_settings(
            env="production",
            secret_key="k" * 40,
            public_url="https://eyevsai.example",
            oauth={"github": {"client_id": "x", "client_secret": "y", "token_url": "http://plain/token"}},
        )


def test_a_link_flow_finished_in_another_browser_links_nothing(make_harness) -> None:
    """Link CSRF: the attacker starts a link flow with their own token and sends the sign-in URL to a victim."""
    harness = make_harness("github")
    attacker = harness.api.guest()
    attackers_app, url = harness.begin("github", token=attacker["access_token"])
    attackers_app.stop()  # the attacker's listener is on the attacker's machine, not the victim's
    harness.providers["github"].user = ProviderUser("4242", email="victim@example.org", name="Victim")
    victims_browser = harness.browser()
    with pytest.raises(httpx.ConnectError):  # the victim's own loopback: nothing listens there
        victims_browser.open(url)
    assert harness.api.get("/api/v1/me", token=attacker["access_token"]).json()["providers"] == []
    # The victim's own sign-in with that provider later gets the victim's own new account, not the attacker's.
    victim = harness.tokens("github")
    assert victim["user"]["id"] != attacker["user"]["id"] and victim["user"]["providers"] == ["github"]


def test_a_link_is_made_only_when_the_initiating_app_redeems_the_code(make_harness) -> None:
    harness = make_harness("github")
    guest = harness.api.guest()
    app, _ = harness.sign_in("github", token=guest["access_token"])
    # The browser came back, but until the app that started the flow presents its verifier nothing is linked.
    assert harness.api.get("/api/v1/me", token=guest["access_token"]).json()["providers"] == []
    someone_else = LoopbackApp()  # a code that reached another app (its own verifier) is refused
    try:
        refused = harness.api.post(
            f"{OAUTH}/token", json={**someone_else.token_body(app.received["code"]), "redirect_uri": app.redirect_uri}
        )
    finally:
        someone_else.stop()
    assert refused.status_code == 400
    assert harness.api.get("/api/v1/me", token=guest["access_token"]).json()["providers"] == []
