"""`make screenshots`: play a scripted classic session offscreen and save PNGs of every screen to docs/screenshots/."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.app import content_roots  # noqa: E402
from desktop.services.catalog import load_catalog  # noqa: E402
from desktop.services.store import Store  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402


def _wait(app, condition, timeout_s: float = 30.0) -> None:
    from desktop.ui.waiting import wait_until

    wait_until(condition, timeout_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    data = Path(tempfile.mkdtemp(prefix="eyevsai-shots-"))
    store = Store(data / "eyevsai.db")
    window = MainWindow(load_catalog(content_roots(data)), store)
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
    print(f"screenshots written to {args.out.resolve()}")


if __name__ == "__main__":
    main()
