"""`make screenshots`: play scripted sessions offscreen and save PNGs of every screen to docs/screenshots/.

The offscreen platform gets a screen of a fixed size (a config file), so the shots are the same on every machine:
1920×1080 at a scale of 1, and 2560×1440 at QT_SCALE_FACTOR=2 (1280×720 logical: the window must fit it). Each
scale runs in its own process, since the scale is read when Qt starts. Shots at scale 2 end in "@2x".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

SCREENS = {1: (1920, 1080), 2: (2560, 1440)}
RIVALS = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara")


def _configure_qt(scale: int) -> None:
    """Before QApplication: an offscreen screen of a known size, and the scale factor."""
    width, height = SCREENS[scale]
    screen = {"name": "shots", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "dpr": 1}
    config = Path(tempfile.mkdtemp(prefix="eyevsai-qpa-")) / "screen.json"
    config.write_text(json.dumps({"screens": [screen]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["QT_SCALE_FACTOR"] = str(scale)


def _wait(condition, timeout_s: float = 30.0) -> None:
    from desktop.ui.waiting import wait_until

    wait_until(condition, timeout_s)


def _settle(seconds: float = 0.3) -> None:
    """Let queued layout, show events and animations run before a grab."""
    until = time.monotonic() + seconds
    _wait(lambda: time.monotonic() > until)


class Shooter:
    """Saves grabs as NAME(@2x).png in the output folder."""

    def __init__(self, out: Path, scale: int) -> None:
        self.out, self.suffix = out, "" if scale == 1 else f"@{scale}x"

    def __call__(self, widget, name: str) -> None:
        widget.grab().save(str(self.out / f"{name}{self.suffix}.png"))


def _play_session(window, answer, shoot: Shooter | None = None, *, crowd_only: bool = False) -> None:
    """Answer every round (`answer(i, dealt)`), shooting the second round before and after its reveal (crowd_only:
    only its reveal, once the crowd line arrived from the server)."""
    _wait(lambda: window.stack.currentWidget() is window.round and window.round.buttons[0].isEnabled())
    session = window.session
    for i in range(len(session.rounds)):
        dealt = session.current_round()
        if i == 1 and shoot is not None and not crowd_only:
            _settle(0.6)
            shoot(window, "round")
        window.round.answered.emit(answer(i, dealt))
        if i == 1 and shoot is not None and crowd_only:
            _wait(lambda: window.round.crowd.text() != "", timeout_s=15)
            _settle(0.1)
            shoot(window, "round_revealed")
        elif i == 1 and shoot is not None:
            _settle(0.25)  # the points pop-up is still up
            shoot(window, "round_revealed")
            _settle(0.9)
            window.round.looked.setChecked(True)
            _wait(lambda: window.round.image.overlay is not None)
            _settle()
            shoot(window, "round_heatmap")
        window.round.next.click()
        _settle(0.02)
    _wait(lambda: window.stack.currentWidget() is window.end)


def shoot_game(out: Path, scale: int, *, online: bool) -> None:
    from keyring.backends.fail import Keyring as NoKeyring
    from PySide6.QtWidgets import QApplication

    from desktop.app import content_roots
    from desktop.services.catalog import load_catalog
    from desktop.services.online.connection import OnlineConnection
    from desktop.services.store import Store
    from desktop.ui.main_window import MainWindow
    from desktop.ui.online_ui import OnlineUi

    app = QApplication.instance() or QApplication([])
    shoot = Shooter(out, scale)
    data = Path(tempfile.mkdtemp(prefix="eyevsai-shots-"))
    store = Store(data / "eyevsai.db")
    window = MainWindow(
        load_catalog(content_roots(data)), store, reload_catalog=lambda: load_catalog(content_roots(data))
    )
    # Offline (no server) until _online_shots sets one; the failing keyring backend keeps the shots the same on
    # every machine and never writes these throwaway sign-ins into the developer's real keyring.
    online_ui = OnlineUi(window, OnlineConnection(data, store, keyring_backend=NoKeyring()))
    window.show()
    _wait(lambda: window.opponents)
    _settle()
    shoot(window, "first_launch")
    window.home.intro.button.click()
    window.home.play.click()
    _play_session(window, lambda i, dealt: dealt.truth if i % 3 else dealt.options[0], shoot)
    _settle()
    shoot(window, "end")
    window.end.stats_requested.emit()
    _settle()
    shoot(window, "stats")
    window.show_home()
    window.home.daily_requested.emit()
    _play_session(window, lambda i, dealt: dealt.truth if i % 4 else dealt.options[-1])
    window.end.share_requested.emit()
    _settle()
    shoot(window.career.share_dialog, "daily_share")
    window.career.share_dialog.reject()
    window.show_home()
    _settle()
    shoot(window, "home")
    window.home.history_requested.emit()
    _settle()
    shoot(window, "history")
    if online:
        _online_shots(app, window, online_ui, out, data)
    else:
        online_ui.shutdown()
    window.close()
    store.close()


def _crowd_shots(window, shoot: Shooter) -> None:  # noqa: ANN001
    """Online, with a crowd on the server: a classic session on the shared deal, its reveal with the crowd line,
    the end screen's crowd galleries and the stats screen with every player's series."""
    from tests.desktop.online.crowd_seed import SHARED_SEED

    window.show_home()
    window.new_seed = lambda: SHARED_SEED
    window.home.play.click()
    _play_session(window, lambda i, dealt: dealt.truth if i % 3 else dealt.options[0], shoot, crowd_only=True)
    _wait(lambda: window.end.crowd.is_shown, timeout_s=15)
    window.end.tabs.setCurrentWidget(window.end.crowd)
    _settle()
    shoot(window, "end")
    window.end.stats_requested.emit()
    _wait(lambda: window.career.stats.crowd_note.isVisible(), timeout_s=15)
    _settle()
    shoot(window, "stats")


def _play_ranked(client, catalog, answer, server) -> None:  # noqa: ANN001
    from desktop.services.online.ranked import RankedGame

    pack = catalog.packs["fashion-mnist"]
    game = RankedGame.start(client, pack_id=pack.id, difficulty="medium", classes=pack.classes, ranked_images=None)
    while game.has_next_round:
        dealt = game.next_round()
        server.clock.advance(2.5)  # a human's answer time, as the crowd took: an instant one would be held for review
        game.answer(answer(dealt))


def _online_shots(app, window, online, out: Path, data: Path) -> None:  # noqa: ANN001
    """The sign-in dialog, the global leaderboard and the crowd (reveal line, end galleries, stats), against the
    real server on loopback (stand-in ranked labels on 10 ranked images, so that every player sees the same ones;
    fake OAuth providers from the tests) after a few players' ranked sessions and shared offline sessions."""
    from tests.desktop.online.crowd_seed import seed_offline, seed_ranked
    from tests.desktop.online.server import start_server

    server = start_server(data / "server", oauth_providers=("github", "google"), ranked_images=10)
    try:
        seed_ranked(server, window.catalog, data / "rivals", RIVALS)
        seed_offline(server, window.catalog, data / "rivals", len(RIVALS))
        online.controller.set_server(server.url)
        _packs_shots(window, online, server, out, data)
        dialog = online.open_sign_in()
        _wait(lambda: dialog.provider_buttons and online.controller.storage is not None)
        _settle()
        dialog.grab().save(str(out / "sign_in.png"))
        dialog.reject()
        client = online.controller.client
        online.controller.signed_in(client.register("sam@example.org", "correct horse battery", "Sam"))
        _play_ranked(client, window.catalog, lambda dealt: dealt.options[dealt.number % 2], server)
        online.open_board("fashion-mnist", "medium")
        _wait(lambda: online.board.own_row is not None)
        _settle()
        window.grab().save(str(out / "global_leaderboard.png"))
        online.board.home.click()
        try:
            _wait(lambda: online.bar.sync.text().startswith("✓"), timeout_s=15)
        except TimeoutError:  # the upload's own outcome is shown as it is; the shot is still worth taking
            pass
        _settle()
        window.grab().save(str(out / "home_online.png"))
        _crowd_shots(window, Shooter(out, 1))
    finally:
        online.shutdown()
        server.stop()


def _packs_shots(window, online, server, out: Path, data: Path) -> None:  # noqa: ANN001
    """The "Get more packs" screen with two published packs (the bundled one and a small one), then that small
    pack half-way through its download (the client is slowed to a poor line so the bar can be caught moving)."""
    from classifiers.locations import bundled_assets_dir
    from sync_server.admin import run_publish
    from tests.helpers.catalog_packs import make_published_pack

    run_publish(server.app_state.settings, bundled_assets_dir())
    small = make_published_pack(
        data / "publish", "fashion-small", title="Fashion-MNIST, 200 pictures", images=200, models=2
    )
    run_publish(server.app_state.settings, small)
    online.open_packs()
    packs = online.packs
    _wait(lambda: len(packs.rows) == 2 and all(len(row.thumbs) == 8 for row in packs.rows.values()))
    _settle()
    window.grab().save(str(out / "packs.png"))
    client = online.controller.client
    real = client.catalog_file

    @contextmanager
    def slow_line(sha256: str, *, start: int = 0):  # noqa: ANN202 - a context manager
        with real(sha256, start=start) as (offset, chunks):
            yield offset, (time.sleep(0.2) or chunk for chunk in chunks)

    client.catalog_file = slow_line
    row = packs.rows["fashion-small"]
    row.download.click()
    _wait(lambda: row.bar.value() > 450)
    _settle(0.05)
    window.grab().save(str(out / "packs_downloading.png"))
    _wait(lambda: packs.worker is None)
    client.catalog_file = real
    row.remove.click()  # the later shots show the game as installed
    window.show_home()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--scale", type=int, choices=sorted(SCREENS), help="one scale only (default: 1, then 2)")
    parser.add_argument("--no-online", action="store_true", help="skip the sign-in, global leaderboard and crowd shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.scale is None:  # each scale in a fresh process: Qt reads the scale once, at start
        for scale in sorted(SCREENS):
            command = [sys.executable, "-m", "tools.screenshots", "--out", str(args.out), "--scale", str(scale)]
            subprocess.run(command + (["--no-online"] if args.no_online or scale != 1 else []), check=True)
        return
    _configure_qt(args.scale)
    shoot_game(args.out, args.scale, online=not args.no_online)
    print(f"screenshots at scale {args.scale} written to {args.out.resolve()}")


if __name__ == "__main__":
    main()
