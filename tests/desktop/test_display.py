"""Starting the game where no window can open gives a clear message instead of Qt's abort."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.app import display_problem, main


@pytest.mark.parametrize(("environ", "platform", "blocked"), [
    ({}, "linux", True),
    ({"QT_QPA_PLATFORM": ""}, "linux", True),
    ({"DISPLAY": ":0"}, "linux", False),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({}, "win32", False),
    ({}, "darwin", False),
])
def test_display_problem(environ: dict[str, str], platform: str, blocked: bool) -> None:
    problem = display_problem(environ, platform)
    assert (problem is not None) == blocked
    if blocked:
        assert "DISPLAY" in problem and "--self-test" in problem


def test_the_game_exits_with_a_message_when_there_is_no_display(monkeypatch, tmp_path: Path, capsys) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["--data-dir", str(tmp_path)]) == 2
    assert "no display to open the window on" in capsys.readouterr().err
