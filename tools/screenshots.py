"""`make screenshots`: play a scripted classic session offscreen and save PNGs of every screen to docs/screenshots/."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from keyring.backends.fail import Keyring as NoKeyring  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.app import content_roots  # noqa: E402
from desktop.services.catalog import load_catalog  # noqa: E402
from desktop.services.online.connection import OnlineConnection  # noqa: E402
from desktop.services.store import Store  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402
from desktop.ui.online_ui import OnlineUi  # noqa: E402

RIVALS = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara")


def _wait(app, condition, timeout_s: float = 30.0) -> None:
    from desktop.ui.waiting import wait_until

    wait_until(condition, timeout_s)


def _settle(app, seconds: float = 0.3) -> None:
    """Let queued layout and show events run before a grab (widgets added to a visible window show late)."""
    import time

    until = time.monotonic() + seconds
    _wait(app, lambda: time.monotonic() > until)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    data = Path(tempfile.mkdtemp(prefix="eyevsai-shots-"))
    store = Store(data / "eyevsai.db")
    window = MainWindow(load_catalog(content_roots(data)), store)
    # Offline (no server) until _online_shots sets one; the failing keyring backend keeps the shots the same on
    # every machine and never writes these throwaway sign-ins into the developer's real keyring.
    online = OnlineUi(window, OnlineConnection(data, store, keyring_backend=NoKeyring()))
    window.resize(900, 760)
    window.show()
    _wait(app, lambda: window.opponents)
    window.home.play.click()
    _wait(app, lambda: window.stack.currentWidget() is window.round and window.round.buttons[0].isEnabled())
    window.grab().save(str(args.out / "round.png"))
    session = window.session
    for i in range(len(session.rounds)):
        dealt = session.current_round()
        window.round.answered.emit(dealt.truth if i % 3 else dealt.options[0])
        app.processEvents()
        if i == 0:
            window.grab().save(str(args.out / "round_revealed.png"))
        window.round.next.click()
        app.processEvents()
    _wait(app, lambda: window.stack.currentWidget() is window.end)
    window.grab().save(str(args.out / "end.png"))
    window.end.home_requested.emit()  # the home screen now lists the session on the local leaderboard
    app.processEvents()
    window.grab().save(str(args.out / "home.png"))
    window.home.history_requested.emit()
    app.processEvents()
    window.grab().save(str(args.out / "history.png"))
    _online_shots(app, window, online, args.out, data)
    print(f"screenshots written to {args.out.resolve()}")


def _play_ranked(client, catalog, answer) -> None:  # noqa: ANN001
    from desktop.services.online.ranked import RankedGame

    pack = catalog.packs["fashion-mnist"]
    game = RankedGame.start(client, pack_id=pack.id, difficulty="medium", classes=pack.classes, ranked_images=None)
    while game.has_next_round:
        game.answer(answer(game.next_round()))


def _online_shots(app, window, online: OnlineUi, out: Path, data: Path) -> None:
    """The sign-in dialog and the global leaderboard, against the real server on loopback (stand-in ranked labels,
    fake OAuth providers from the tests) after a few players' ranked sessions."""
    import random

    from desktop.services.online.client import ServerClient
    from desktop.services.online.tokens import TokenStore
    from tests.desktop.online.server import start_server

    server = start_server(data / "server", oauth_providers=("github", "google"))
    try:
        rng = random.Random(3)
        for name in RIVALS:
            rival = ServerClient(server.url, TokenStore(server.url, data / name, backend=NoKeyring()))
            rival.guest(display_name=name)
            _play_ranked(rival, window.catalog, lambda dealt: rng.choice(dealt.options))
            rival.close()
        online.controller.set_server(server.url)
        dialog = online.open_sign_in()
        _wait(app, lambda: dialog.provider_buttons and online.controller.storage is not None)
        _settle(app)
        dialog.grab().save(str(out / "sign_in.png"))
        dialog.reject()
        client = online.controller.client
        online.controller.signed_in(client.register("sam@example.org", "correct horse battery", "Sam"))
        _play_ranked(client, window.catalog, lambda dealt: dealt.options[dealt.number % 2])
        online.open_board("fashion-mnist", "medium")
        _wait(app, lambda: online.board.own_row is not None)
        _settle(app)
        window.grab().save(str(out / "global_leaderboard.png"))
        online.board.home.click()
        _wait(app, lambda: online.bar.sync.text().startswith("✓"))
        _settle(app)
        window.grab().save(str(out / "home_online.png"))
    finally:
        online.shutdown()
        server.stop()


if __name__ == "__main__":
    main()
