"""The "Get more packs" screen, offscreen, against the real server: offline it says so, online it lists the catalog
with sample pictures, downloads a pack with a progress bar (the pack is playable at once) and removes it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from keyring.backends.fail import Keyring as NoKeyring

from desktop.app import content_roots
from desktop.services.catalog import load_catalog
from desktop.services.online.connection import OnlineConnection
from desktop.services.store import Store
from tests.desktop.online.test_pack_downloads import publish
from tests.helpers.fakes import fake_loader

pytestmark = pytest.mark.gui
WAIT_MS = 20_000


@pytest.fixture
def window_and_ui(qtbot, data_dir: Path):
    from desktop.ui.main_window import MainWindow
    from desktop.ui.online_ui import OnlineUi

    store = Store(data_dir / "eyevsai.db")
    online = OnlineConnection(data_dir, store, keyring_backend=NoKeyring())
    reload = lambda: load_catalog(content_roots(data_dir))  # noqa: E731
    window = MainWindow(reload(), store, device="cpu", opponent_loader=fake_loader(), reload_catalog=reload)
    ui = OnlineUi(window, online)
    qtbot.addWidget(window)
    window.show()
    yield window, ui
    ui.shutdown()
    store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_the_screen_says_so(qtbot, window_and_ui) -> None:
    window, ui = window_and_ui
    assert ui.window.home.get_packs.isVisibleTo(window.home)
    window.home.get_packs.click()
    assert window.stack.currentWidget() is ui.packs
    assert "No server is set" in ui.packs.notice.text()
    ui.controller.set_server(f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    ui.packs.refresh.click()
    qtbot.waitUntil(lambda: "offline" in ui.packs.notice.text(), timeout=WAIT_MS)


def test_download_from_the_catalog_then_play_then_remove(qtbot, window_and_ui, live_server, tmp_path: Path) -> None:
    window, ui = window_and_ui
    publish(live_server, tmp_path, "screen-fashion", models=2, images=30)
    ui.controller.set_server(live_server.url)
    ui.open_packs()
    qtbot.waitUntil(lambda: "screen-fashion" in ui.packs.rows, timeout=WAIT_MS)
    row = ui.packs.rows["screen-fashion"]
    qtbot.waitUntil(lambda: len(row.thumbs) > 0, timeout=WAIT_MS)
    assert "AI opponents" in row.details.text()
    progressed = []
    ui.packs.rows["screen-fashion"].bar.valueChanged.connect(progressed.append)
    with qtbot.waitSignal(ui.packs.packs_changed, timeout=WAIT_MS):
        row.download.click()
    assert progressed and max(progressed) == 1000
    assert "Installed" in row.status.text() and row.remove.isVisibleTo(row)
    assert "screen-fashion" in {p.id for p in window.catalog.playable_packs()}  # playable without a restart
    index = window.home.pack.findData("screen-fashion")
    assert index >= 0
    with qtbot.waitSignal(ui.packs.packs_changed, timeout=WAIT_MS):
        row.remove.click()
    assert "screen-fashion" not in window.catalog.packs
    assert window.home.pack.findData("screen-fashion") < 0
    fashion = ui.packs.rows.get("fashion-mnist")
    if fashion is not None:  # the bundled pack, when the server offers it too, cannot be removed
        assert not fashion.remove.isVisibleTo(fashion)
