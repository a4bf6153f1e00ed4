"""display_problem: when a GUI program cannot open a window (Qt would abort instead of saying so)."""

from __future__ import annotations

import pytest

from classifiers.locations import display_problem


@pytest.mark.parametrize(
    ("environ", "platform", "blocked"),
    [
        ({}, "linux", True),
        ({"QT_QPA_PLATFORM": ""}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_display_problem(environ: dict[str, str], platform: str, blocked: bool) -> None:
    problem = display_problem(environ, platform)
    assert (problem is not None) == blocked
    if blocked:
        assert "DISPLAY and WAYLAND_DISPLAY are unset" in problem
