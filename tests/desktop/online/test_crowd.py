"""What other players did, in the game window (issue 20): the line at a round's reveal, the pack's galleries on the
end screens and the crowd's series on the stats screen, against the real server on loopback with a crowd of
simulated players, and with no server (or none reachable): no line, no gallery, no error."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from desktop.services.online.connection import OnlineConnection
from desktop.services.online.crowd import ImageCrowd, offline_image_crowd, pack_crowd, parse_image, parse_pack
from desktop.services.store import Store
from tests.desktop.online.crowd_seed import SHARED_SEED, seed_offline, seed_ranked
from tests.desktop.online.server import LiveServer, start_server
from tests.desktop.online.test_online_window import WAIT_MS, sign_in_as_guest
from tests.helpers.fakes import fake_loader

CROWD_LINE = re.compile(r"^\d+ % of players got this right")
MIN_PLAYERS = 3
CROWD_PLAYERS = 4


@pytest.fixture(scope="module")
def crowd_server(tmp_path_factory: pytest.TempPathFactory, catalog) -> LiveServer:
    """A server dealing ranked rounds from 10 images (so every player sees the same ones), with a crowd on it."""
    tmp = tmp_path_factory.mktemp("crowd-server")
    server = start_server(tmp, ranked_images=10, crowd_min_players=MIN_PLAYERS)
    try:
        seed_ranked(server, catalog, tmp / "players", [f"Ranked {k}" for k in range(CROWD_PLAYERS)])
        seed_offline(server, catalog, tmp / "players", CROWD_PLAYERS)
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_window(qtbot, data_dir: Path, catalog):
    from desktop.ui.main_window import MainWindow
    from desktop.ui.online_ui import OnlineUi

    made = []

    def make(*, keyring_backend=None):
        store = Store(data_dir / "eyevsai.db")
        online = OnlineConnection(data_dir, store, keyring_backend=keyring_backend or NoKeyring())
        window = MainWindow(catalog, store, device="cpu", opponent_loader=fake_loader(), new_seed=lambda: SHARED_SEED)
        errors: list[Exception] = []
        window.reporter.error = lambda exc, details="": errors.append(exc)  # any error shown would fail the test
        ui = OnlineUi(window, online)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: bool(window.opponents), timeout=WAIT_MS)
        made.append((ui, store))
        return window, ui, errors

    yield make
    for ui, store in made:
        ui.shutdown()
        store.close()


def _settled(ui) -> bool:
    """No crowd statistic (or other online call) is still on its way."""
    return ui.controller.pool.activeThreadCount() == 0


def _play_classic(qtbot, window, ui, reveal_lines: list[str], *, wait_for_line: bool) -> None:
    window.home.play.click()
    qtbot.waitUntil(
        lambda: window.stack.currentWidget() is window.round and window.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    session = window.session
    while session.has_next_round:
        window.round.answered.emit(session.current_round().truth)
        if wait_for_line:
            qtbot.waitUntil(lambda: window.round.crowd.text() != "", timeout=WAIT_MS)
        else:
            qtbot.waitUntil(lambda: _settled(ui), timeout=WAIT_MS)
        reveal_lines.append(window.round.crowd.text())
        window.round.next.click()
        if session.has_next_round:
            qtbot.waitUntil(lambda: window.round.buttons[0].isEnabled(), timeout=WAIT_MS)
    assert window.stack.currentWidget() is window.end


# -- reading the server's answers -----------------------------------------------------------------------------------
def test_a_withheld_statistic_or_no_server_is_no_statistic() -> None:
    assert parse_image({"enough_players": False, "accuracy": None, "players": None}, "ab") is None
    assert parse_pack({"enough_players": False, "per_class": [], "hardest": [], "fool_ai": []}, "p") is None
    shown = parse_image({"enough_players": True, "accuracy": 0.62, "players": 9, "verified": True}, "ab")
    assert shown == ImageCrowd("ab", 9, 0.62) and shown.line == "62 % of players got this right"
    assert offline_image_crowd(None, "p", "ab") is None and pack_crowd(None, "p") is None


# -- no server, or none that answers ---------------------------------------------------------------------------------
@pytest.mark.gui
def test_offline_the_game_shows_no_crowd_and_says_nothing(qtbot, make_window) -> None:
    window, ui, errors = make_window()
    lines: list[str] = []
    _play_classic(qtbot, window, ui, lines, wait_for_line=False)
    assert lines and set(lines) == {""}
    assert not window.end.tabs.isTabVisible(window.end.tabs.indexOf(window.end.crowd))
    window.end.stats_requested.emit()
    assert [s.name for s in window.career.stats.bars.series] == ["You", window.session.opponent.title]
    assert not window.career.stats.crowd_note.isVisible() and errors == []


@pytest.mark.gui
def test_an_unreachable_server_shows_no_crowd_and_no_error(qtbot, make_window) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    window, ui, errors = make_window()
    ui.controller.set_server(url)
    lines: list[str] = []
    _play_classic(qtbot, window, ui, lines, wait_for_line=False)
    qtbot.waitUntil(lambda: _settled(ui), timeout=WAIT_MS)
    assert set(lines) == {""} and not window.end.crowd.is_shown
    assert window.end.tabs.count() == 3 and not window.end.tabs.isTabVisible(2)
    assert errors == [] and window.end.buttons["again"].isEnabled()


# -- a crowd on the server ------------------------------------------------------------------------------------------
@pytest.mark.gui
def test_the_reveal_line_galleries_and_stats_with_a_crowd(qtbot, make_window, crowd_server) -> None:
    window, ui, errors = make_window()
    ui.controller.set_server(crowd_server.url)
    lines: list[str] = []
    _play_classic(qtbot, window, ui, lines, wait_for_line=True)
    assert all(CROWD_LINE.match(line) and "offline rounds they shared" in line for line in lines), lines
    # The same shared rounds on the first image: player 0 missed it (index 0), the others got it right.
    assert lines[0].startswith(f"{round(100 * (CROWD_PLAYERS - 1) / CROWD_PLAYERS)} %")

    end = window.end
    qtbot.waitUntil(lambda: end.crowd.is_shown, timeout=WAIT_MS)
    assert end.tabs.isTabVisible(end.tabs.indexOf(end.crowd))
    cards = end.crowd.hardest.cards + end.crowd.fools_ai.cards
    assert end.crowd.hardest.cards and all(not card.icon().isNull() for card in cards)  # thumbnails from the pack
    assert all("people" in card.text() for card in cards)
    shares = [card.item.share_right for card in end.crowd.hardest.cards]
    assert shares == sorted(shares)  # hardest first
    assert all(c.item.share_right > 0.5 and (c.item.ai_share_right or 0) < 0.5 for c in end.crowd.fools_ai.cards)

    end.stats_requested.emit()
    stats = window.career.stats
    qtbot.waitUntil(lambda: stats.crowd_note.isVisible(), timeout=WAIT_MS)
    crowd = stats.bars.series[-1]
    assert crowd.name == "All players" and len(stats.bars.series) == 3
    assert any(value is not None for value in crowd.values) and f"{CROWD_PLAYERS} players" in stats.crowd_note.text()
    assert errors == []


@pytest.mark.gui
def test_ranked_rounds_get_the_crowd_line_and_the_end_its_galleries(
    qtbot, make_window, crowd_server, keyring_backend
) -> None:
    window, ui, errors = make_window(keyring_backend=keyring_backend)
    ui.controller.set_server(crowd_server.url)
    sign_in_as_guest(qtbot, ui)
    ui.bar.ranked.click()
    view = ui.ranked.round
    qtbot.waitUntil(lambda: window.stack.currentWidget() is view and view.buttons[0].isEnabled(), timeout=WAIT_MS)
    lines = []
    while window.stack.currentWidget() is view:
        qtbot.waitUntil(lambda: view.buttons[0].isEnabled(), timeout=WAIT_MS)
        crowd_server.clock.advance(1.5)
        view.buttons[0].click()
        qtbot.waitUntil(lambda: view.next.isEnabled() and view.crowd.text() != "", timeout=WAIT_MS)
        lines.append(view.crowd.text())
        view.next.click()
        qtbot.waitUntil(
            lambda: window.stack.currentWidget() is ui.ranked.end or view.buttons[0].isEnabled(), timeout=WAIT_MS
        )
    # Ranked rounds are timed by the server: no "shared offline" caveat.
    assert len(lines) == 10 and all(CROWD_LINE.fullmatch(line) for line in lines), lines
    qtbot.waitUntil(lambda: ui.ranked.end.crowd.is_shown, timeout=WAIT_MS)
    assert ui.ranked.end.crowd.hardest.cards and errors == []


@pytest.mark.gui
def test_sharing_offline_rounds_is_opt_in_and_says_what_is_shared(qtbot, make_window, data_dir: Path) -> None:
    from desktop.services.online.settings import read_settings

    window, ui, _errors = make_window()
    dialog = ui.open_server_settings()
    assert not dialog.share.isChecked() and not dialog.share.isEnabled()  # off by default; offline: nothing to share
    assert all(word in dialog.share_note.text() for word in ("image", "your answer", "your time", "never appear"))
    dialog.offline.setChecked(False)
    dialog.url.setText("http://127.0.0.1:9")
    dialog.share.setChecked(True)
    dialog.buttons.accepted.emit()
    assert ui.online.settings.share_crowd_answers and read_settings(data_dir).share_crowd_answers
    assert ui.open_server_settings().share.isChecked()  # remembered when the dialog opens again
