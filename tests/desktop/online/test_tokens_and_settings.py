"""Where the sign-in is kept (keyring, or a visible fallback) and the server setting (default: none, offline)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from desktop.services.online.settings import (
    Account,
    OnlineSettingsError,
    normalise_server_url,
    read_settings,
    write_settings,
)
from desktop.services.online.tokens import KEYRING_SERVICE, TOKEN_FILE, TokenStorage, TokenStore

URL = "https://eyevsai.example.org"


def test_the_refresh_token_lives_in_the_keyring_and_survives_a_restart(data_dir: Path, keyring_backend) -> None:
    tokens = TokenStore(URL, data_dir, backend=keyring_backend)
    assert tokens.storage is TokenStorage.keyring and tokens.problem is None
    tokens.save("access-1", "refresh-1")
    assert keyring_backend.secrets == {(KEYRING_SERVICE, f"refresh-token {URL}"): "refresh-1"}
    assert not (data_dir / TOKEN_FILE).exists()
    restarted = TokenStore(URL, data_dir, backend=keyring_backend)
    assert restarted.refresh_token() == "refresh-1" and restarted.access_token is None  # access: memory only
    restarted.clear()
    assert keyring_backend.secrets == {} and TokenStore(URL, data_dir, backend=keyring_backend).refresh_token() is None


def test_without_a_keyring_the_sign_in_stays_in_memory_and_says_so(data_dir: Path) -> None:
    tokens = TokenStore(URL, data_dir, backend=NoKeyring())
    assert tokens.storage is TokenStorage.memory
    assert tokens.problem == "No system keyring was found on this computer."
    tokens.save("access", "refresh")  # never raises
    assert tokens.refresh_token() == "refresh"
    assert list(data_dir.iterdir()) == []  # never a silent plaintext file
    assert TokenStore(URL, data_dir, backend=NoKeyring()).refresh_token() is None  # gone after a restart


def test_a_token_file_only_when_allowed_readable_by_the_owner_only(data_dir: Path) -> None:
    tokens = TokenStore(URL, data_dir, backend=NoKeyring())
    tokens.save("access", "refresh")
    tokens.allow_file(True)
    assert tokens.storage is TokenStorage.file
    path = data_dir / TOKEN_FILE
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TokenStore(URL, data_dir, file_allowed=True, backend=NoKeyring()).refresh_token() == "refresh"
    tokens.allow_file(False)  # changing one's mind removes the file, keeps the sign-in for this run
    assert not path.exists() and tokens.refresh_token() == "refresh"


def test_a_keyring_that_fails_when_writing_falls_back_without_crashing(data_dir: Path, keyring_backend) -> None:
    def locked(*_args: object) -> None:
        raise RuntimeError("org.freedesktop.Secret.Error.IsLocked: the collection is locked")

    keyring_backend.set_password = locked
    tokens = TokenStore(URL, data_dir, backend=keyring_backend)
    tokens.save("access", "refresh")
    assert tokens.storage is TokenStorage.memory
    assert tokens.problem == (
        "The system keyring could not be used (RuntimeError: org.freedesktop.Secret.Error."
        "IsLocked: the collection is locked)."
    )
    assert tokens.refresh_token() == "refresh"


def test_the_default_is_no_server_and_settings_round_trip(data_dir: Path) -> None:
    assert read_settings(data_dir).server_url is None and read_settings(data_dir).is_offline
    account = Account("id-1", "Ann", True)
    write_settings(data_dir, read_settings(data_dir).with_server("eyevsai.example.org/"))
    settings = read_settings(data_dir)
    assert settings.server_url == URL
    write_settings(data_dir, type(settings)(server_url=URL, account=account))
    assert read_settings(data_dir).account == account
    assert read_settings(data_dir).with_server("http://127.0.0.1:8000").account is None  # another server's sign-in
    (data_dir / "online.json").write_text("{not json")
    assert read_settings(data_dir).is_offline  # a damaged file never stops the game


@pytest.mark.parametrize("text", ["ftp://example.org", "http://", "https://host:port", "https://h?x=1"])
def test_bad_server_addresses_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(OnlineSettingsError, match="example.org"):
        normalise_server_url(text)
    assert normalise_server_url("  ") is None and normalise_server_url("none") is None
