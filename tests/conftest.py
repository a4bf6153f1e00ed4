"""Test-wide settings: Qt renders offscreen; no test writes into the real user data folders."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# property tests judge behaviour, not speed: a busy CI machine must not fail them on hypothesis's 200 ms deadline
settings.register_profile("eyevsai", deadline=None)
settings.load_profile("eyevsai")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("EYEVSAI_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("EYEVSAI_WORKSPACE", str(home / "workspace"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses Qt (the `qtbot` fixture) is a `gui` test, marked or not, so `make test-fast` skips it."""
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)
