"""Accounts a player can trust: answers that reveal no address, mailed flows (confirm, reset, delete) over a real
SMTP conversation on loopback, passwords that are not common, names that cannot hide or spoof."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import unicodedata

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from sync_server import logs
from sync_server.models import AccountToken, GameSession, User
from tests.helpers.smtp_sink import SmtpSink
from tests.sync_server.helpers import ApiClient, FakeClock
from tests.sync_server.test_games import upload_body

AUTH = "/api/v1/auth"
PAGES = f"{AUTH}/mail"


def _comparable(pair: dict) -> dict:
    """A register answer without what differs for every account (tokens, id, creation time)."""
    user = {k: v for k, v in pair["user"].items() if k not in ("id", "created_at")}
    return {**{k: v for k, v in pair.items() if k not in ("access_token", "refresh_token", "user")}, "user": user}


def test_registering_a_taken_email_answers_exactly_like_a_free_one(api: ApiClient, mailbox: SmtpSink) -> None:
    api.register("ada@example.org")  # confirmed: the address belongs to this account
    mailbox.clear()
    taken = api.post(f"{AUTH}/register", json={"email": "ada@example.org", "password": "another one"})
    free = api.post(f"{AUTH}/register", json={"email": "bob@example.org", "password": "another one"})
    assert taken.status_code == free.status_code == 201
    same, other = _comparable(taken.json()), _comparable(free.json())
    # Only what the registrant typed differs (the address, and the name made from it).
    assert (same["user"].pop("email"), same["user"].pop("display_name")) == ("ada@example.org", "ada")
    assert (other["user"].pop("email"), other["user"].pop("display_name")) == ("bob@example.org", "bob")
    assert same == other and same["user"]["email_verified"] is False
    # The holder is told, instead of getting a link; the free address gets its confirmation link.
    (notice,) = mailbox.to("ada@example.org")
    assert notice["Subject"] == "You already have an EyeVsAI account" and "/mail/" not in notice.get_content()
    assert mailbox.last_token("bob@example.org", "verify-email")
    # The second registrant cannot take the address: its confirmation never came, so it does not sign in.
    login = api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "another one"})
    assert login.status_code == 401 and login.json() == {"detail": "Incorrect email or password"}


def test_upgrading_to_a_taken_email_answers_like_a_free_one(api: ApiClient, mailbox: SmtpSink) -> None:
    api.register("taken@example.org")
    answers = []
    for email in ("taken@example.org", "free@example.org"):
        guest = api.guest()
        upgraded = api.post(
            f"{AUTH}/upgrade", token=guest["access_token"], json={"email": email, "password": "guest pass"}
        )
        answers.append(
            (upgraded.status_code, {k: v for k, v in upgraded.json().items() if k not in ("id", "created_at")})
        )
    (taken_status, taken), (free_status, free) = answers
    assert taken_status == free_status == 200
    assert {**taken, "email": None, "display_name": None} == {**free, "email": None, "display_name": None}
    assert mailbox.to("taken@example.org")[-1]["Subject"] == "You already have an EyeVsAI account"


def test_an_unconfirmed_address_squats_nothing(api: ApiClient, mailbox: SmtpSink) -> None:
    squatter = api.register("victim@example.org", "squatter pass", confirm=False)
    victim = api.register("victim@example.org", "victims own pass")  # confirmed from the victim's mailbox
    assert (
        api.post(f"{AUTH}/login", json={"email": "victim@example.org", "password": "victims own pass"}).json()["user"][
            "id"
        ]
        == victim["user"]["id"]
    )
    me = api.get("/api/v1/me", token=squatter["access_token"]).json()
    assert me["email_verified"] is False and me["id"] != victim["user"]["id"]


def test_confirmation_links_are_single_use_hashed_and_expire(
    api: ApiClient, mailbox: SmtpSink, clock: FakeClock
) -> None:
    pair = api.register("ada@example.org", confirm=False)
    token = mailbox.last_token("ada@example.org", "verify-email")
    page = api.get(f"{PAGES}/verify-email", params={"token": token})  # opening the link changes nothing
    assert page.status_code == 200 and "<form" in page.text and page.headers["referrer-policy"] == "no-referrer"
    assert api.get("/api/v1/me", token=pair["access_token"]).json()["email_verified"] is False
    with api.app_state.db_sessions() as session:
        stored = session.scalars(select(AccountToken.token_hash)).all()
    assert token not in stored and all(len(value) == 64 for value in stored)
    assert api.post(f"{PAGES}/verify-email", data={"token": token}).status_code == 200
    assert api.post(f"{PAGES}/verify-email", data={"token": token}).status_code == 400  # spent
    resent = api.post("/api/v1/me/verify-email", token=pair["access_token"])
    assert resent.status_code == 202  # nothing waits any more: the same answer, no mail
    # A later address change waits 48 hours at most.
    api.patch(
        "/api/v1/me", token=pair["access_token"], json={"email": "new@example.org", "current_password": "correct horse"}
    )
    clock.advance(48 * 3600 + 1)
    late = api.post(f"{PAGES}/verify-email", data={"token": mailbox.last_token("new@example.org", "verify-email")})
    assert late.status_code == 400 and "expired" in late.text


def test_password_reset_by_mail(api: ApiClient, mailbox: SmtpSink, clock: FakeClock) -> None:
    pair = api.register("ada@example.org")
    known = api.post(f"{AUTH}/password-reset", json={"email": "ada@example.org"})
    unknown = api.post(f"{AUTH}/password-reset", json={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 202 and known.json() == unknown.json()
    assert mailbox.to("nobody@example.org") == []
    token = mailbox.last_token("ada@example.org", "reset-password")
    weak = api.post(f"{PAGES}/reset-password", data={"token": token, "password": "password1"})
    assert weak.status_code == 422 and "common" in weak.text  # and the link still works:
    done = api.post(f"{PAGES}/reset-password", data={"token": token, "password": "a brand new secret"})
    assert done.status_code == 200
    assert (
        api.post(f"{PAGES}/reset-password", data={"token": token, "password": "yet another secret"}).status_code == 400
    )
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "correct horse"}).status_code == 401
    assert (
        api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "a brand new secret"}).status_code
        == 200
    )
    api.post(f"{AUTH}/password-reset", json={"email": "ada@example.org"})
    clock.advance(3601)
    expired = api.post(
        f"{PAGES}/reset-password",
        data={"token": mailbox.last_token("ada@example.org", "reset-password"), "password": "a third good secret"},
    )
    assert expired.status_code == 400


def test_deleting_an_account_with_an_email_takes_the_mailed_link(api: ApiClient, mailbox: SmtpSink) -> None:
    pair = api.register("ada@example.org")
    assert api.post("/api/v1/sessions", token=pair["access_token"], json=upload_body()).status_code == 201
    asked = api.request("DELETE", "/api/v1/me", token=pair["access_token"])
    assert asked.status_code == 202
    assert api.get("/api/v1/me", token=pair["access_token"]).status_code == 200  # nothing happens before the link
    token = mailbox.last_token("ada@example.org", "delete-account")
    assert api.post(f"{PAGES}/delete-account", data={"token": token}).status_code == 200
    assert api.get("/api/v1/me", token=pair["access_token"]).status_code == 401
    assert api.post(f"{AUTH}/login", json={"email": "ada@example.org", "password": "correct horse"}).status_code == 401
    with api.app_state.db_sessions() as session:
        assert session.scalar(select(User.id)) is None and session.scalar(select(GameSession.id)) is None
    assert api.post(f"{PAGES}/delete-account", data={"token": token}).status_code == 400


def test_a_guest_is_deleted_at_once(api: ApiClient) -> None:
    guest = api.guest()
    assert api.request("DELETE", "/api/v1/me", token=guest["access_token"]).status_code == 204
    assert api.post(f"{AUTH}/refresh", json={"refresh_token": guest["refresh_token"]}).status_code == 401


@pytest.mark.parametrize("password", ["12345678", "password", "aaaaaaaa", "qwerty123", "Password1!", "ada@example.org"])
def test_common_passwords_are_refused(api: ApiClient, password: str) -> None:
    response = api.post(f"{AUTH}/register", json={"email": "ada@example.org", "password": password})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "password"] and "Choose a less common password" in error["msg"]
    assert "input" not in error  # the refused password is not echoed back


@pytest.mark.parametrize(
    "name",
    [
        "\u202eevil",
        "\u200b",
        "\ufeff",
        "\u3164",
        "a\u200d\u200d",
        "Z" + "\u0301" * 39,
        "line\u2028break",
        "\u2800\u2800",
    ],
)
def test_names_that_hide_or_spoof_are_refused(api: ApiClient, name: str) -> None:
    assert api.post(f"{AUTH}/guest", json={"display_name": name}).status_code == 422
    ada = api.register("ada@example.org")
    assert api.patch("/api/v1/me", token=ada["access_token"], json={"display_name": name}).status_code == 422


@pytest.mark.parametrize("name", ["Ada 🦊", "Аda", "<script>", "Nguyễn", "ＡＤＡ"])
def test_ordinary_names_are_kept(api: ApiClient, name: str) -> None:
    assert api.guest(display_name=name)["user"]["display_name"] == unicodedata.normalize("NFKC", name)


def test_the_name_taken_from_an_email_follows_the_same_rule(api: ApiClient) -> None:
    refused = api.post(f"{AUTH}/register", json={"email": "\x1b[2J\x07@evil.example", "password": "correct horse"})
    assert refused.status_code == 422  # control characters never get past the edge
    hostile = api.register("\u202eAnn\u2066[2J@evil.example", confirm=False)
    assert hostile["user"]["display_name"] == "ann[2j"  # lower-cased with the address; no bidi control left
    invisible = api.register("\u200b\u200b@evil.example", confirm=False)
    assert invisible["user"]["display_name"].startswith("Player-")


def test_a_mail_server_that_is_down_does_not_fail_the_request(make_client, capsys: pytest.CaptureFixture) -> None:
    api = make_client(mail={"host": "127.0.0.1", "port": 9, "security": "none", "timeout_s": 2}, log_level="INFO")
    register = api.post(f"{AUTH}/register", json={"email": "ada@example.org", "password": "correct horse"})
    assert register.status_code == 201
    logs.flush()  # the log thread writes what is queued
    log = capsys.readouterr().err
    assert '"msg": "mail not sent"' in log and "ada@example.org" not in log


def _self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_mail_goes_through_starttls_with_a_login(make_client, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(_server, _session, _envelope, _mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"relay secret")

    relay = SmtpSink(tls_context=server_tls, require_starttls=True, authenticator=authenticate).start()
    # The relay's certificate is self-signed: trust it the way an operator adds a private CA to the system store.
    trusting = ssl.create_default_context
    monkeypatch.setattr("sync_server.mail.ssl.create_default_context", lambda: trusting(cafile=cert))
    try:
        mail = relay.settings(security="starttls", username="eyevsai", password="relay secret")
        api = make_client(mail=mail)
        api.post(f"{AUTH}/register", json={"email": "ada@example.org", "password": "correct horse"})
        assert relay.last_token("ada@example.org", "verify-email")
        assert logins == [(b"eyevsai", b"relay secret")] and relay.mails[0][2] is True  # authenticated, over TLS
    finally:
        relay.stop()
