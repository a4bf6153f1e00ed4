"""Fixtures for the game's online tests: the real server on loopback, an in-memory keyring, offline sessions."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend

from classifiers.locations import bundled_assets_dir
from desktop.core.session import GameSession
from desktop.services.catalog import load_catalog
from desktop.services.dealer import start_session
from desktop.services.store import Store
from game_rules.commitment import new_salt
from game_rules.modes import MODES
from tests.desktop.online.server import LiveServer, start_server
from tests.helpers.fakes import FakeOpponent


class MemoryKeyring(KeyringBackend):
    """A working keyring backend that keeps secrets in a dict (what a desktop's Secret Service would do)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("sync-server"), oauth_providers=_oauth_names())
    yield server
    server.stop()


def _oauth_names() -> tuple[str, ...]:
    try:
        import tests.sync_server.fake_provider  # noqa: F401 - the server's OAuth tests bring the fake provider
    except ImportError:
        return ()
    return ("github", "google")


@pytest.fixture(autouse=True)
def _no_real_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the developer's keyring: the default backend (here and in child processes) is the failing one,
    as on a headless machine; tests that want a working keyring pass MemoryKeyring explicitly."""
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _open_gate(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "live_server" in request.fixturenames:
        request.getfixturevalue("live_server").gate.hold(None)


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture(scope="session")
def catalog():
    return load_catalog([bundled_assets_dir()])


def play_offline(
    store: Store, catalog, *, profile: str = "Ann", mode: str = "classic", right: int = 7, difficulty: str = "medium"
) -> GameSession:
    """Play and store a whole session the way the game window does, against a stand-in opponent."""
    pack = catalog.packs["fashion-mnist"]
    entry = catalog.opponents_for(pack.id, difficulty)[0]
    session = start_session(
        pack, FakeOpponent(entry), MODES[mode], seed=uuid.uuid4().hex, session_id=str(uuid.uuid4()), new_salt=new_salt
    )
    store.begin_session(session, store.profile_id(profile), entry.difficulty)
    for i in range(len(session.rounds) if mode == "classic" else 5):
        dealt = session.current_round()
        store.save_round(session.session_id, session.answer(dealt.truth if i < right else None, 1.5 + i))
    store.finish_session(session)
    return session


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "game"
    path.mkdir()
    return path
