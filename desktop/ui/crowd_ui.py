"""What other players did, in the window (issue 20): the line at a round's reveal ("62 % of players got this right"),
the pack's galleries on the end screens, and the crowd's series on the stats screen.

Every statistic is fetched in the background on the online pool (OnlineController.run), never on the GUI thread.
Offline, or when the server withholds a statistic (too few players) or cannot be reached, nothing is shown and
nothing is said: the crowd is a bonus, not part of the game. A result that arrives after the player moved on is
dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from desktop.core.session import RoundResult
from desktop.services.online.crowd import ImageCrowd, PackCrowd, offline_image_crowd, pack_crowd, ranked_round_crowd
from desktop.ui.online_controller import OnlineController
from desktop.ui.ranked_play import RankedPlay
from desktop.ui.round_controller import pack_image_reader


class CrowdUi(QObject):
    """Attached to the window by OnlineUi (its parent)."""

    def __init__(self, window, controller: OnlineController, ranked: RankedPlay) -> None:  # noqa: ANN001 - MainWindow
        super().__init__(controller)
        self.window = window
        self.controller = controller
        self.ranked = ranked
        window.rounds.round_revealed.connect(self._on_offline_revealed)
        ranked.rounds.round_revealed.connect(self._on_ranked_revealed)
        window.session_finished.connect(self._on_session_finished)
        ranked.rounds.session_finished.connect(self._on_ranked_finished)
        window.home.stats_requested.connect(self._on_stats_shown)  # after CareerUi drew the player's own stats
        window.end.stats_requested.connect(self._on_stats_shown)

    def _fetch(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """fn on the online pool when a server is set; a failure is as quiet as no statistic (None)."""
        if self.controller.client is not None:
            self.controller.run(fn, lambda found: done(found) if found is not None else None, lambda *_: None)

    # -- the reveal ---------------------------------------------------------------------------------------------
    def _on_offline_revealed(self, result: RoundResult, _last: bool) -> None:
        session, client = self.window.session, self.controller.client
        if session is None:
            return
        pack_id, view = session.pack_id, self.window.round
        self._fetch(
            lambda: offline_image_crowd(client, pack_id, result.image),
            lambda crowd: view.show_crowd(result, crowd.line),
        )

    def _on_ranked_revealed(self, result: RoundResult, _last: bool) -> None:
        game, client, view = self.ranked.game, self.controller.client, self.ranked.round
        if game is None:
            return
        session_id, number = game.id, result.number

        def shown(crowd: ImageCrowd) -> None:
            view.show_crowd(result, crowd.line)

        self._fetch(lambda: ranked_round_crowd(client, session_id, number), shown)

    # -- the end screens ----------------------------------------------------------------------------------------
    def _on_session_finished(self) -> None:
        session = self.window.session
        if session is not None:
            self._show_galleries(session.pack_id, lambda crowd, read: self._end_galleries(session, crowd, read))

    def _end_galleries(self, session, crowd: PackCrowd, read: Callable[[str], bytes]) -> None:  # noqa: ANN001
        if self.window.session is session:
            self.window.end.show_crowd(crowd, read)

    def _on_ranked_finished(self) -> None:
        game = self.ranked.game
        self.ranked.end.crowd.clear()
        if game is not None:
            end = self.ranked.end

            def show(crowd: PackCrowd, read: Callable[[str], bytes]) -> None:
                if self.ranked.game is game:
                    end.crowd.show_crowd(crowd, read)

            self._show_galleries(game.pack_id, show)

    def _show_galleries(self, pack_id: str, show: Callable[[PackCrowd, Callable[[str], bytes]], None]) -> None:
        pack, client = self.window.catalog.packs.get(pack_id), self.controller.client
        if pack is None:
            return
        read = pack_image_reader(pack)

        def fetch() -> tuple[PackCrowd, dict[str, bytes]] | None:
            crowd = pack_crowd(client, pack_id)
            if crowd is None or not crowd.has_galleries:
                return None
            # The thumbnails are read here too, off the GUI thread; the view then only decodes small PNGs.
            images = {item.image: read(item.image) for item in (*crowd.hardest, *crowd.fools_ai_not_people)}
            return crowd, images

        self._fetch(fetch, lambda found: show(found[0], lambda sha: found[1].get(sha, b"")))

    # -- the stats screen ---------------------------------------------------------------------------------------
    def _on_stats_shown(self) -> None:
        pack_id, client, stats = self.window.selection.pack_id, self.controller.client, self.window.career.stats
        if pack_id is None:
            return

        def shown(crowd: PackCrowd) -> None:
            if self.window.selection.pack_id == pack_id:
                stats.show_crowd(crowd.class_accuracy, crowd.players)

        self._fetch(lambda: pack_crowd(client, pack_id), shown)
