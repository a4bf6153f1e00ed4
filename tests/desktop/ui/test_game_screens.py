"""The game's screens as a player meets them: a whole session by keyboard, where the AI looked, problems with the
player's content said on home, the share text, remembered choices."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.app import content_roots
from desktop.services.catalog import load_catalog
from desktop.services.store import Store
from desktop.ui.prefs import Prefs

pytestmark = pytest.mark.gui
WAIT_MS = 20_000


def _window(qtbot, tmp_path: Path, **kwargs):
    from desktop.ui.main_window import MainWindow

    store = kwargs.pop("store", None) or Store(tmp_path / "eyevsai.db")
    win = MainWindow(load_catalog(content_roots(tmp_path)), store, device="cpu", **kwargs)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(win.opponents), timeout=WAIT_MS)
    return win, store


def test_a_classic_session_by_keyboard_alone_from_home_to_end_and_back(qtbot, tmp_path: Path) -> None:
    win, store = _window(qtbot, tmp_path)
    assert win.home.intro.isVisibleTo(win)  # first launch: how to play
    qtbot.keyClick(win.home.intro.button, Qt.Key.Key_Return)  # "Got it" has the focus
    assert not win.home.intro.isVisibleTo(win)
    qtbot.keyClick(win.home, Qt.Key.Key_Return)  # Enter plays
    qtbot.waitUntil(
        lambda: win.stack.currentWidget() is win.round and win.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    session = win.session
    for _ in range(10):
        dealt = session.current_round()
        qtbot.keyClick(win.round, str(dealt.options.index(dealt.truth) + 1))
        assert win.round.next.isEnabled() and win.round.padlock.icon.is_open
        qtbot.keyClick(win.round, Qt.Key.Key_Return)
        if session.has_next_round:
            qtbot.waitUntil(lambda: win.round.buttons[0].isEnabled(), timeout=5_000)
    assert win.stack.currentWidget() is win.end
    assert len(win.end.gallery.cards) == 10 and session.player_correct == 10
    assert "You 10" in win.end.summary.text()
    assert not win.end.review.tabKeyNavigation()  # Tab leaves the table
    qtbot.keyClick(win.end, Qt.Key.Key_Escape)  # Esc goes home
    assert win.stack.currentWidget() is win.home
    assert "10 : " in win.home.last.body.text()
    qtbot.keyClick(win.home, Qt.Key.Key_Return)  # and Enter plays again
    qtbot.waitUntil(
        lambda: win.stack.currentWidget() is win.round and win.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    win.close()
    store.close()


def test_r_plays_again_from_the_end_screen(qtbot, tmp_path: Path) -> None:
    from tests.helpers.fakes import fake_loader

    win, store = _window(qtbot, tmp_path, opponent_loader=fake_loader())
    win.home.play.click()
    qtbot.waitUntil(
        lambda: win.stack.currentWidget() is win.round and win.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    first = win.session
    for _ in range(10):
        qtbot.keyClick(win.round, "1")
        qtbot.keyClick(win.round, Qt.Key.Key_Return)
        if first.has_next_round:
            qtbot.waitUntil(lambda: win.round.buttons[0].isEnabled(), timeout=5_000)
    assert win.stack.currentWidget() is win.end
    qtbot.keyClick(win.end, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: win.session is not first and win.stack.currentWidget() is win.round, timeout=WAIT_MS)
    win.close()
    store.close()


def test_where_the_ai_looked_overlays_the_picture_after_the_reveal(qtbot, tmp_path: Path) -> None:
    win, store = _window(qtbot, tmp_path)
    win.home.play.click()
    qtbot.waitUntil(
        lambda: win.stack.currentWidget() is win.round and win.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    assert not win.round.looked.isEnabled()  # nothing to show before the reveal
    qtbot.keyClick(win.round, "1")
    qtbot.keyClick(win.round, Qt.Key.Key_H)
    qtbot.waitUntil(lambda: win.round.image.overlay is not None, timeout=WAIT_MS)
    assert win.round.looked.isChecked()
    qtbot.keyClick(win.round, Qt.Key.Key_H)
    assert win.round.image.overlay is None
    win.close()
    store.close()


def _corrupt_model(data: Path) -> str:
    from classifiers.locations import bundled_assets_dir

    target = data / "models" / "broken-copy"
    shutil.copytree(bundled_assets_dir() / "models" / "fashion-mnist-shallow-logreg", target)
    card = json.loads((target / "model.json").read_text())
    card["id"] = "broken-copy"
    (target / "model.json").write_text(json.dumps(card))
    next(target.glob("*.onnx")).write_bytes(b"not a model")
    return "broken-copy"


def _card_without_fields(data: Path) -> str:
    target = data / "models" / "half-card"
    target.mkdir(parents=True)
    (target / "model.json").write_text(json.dumps({"id": "half-card", "title": "Half"}))
    return "half-card"


@pytest.mark.parametrize("plant", [_corrupt_model, _card_without_fields])
def test_every_problem_with_the_players_content_is_listed_on_home(qtbot, tmp_path: Path, plant) -> None:
    name = plant(tmp_path)
    win, store = _window(qtbot, tmp_path)
    problems = win.catalog.problems
    assert any(name in p for p in problems)
    assert win.home.problems.isVisibleTo(win)
    assert f"{len(problems)} problem" in win.home.problems.text.text()
    qtbot.keyClick(win.home.problems.details, Qt.Key.Key_Space)
    assert all(html.escape(p) in win.problems_dialog.text.text() for p in problems)  # each in full
    assert win.home.play.isEnabled()  # the rest stays playable
    win.close()
    store.close()


def test_a_read_only_data_folder_is_said_on_home(qtbot, tmp_path: Path) -> None:
    import sqlite3

    import sqlite_utils

    problem = f"Your data folder {tmp_path} is read-only: playing without saving history."
    store = Store(tmp_path / "eyevsai.db", db=sqlite_utils.Database(sqlite3.connect(":memory:")), problem=problem)
    win, _ = _window(qtbot, tmp_path, store=store)
    assert win.home.notice.isVisibleTo(win) and "read-only" in win.home.notice.text()
    win.close()
    store.close()


def test_share_copies_the_result_text(qtbot, tmp_path: Path) -> None:
    from tests.helpers.fakes import fake_loader

    win, store = _window(qtbot, tmp_path, opponent_loader=fake_loader())
    win.home.play.click()
    qtbot.waitUntil(
        lambda: win.stack.currentWidget() is win.round and win.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    for _ in range(10):
        dealt = win.session.current_round()
        win.round.answered.emit(dealt.truth)
        win.round.next.click()
    assert win.stack.currentWidget() is win.end
    win.end.buttons["share"].click()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("EyeVsAI classic") and "You 10/10" in text
    assert win.career.share_dialog is not None and not win.career.share_dialog.image.isNull()
    win.close()
    store.close()


def test_the_last_setup_and_the_image_scaling_are_remembered(qtbot, tmp_path: Path) -> None:
    prefs = Prefs(tmp_path / "settings.json")
    win, store = _window(qtbot, tmp_path, prefs=prefs)
    win.home.difficulty.setCurrentIndex(win.home.difficulty.findData("hard"))
    win.home.mode.setCurrentIndex(win.home.mode.findData("blitz"))
    win.round.scaling.click()
    win.close()
    again, _ = _window(qtbot, tmp_path, store=store, prefs=Prefs(tmp_path / "settings.json"))
    assert again.home.difficulty.currentData() == "hard" and again.home.mode.currentData() == "blitz"
    assert again.round.image.scaling == "smooth"
    assert not again.home.intro.isVisibleTo(again) or not prefs.get("intro_seen")
    again.close()
    store.close()
