"""The online parts of the game window, offscreen, against the real server: no network without a server, the
sign-in dialog, the sync indicator, global leaderboards (own row highlighted, offline state) and ranked play."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from desktop.services.online.connection import OnlineConnection
from desktop.services.store import Store
from tests.helpers.fakes import fake_loader

pytestmark = pytest.mark.gui
WAIT_MS = 20_000


@pytest.fixture
def make_window(qtbot, data_dir: Path, catalog):
    from desktop.ui.main_window import MainWindow
    from desktop.ui.online_ui import OnlineUi

    made = []

    def make(*, keyring_backend=None, open_url=lambda url: True):
        store = Store(data_dir / "eyevsai.db")
        online = OnlineConnection(data_dir, store, keyring_backend=keyring_backend or NoKeyring())
        window = MainWindow(catalog, store, device="cpu", opponent_loader=fake_loader())
        ui = OnlineUi(window, online, open_url=open_url)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: bool(window.opponents), timeout=WAIT_MS)
        made.append((ui, store))
        return window, ui

    yield make
    for ui, store in made:
        ui.shutdown()
        store.close()


def play_classic(qtbot, window) -> None:
    window.home.play.click()
    qtbot.waitUntil(
        lambda: window.stack.currentWidget() is window.round and window.round.buttons[0].isEnabled(), timeout=WAIT_MS
    )
    session = window.session
    while session.has_next_round:
        window.round.answered.emit(session.current_round().truth)
        window.round.next.click()
        if session.has_next_round:
            qtbot.waitUntil(lambda: window.round.buttons[0].isEnabled(), timeout=WAIT_MS)
    assert window.stack.currentWidget() is window.end


def sign_in_as_guest(qtbot, ui) -> None:
    dialog = ui.open_sign_in()
    dialog.guest.click()
    qtbot.waitUntil(lambda: ui.online.account is not None and not dialog.isVisible(), timeout=WAIT_MS)


def test_without_a_server_the_game_makes_no_network_call(qtbot, make_window, monkeypatch) -> None:
    calls: list[object] = []

    def refuse(*args, **_kwargs):
        calls.append(args)
        raise OSError("network use in offline mode")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    window, ui = make_window()
    assert "Offline" in ui.bar.account.text() and ui.bar.online_row.isHidden()
    play_classic(qtbot, window)
    window.end.home_requested.emit()
    ui.open_board()
    assert "No sync server is set" in ui.board.status.text()
    qtbot.wait(200)  # give any background work a chance to (wrongly) start
    assert calls == [] and ui.controller.client is None
    assert ui.online.sync_status().pending == 1  # kept for a server the player may set later


def test_server_dialog_guest_sign_in_and_the_finished_session_syncs(qtbot, make_window, live_server) -> None:
    window, ui = make_window()
    dialog = ui.open_server_settings()
    dialog.offline.setChecked(False)
    dialog.url.setText(live_server.url)
    dialog.test.click()
    qtbot.waitUntil(lambda: "Connected" in dialog.status.text(), timeout=WAIT_MS)
    dialog.buttons.accepted.emit()
    assert ui.online.settings.server_url == live_server.url and "not signed in" in ui.bar.account.text()
    qtbot.waitUntil(lambda: ui.bar.storage.isVisible(), timeout=WAIT_MS)  # no keyring here: said plainly
    assert "kept only until you quit" in ui.bar.storage.text()

    dialog = ui.open_sign_in()
    assert dialog.remember_in_file.isVisibleTo(dialog)  # no keyring: the player may choose a file instead
    dialog.remember_in_file.setChecked(True)
    dialog.guest.click()
    qtbot.waitUntil(lambda: ui.online.account is not None and not dialog.isVisible(), timeout=WAIT_MS)
    assert (ui.online.data_dir / "online-token.json").exists() and ui.online.settings.token_file_allowed
    qtbot.waitUntil(lambda: "kept in a file only your user can read" in ui.bar.storage.text(), timeout=WAIT_MS)
    assert "Signed in as" in ui.bar.account.text() and "(guest)" in ui.bar.account.text()
    play_classic(qtbot, window)
    qtbot.waitUntil(lambda: ui.bar.sync.text().startswith("✓ All 1 finished session synced"), timeout=WAIT_MS)
    assert live_server.copies_of(window.session.session_id) == 1


def test_sign_in_with_a_provider_from_the_dialog(qtbot, make_window, live_server) -> None:
    fake_provider = pytest.importorskip("tests.sync_server.fake_provider")
    if "github" not in live_server.providers:
        pytest.skip("the server has no OAuth sign-in in this checkout")
    from tests.desktop.online.test_oauth_sign_in import browser_in_background

    live_server.providers["github"].user = fake_provider.ProviderUser("7171", name="Dialog Octo")
    opened: list[str] = []
    window, ui = make_window(open_url=browser_in_background(opened))
    ui.controller.set_server(live_server.url)
    dialog = ui.open_sign_in()
    qtbot.waitUntil(lambda: "github" in dialog.provider_buttons, timeout=WAIT_MS)
    assert set(dialog.provider_buttons) == set(live_server.providers)
    dialog.provider_buttons["github"].click()
    qtbot.waitUntil(lambda: ui.online.account is not None, timeout=WAIT_MS)
    assert ui.online.account.display_name == "Dialog Octo" and opened
    assert "Dialog Octo" in ui.bar.account.text()


def test_ranked_play_in_the_window_then_the_board_highlights_my_row(
    qtbot, make_window, live_server, keyring_backend
) -> None:
    from desktop.ui.global_board import OWN_ROW

    window, ui = make_window(keyring_backend=keyring_backend)
    ui.controller.set_server(live_server.url)
    sign_in_as_guest(qtbot, ui)
    assert not ui.bar.storage.isVisible()  # a working keyring: nothing to warn about
    ui.bar.ranked.click()
    view = ui.ranked.round
    qtbot.waitUntil(lambda: window.stack.currentWidget() is view and view.buttons[0].isEnabled(), timeout=WAIT_MS)
    assert "server seed commitment" in view.session_line.text()
    while window.stack.currentWidget() is view:
        qtbot.waitUntil(lambda: view.buttons[0].isEnabled(), timeout=WAIT_MS)
        live_server.clock.advance(1.5)  # a human's answer time, on the server's clock
        view.buttons[0].click()
        qtbot.waitUntil(lambda: view.next.isEnabled(), timeout=WAIT_MS)
        assert "unchanged ✓" in view.padlock.line.text()  # the padlock opened on a re-hashed, matching answer
        view.next.click()
        qtbot.waitUntil(
            lambda: window.stack.currentWidget() is ui.ranked.end or view.buttons[0].isEnabled(), timeout=WAIT_MS
        )
    assert "Verified ✓" in ui.ranked.end.checks.text(), ui.ranked.end.checks.text()
    kept = ui.online.store.db["ranked_records"].rows_where()
    assert [row["verified"] for row in kept] == [1]  # the signed record is kept with the session
    assert ui.online.pinned_ranked_key() is not None  # and the server's key pinned on first use
    ui.ranked.end.board_requested.emit()
    board = ui.board
    board.period.setCurrentIndex(board.period.findData("all"))
    qtbot.waitUntil(lambda: board.own_row is not None, timeout=WAIT_MS)
    item = board.table.item(board.own_row, 1)
    assert item.text().endswith("◀ you") and item.background().color() == OWN_ROW and item.font().bold()
    board.view.setCurrentIndex(board.view.findData("around"))
    qtbot.waitUntil(lambda: board.own_row is not None and board.view.currentData() == "around", timeout=WAIT_MS)
    assert not board.next.isEnabled()  # "around me" is one window, not pages


def test_the_board_degrades_gracefully_when_the_server_is_down(qtbot, make_window) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    window, ui = make_window()
    ui.controller.set_server(url)
    ui.open_board()
    qtbot.waitUntil(lambda: "unavailable right now" in ui.board.status.text(), timeout=WAIT_MS)
    assert "Cannot reach the server" in ui.board.status.text() and ui.board.table.rowCount() == 0
    ui.board.home.click()
    assert window.stack.currentWidget() is window.home and window.home.play.isEnabled()


def test_email_account_from_the_dialog_then_sign_out(qtbot, make_window, live_server, keyring_backend) -> None:
    window, ui = make_window(keyring_backend=keyring_backend)
    ui.controller.set_server(live_server.url)
    dialog = ui.open_sign_in()
    dialog.email.setText("dialog@example.org")
    dialog.password.setText("short")
    dialog.register.click()
    qtbot.waitUntil(lambda: "HTTP 422" in dialog.status.text(), timeout=WAIT_MS)  # the server's rule, shown as is
    assert "password" in dialog.status.text() and dialog.register.isEnabled()
    dialog.password.setText("correct horse battery")
    dialog.register.click()
    qtbot.waitUntil(lambda: ui.online.account is not None, timeout=WAIT_MS)
    assert "dialog@example.org" in ui.bar.account.text() and keyring_backend.secrets
    ui.bar.sign_out.click()
    qtbot.waitUntil(lambda: ui.online.account is None, timeout=WAIT_MS)
    assert "not signed in" in ui.bar.account.text() and keyring_backend.secrets == {}
    assert ui.bar.sign_in.isVisibleTo(ui.bar) and not ui.bar.sign_out.isVisibleTo(ui.bar)


def test_without_a_browser_the_sign_in_address_is_shown(qtbot, make_window, live_server) -> None:
    if "github" not in live_server.providers:
        pytest.skip("the server has no OAuth sign-in in this checkout")
    window, ui = make_window(open_url=lambda url: False)
    ui.controller.set_server(live_server.url)
    dialog = ui.open_sign_in()
    qtbot.waitUntil(lambda: "github" in dialog.provider_buttons, timeout=WAIT_MS)
    dialog.provider_buttons["github"].click()
    qtbot.waitUntil(lambda: "No web browser could be opened" in dialog.status.text(), timeout=WAIT_MS)
    assert "http://127.0.0.1:" in dialog.status.text() and dialog.guest.isEnabled()
    dialog.cancel.click()  # stops the wait for the browser
