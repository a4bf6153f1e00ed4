"""Accounts: register, login, guests, upgrade, me, refresh-token rotation with reuse detection, logout.

Mailed flows (confirmation, reset, deletion) and what players may choose (names, passwords): test_account_mail.py.
"""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from tests.sync_server.helpers import ApiClient

AUTH = "/api/v1/auth"


def test_register_signs_in_and_me_shows_the_account(api: ApiClient) -> None:
    pair = api.register("Ada@Example.org", display_name="Ada")
    assert pair["token_type"] == "bearer" and pair["expires_in"] == 15 * 60
    me = api.get("/api/v1/me", token=pair["access_token"]).json()
    assert me["email"] == "ada@example.org"  # normalised
    assert me["display_name"] == "Ada" and me["is_guest"] is False and me["providers"] == []


def test_register_refuses_bad_input(api: ApiClient) -> None:
    assert api.post(f"{AUTH}/register", json={"email": "x@y.z", "password": "short"}).status_code == 422
    assert api.post(f"{AUTH}/register", json={"email": "not-an-email", "password": "long enough"}).status_code == 422
    extra = api.post(f"{AUTH}/register", json={"email": "b@example.org", "password": "long enough", "admin": True})
    assert extra.status_code == 422


def test_validation_errors_do_not_echo_the_password(api: ApiClient) -> None:
    response = api.post(f"{AUTH}/register", json={"email": "x@y.z", "password": "secret7"})
    assert response.status_code == 422 and "secret7" not in response.text


def test_login_with_wrong_password_or_unknown_email_gives_the_same_answer(api: ApiClient) -> None:
    api.register()
    good = api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "correct horse"})
    assert good.status_code == 200 and good.json()["user"]["email"] == "ada@example.org"
    wrong = api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "wrong horse"})
    unknown = api.post(f"{AUTH}/login", json={"email": "bob@example.org", "password": "wrong horse"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect email or password"}


def test_unknown_account_still_pays_for_a_password_check(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    calls: list[str] = []
    real_verify = PasswordHasher.verify  # the instance has __slots__: patch the class
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, stored, pw: calls.append(stored) or real_verify(self, stored, pw)
    )
    api.post(f"{AUTH}/login", json={"email": "nobody@example.org", "password": "whatever1"})
    assert calls == [api.app_state.passwords._dummy_hash]


def test_me_needs_a_valid_token(api: ApiClient) -> None:
    assert api.get("/api/v1/me").status_code == 401
    bad = api.get("/api/v1/me", token="not.a.jwt")
    assert bad.status_code == 401 and bad.json() == {"detail": "Could not validate credentials"}
    forged = jwt.encode({"sub": "x", "exp": time.time() + 60, "iat": time.time(), "typ": "access"}, "k" * 32)
    assert api.get("/api/v1/me", token=forged).status_code == 401


def test_access_tokens_expire(api: ApiClient, clock) -> None:
    pair = api.register()
    token = api.app_state.tokens.issue(pair["user"]["id"], now=clock().replace(year=2020))[0]
    assert api.get("/api/v1/me", token=token).status_code == 401


def test_a_token_that_worked_stops_working_when_it_expires(api: ApiClient, clock) -> None:
    """The server remembers tokens it verified; it still checks their expiry on every request."""
    token = api.register()["access_token"]
    assert api.get("/api/v1/me", token=token).status_code == 200
    clock.advance(15 * 60 + 1)
    assert api.get("/api/v1/me", token=token).status_code == 401


def test_a_refresh_token_token_is_not_an_access_token(api: ApiClient) -> None:
    pair = api.register()
    assert api.get("/api/v1/me", token=pair["refresh_token"]).status_code == 401


def test_guest_plays_then_upgrades_keeping_its_id(api: ApiClient) -> None:
    guest = api.guest()
    assert guest["user"]["is_guest"] is True and guest["user"]["display_name"].startswith("Guest-")
    token = guest["access_token"]
    upgraded = api.post(f"{AUTH}/upgrade", token=token, json={"email": "g@example.org", "password": "guest pass"})
    assert upgraded.status_code == 200
    assert upgraded.json()["id"] == guest["user"]["id"] and upgraded.json()["is_guest"] is False
    assert upgraded.json()["email"] == "g@example.org" and upgraded.json()["email_verified"] is False
    api.confirm_email("g@example.org")
    login = api.post(f"{AUTH}/login", json={"email": "g@example.org", "password": "guest pass"}).json()
    assert login["user"]["id"] == guest["user"]["id"] and login["user"]["email_verified"] is True
    again = api.post(f"{AUTH}/upgrade", token=token, json={"email": "h@example.org", "password": "guest pass"})
    assert again.status_code == 409


def test_update_me(api: ApiClient) -> None:
    pair = api.register()
    token = pair["access_token"]
    renamed = api.patch("/api/v1/me", token=token, json={"display_name": "  Countess  "})
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Countess"
    no_password = api.patch("/api/v1/me", token=token, json={"email": "new@example.org"})
    assert no_password.status_code == 403
    wrong = api.patch("/api/v1/me", token=token, json={"new_password": "brand new pw", "current_password": "nope"})
    assert wrong.status_code == 403
    changed = api.patch(
        "/api/v1/me",
        token=token,
        json={"email": "new@example.org", "new_password": "brand new pw", "current_password": "correct horse"},
    )
    # The old address signs in until the new one is confirmed from the mail sent to it.
    assert changed.status_code == 200 and changed.json()["email"] == "ada@example.org"
    # A password change signs out the other sign-ins.
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "brand new pw"}).status_code == 200
    api.confirm_email("new@example.org")
    assert api.post(f"{AUTH}/login", json={"email": "new@example.org", "password": "brand new pw"}).status_code == 200
    assert api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "brand new pw"}).status_code == 401


def test_update_me_refuses_credentials_for_guests_and_bad_names(api: ApiClient) -> None:
    guest = api.guest()
    assert api.patch("/api/v1/me", token=guest["access_token"], json={"email": "x@example.org"}).status_code == 400
    second = api.register("second@example.org")
    assert api.patch("/api/v1/me", token=second["access_token"], json={"display_name": ""}).status_code == 422


def refresh(api: ApiClient, token: str) -> httpx.Response:
    return api.post(f"{AUTH}/refresh", json={"refresh_token": token})


def test_refresh_rotates_and_reuse_revokes_the_family(api: ApiClient) -> None:
    first = api.register()
    second = refresh(api, first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert api.get("/api/v1/me", token=second["access_token"]).status_code == 200
    third = refresh(api, second["refresh_token"]).json()  # the owner uses the new token
    # The spent token comes back (stolen copy): refused, and the whole chain is revoked.
    assert refresh(api, first["refresh_token"]).status_code == 401
    assert refresh(api, third["refresh_token"]).status_code == 401


def test_a_lost_refresh_response_can_be_retried_once_the_new_token_is_unused(api: ApiClient) -> None:
    first = api.register()
    lost = refresh(api, first["refresh_token"]).json()  # the server rotated; the client never got the answer
    again = refresh(api, first["refresh_token"])  # so it retries with the token it still has
    assert again.status_code == 200
    again = again.json()
    retried = refresh(api, first["refresh_token"]).json()  # the retry's answer is lost too: still fine
    assert retried["user"]["id"] == first["user"]["id"]
    assert refresh(api, again["refresh_token"]).status_code == 401  # replaced by the second retry
    # ...and a replaced token turning up means a copy exists: the whole sign-in is revoked, the live one too
    assert refresh(api, retried["refresh_token"]).status_code == 401
    assert refresh(api, lost["refresh_token"]).status_code == 401


def test_a_retry_after_the_new_token_was_used_is_reuse(api: ApiClient) -> None:
    first = api.register()
    second = refresh(api, first["refresh_token"]).json()
    third = refresh(api, second["refresh_token"]).json()
    assert refresh(api, second["refresh_token"]).status_code == 200  # third unused: a retry of the last exchange
    assert refresh(api, first["refresh_token"]).status_code == 401  # further back: a copy, the family is revoked
    assert refresh(api, third["refresh_token"]).status_code == 401


def test_reuse_revokes_only_that_sign_in(api: ApiClient) -> None:
    laptop = api.register()
    phone = api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "correct horse"}).json()
    second = refresh(api, laptop["refresh_token"]).json()
    refresh(api, second["refresh_token"])
    assert refresh(api, laptop["refresh_token"]).status_code == 401
    assert refresh(api, phone["refresh_token"]).status_code == 200


def test_refresh_tokens_expire_and_unknown_ones_fail(api: ApiClient, clock) -> None:
    pair = api.register()
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": "x" * 43}).status_code == 401
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": "short"}).status_code == 422
    clock.advance(31 * 86_400)
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_logout_revokes_the_sign_in_and_is_idempotent(api: ApiClient) -> None:
    pair = api.register()
    assert api.post(f"{AUTH}/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert api.post(f"{AUTH}/logout", json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_logout_all_revokes_every_device(api: ApiClient) -> None:
    laptop = api.register()
    phone = api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "correct horse"}).json()
    assert api.post(f"{AUTH}/logout-all", token=laptop["access_token"]).status_code == 204
    for pair in (laptop, phone):
        assert api.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert api.post(f"{AUTH}/logout-all").status_code == 401


def test_refresh_tokens_are_stored_hashed(api: ApiClient) -> None:
    from sqlalchemy import select

    from sync_server.models import RefreshToken

    pair = api.register()
    with api.app_state.db_sessions() as session:
        stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert pair["refresh_token"] not in stored and len(stored) == 1 and len(stored[0]) == 64
