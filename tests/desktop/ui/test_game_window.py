"""The game window played like a player would, offscreen, against the real bundled ONNX models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.app import content_roots
from desktop.app import main as eyevsai
from desktop.services.catalog import load_catalog
from desktop.services.store import Store
from game_rules.modes import MODES, Mode

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path):
    from desktop.ui.main_window import MainWindow

    store = Store(tmp_path / "eyevsai.db")
    win = MainWindow(load_catalog(content_roots(tmp_path)), store, device="cpu")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(win.opponents), timeout=20_000)  # the model is warmed while on the home screen
    yield win
    store.close()


def _start(qtbot, win) -> None:
    win.home.play.click()
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.round and win.round.buttons[0].isEnabled(), timeout=20_000)


def test_home_shows_device_and_opponents(window) -> None:
    assert "CPU" in window.home.device.text()
    assert window.home.difficulty.count() == 3
    level = window.home.difficulty.currentData()
    expected = [o for o in window.catalog.opponents_for("fashion-mnist") if o.difficulty == level]
    assert window.home.opponent.count() == len(expected) >= 1


def test_a_classic_session_with_keys_then_proof_verifies(qtbot, window, tmp_path: Path, capsys) -> None:
    _start(qtbot, window)
    session = window.session
    assert window.round.commitment.toolTip().endswith(session.commitments[0])
    for i in range(10):
        dealt = session.current_round()
        key = dealt.options.index(dealt.truth) + 1 if i % 2 == 0 else (dealt.options.index(dealt.truth) + 1) % 4 + 1
        qtbot.keyClick(window.round, str(key))
        assert "unchanged ✓" in window.round.padlock.line.text()
        assert not window.round.buttons[0].isEnabled()  # one answer per round
        qtbot.keyClick(window.round, Qt.Key.Key_Return)
        if session.has_next_round:
            qtbot.waitUntil(lambda: window.round.buttons[0].isEnabled(), timeout=5_000)
    assert window.stack.currentWidget() is window.end
    assert session.player_correct == 5 and len(session.results) == 10
    proof = tmp_path / "proof.json"
    window.export_proof(proof)
    assert json.loads(proof.read_text())["session_commitment"] == session.session_commitment
    stored = window.store.history()
    assert stored[0]["player_correct"] == 5 and stored[0]["status"] == "finished"
    assert eyevsai(["--data-dir", str(tmp_path), "--device", "cpu", "verify", str(proof), "--rerun"]) == 0
    assert "proof verified" in capsys.readouterr().out


def test_a_round_times_out_without_an_answer(qtbot, window, monkeypatch) -> None:
    monkeypatch.setitem(
        MODES,
        "classic",
        Mode("classic", rounds=10, seconds_per_round=0.3, total_seconds=None),
    )
    _start(qtbot, window)
    qtbot.waitUntil(lambda: bool(window.session.results), timeout=5_000)
    result = window.session.results[0]
    assert result.player_answer is None and result.points == 0
    assert "time ran out" in window.round.reveal.text()


def test_a_blitz_session_ends_when_the_clock_runs_out(qtbot, window, monkeypatch) -> None:
    monkeypatch.setitem(
        MODES,
        "blitz",
        Mode("blitz", rounds=None, seconds_per_round=None, total_seconds=2.0),
    )
    window.home.mode.setCurrentIndex(window.home.mode.findData("blitz"))
    _start(qtbot, window)
    for _ in range(3):
        dealt = window.session.current_round()
        window.round.answered.emit(dealt.truth)
        qtbot.waitUntil(
            lambda: (
                window.session is None
                or window.round.buttons[0].isEnabled()
                or window.stack.currentWidget() is window.end
            ),
            timeout=5_000,
        )
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.end, timeout=5_000)
    assert len(window.session.results) >= 3
    assert window.store.history()[0]["mode"] == "blitz"


def test_a_classic_session_against_a_fake_opponent(qtbot, tmp_path: Path) -> None:
    from desktop.ui.main_window import MainWindow
    from tests.helpers.fakes import fake_loader

    store = Store(tmp_path / "fake.db")
    win = MainWindow(load_catalog(content_roots(tmp_path)), store, opponent_loader=fake_loader())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: "Fake device" in win.home.device.text(), timeout=5_000)
    _start(qtbot, win)
    assert "Session commitment (10 dealt rounds)" in win.round.session_line.text()
    for _ in range(10):
        dealt = win.session.current_round()
        win.round.buttons[dealt.options.index(dealt.truth)].click()
        win.round.next.click()
        if win.session.has_next_round:
            qtbot.waitUntil(lambda: win.round.buttons[0].isEnabled(), timeout=5_000)
    assert win.stack.currentWidget() is win.end
    assert win.session.ai_correct == win.session.player_correct == 10 and win.session.winner == "draw"
    assert "draw" in win.end.summary.text()
    store.close()


def test_unreadable_images_are_never_dealt(qtbot, tmp_path: Path) -> None:
    import shutil

    from classifiers.locations import bundled_assets_dir
    from classifiers.pack import open_pack
    from desktop.services.dealer import SPARE_ROUNDS
    from desktop.ui.main_window import MainWindow
    from game_rules.deal import deal

    user_pack = tmp_path / "packs" / "fashion-mnist"  # the user's copy wins over the bundled pack
    shutil.copytree(bundled_assets_dir() / "packs" / "fashion-mnist", user_pack)
    pack = open_pack(user_pack)
    images = [(e.sha256, e.label) for e in pack.available("test")]
    broken = [r.image for r in deal("fixed", images, pack.classes, 10 + SPARE_ROUNDS)[:3]]
    for sha in broken:
        pack.image_path(sha).write_bytes(b"not an image")
    store = Store(tmp_path / "g.db")
    win = MainWindow(load_catalog(content_roots(tmp_path)), store, device="cpu", new_seed=lambda: "fixed")
    qtbot.addWidget(win)
    win.show()
    _start(qtbot, win)
    dealt = [r.image for r in win.session.rounds]
    assert len(dealt) == 10 and not set(dealt) & set(broken)
    assert [r.number for r in win.session.rounds] == list(range(1, 11))
    win.close()  # before the store it writes to on close
    store.close()


def test_quitting_mid_session_asks_then_abandons_it(qtbot, window) -> None:
    _start(qtbot, window)
    window.round.leave.click()
    box = window.quit_box
    qtbot.waitUntil(box.isVisible, timeout=2_000)
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # Esc keeps playing
    assert window.stack.currentWidget() is window.round and window.rounds.is_playing
    qtbot.keyClick(window.round, Qt.Key.Key_Escape)  # Esc on the round asks again
    box = window.quit_box
    qtbot.waitUntil(box.isVisible, timeout=2_000)
    next(b for b in box.buttons() if "Quit" in b.text()).click()
    assert window.stack.currentWidget() is window.home
    assert window.store.history() == []
