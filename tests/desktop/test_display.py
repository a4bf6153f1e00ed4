"""Starting the game where no window can open gives a clear message and exit code 2 instead of Qt's abort."""

from __future__ import annotations

from pathlib import Path

from desktop.app import main


def test_the_game_exits_with_a_message_when_there_is_no_display(monkeypatch, tmp_path: Path, capsys) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main(["--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no display to open a window on" in err and "eyevsai --self-test" in err
