"""Ranked mode in the window: the server's round protocol as a RoundSource, played by the game's one round loop
(RoundController) on its own round screen (RoundView), and a short end screen with the server's score and what the
game verified (each AI commitment, the server seed, the re-dealt rounds and variants, the signed record). The signed
record is kept in the local store; the server's signing key is pinned in the online settings on first use."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.core.play import Clock, ShownRound
from desktop.core.session import RoundResult
from desktop.services.catalog import Catalog
from desktop.services.online.ranked import RankedGame, RankedSummary, ranked_setup
from desktop.ui.crowd_gallery import CrowdGalleries
from desktop.ui.online_controller import OnlineController
from desktop.ui.round_controller import RoundController, pack_image_reader, show_rounds_on
from desktop.ui.round_view import RoundView

UNREADABLE = "The server's image cannot be decoded. Pick any option or let the time run out."


class RankedEndView(QWidget):
    """Signals:
    home_requested(): back to the home screen.
    board_requested(): show the global leaderboard this session entered.
    again_requested(): another ranked session with the same choice.
    """

    home_requested = Signal()
    board_requested = Signal()
    again_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setWordWrap(True)
        self.checks = QLabel()
        self.checks.setWordWrap(True)
        self.checks.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.crowd = CrowdGalleries()  # shown by the crowd statistics (desktop.ui.crowd_ui) when there are some
        buttons = QHBoxLayout()
        for text, signal in (
            ("Home", self.home_requested),
            ("Global leaderboard", self.board_requested),
            ("Play ranked again", self.again_requested),
        ):
            button = QPushButton(text)
            button.clicked.connect(signal)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.summary)
        layout.addWidget(self.checks)
        layout.addWidget(self.crowd)
        layout.addStretch(1)
        layout.addLayout(buttons)

    def show_summary(self, summary: RankedSummary, opponent: str) -> None:
        held = "" if summary.status == "finished" else f" Status on the server: {summary.status}."
        outcome = (
            "You beat the AI!"
            if summary.correct > summary.ai_correct
            else "The AI won this time."
            if summary.correct < summary.ai_correct
            else "A draw."
        )
        self.summary.setText(
            f"<h1>{summary.score} points</h1><h3>{outcome}</h3>"
            f"<p>Ranked session against {opponent}: you {summary.correct}/{summary.rounds} right, the AI "
            f"{summary.ai_correct}/{summary.rounds}, {summary.total_time_ms / 1000:.1f} s in all (timed by the "
            f"server).{held}</p>"
        )
        if summary.is_verified:
            images = (
                ""
                if summary.images_checked
                else (
                    " The image choices could not be re-checked: your pack does not hold the server's ranked image set."
                )
            )
            self.checks.setText(
                "<span style='color:#2e7d32'><b>Verified ✓</b></span> Every AI answer matched the "
                "commitment shown before you answered; the revealed server seed matches its hash "
                "from the start and re-deals every round; the server signed the session's record (kept with "
                "your history)." + images
            )
        else:
            self.checks.setText(
                "<span style='color:#c62828'><b>NOT verified ✗</b></span> " + "; ".join(summary.problems) + "."
            )


class RankedRounds:
    """The RoundSource of a ranked session: the server deals, times and scores (every call blocks on the network)."""

    session_seconds = None  # each round has its own limit; the session has none

    def __init__(self, game: RankedGame) -> None:
        self.game = game

    @property
    def has_next_round(self) -> bool:
        return self.game.has_next_round

    @property
    def results(self) -> Sequence[RoundResult]:
        return self.game.results

    def deal(self) -> ShownRound:
        game, dealt = self.game, self.game.next_round()
        title = f"Ranked round {dealt.number}/{game.rounds_total} · {game.opponent.title}"
        # The server's own bytes: a per-session variant that no copy of the pack holds.
        return ShownRound(
            dealt.number, dealt.image, dealt.options, dealt.commitment, title, dealt.seconds, dealt.image_bytes
        )

    def answer(self, choice: str | None, elapsed_s: float) -> RoundResult:
        return self.game.answer(choice)  # the server timed the answer itself: elapsed_s is not sent


class RankedPlay(QObject):
    """Drives one ranked session at a time on the window's RoundController loop, with the server as its source.

    Signals:
        screen_wanted(object): show this widget in the window's stack.
        home_requested(): the player left or finished and wants the home screen.
        board_requested(str, str): show the global board of (pack, difficulty).
    """

    screen_wanted = Signal(object)
    home_requested = Signal()
    board_requested = Signal(str, str)

    def __init__(
        self,
        controller: OnlineController,
        catalog: Catalog,
        on_error: Callable[[Exception, str], None],
        parent: QObject | None = None,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        """on_error(exc, traceback) shows a failure (the window's ErrorReporter.error)."""
        super().__init__(parent)
        self.controller = controller
        self.catalog = catalog
        self.on_error = on_error
        self.round = RoundView()
        self.end = RankedEndView()
        self.game: RankedGame | None = None
        self._choice: tuple[str, str, str | None] | None = None
        self._starting = False
        self._settled: Callable[[], None] | None = None
        self.rounds = RoundController(self, clock=clock, runner=controller.run)
        show_rounds_on(self.round, self.rounds, UNREADABLE)
        self.rounds.round_shown.connect(lambda _: self.screen_wanted.emit(self.round))
        self.rounds.session_finished.connect(self._on_finished)
        self.rounds.failed.connect(self._failed)
        self.round.quit_requested.connect(self._on_quit)
        self.end.home_requested.connect(self.home_requested)
        self.end.again_requested.connect(lambda: self.start(*self._choice) if self._choice else None)
        self.end.board_requested.connect(lambda: self.board_requested.emit(*self._choice[:2]) if self._choice else None)

    def start(
        self, pack_id: str, difficulty: str, model_id: str | None, settled: Callable[[], None] | None = None
    ) -> None:
        """Start a session on the server (background); settled() once it started or failed (failures go to
        on_error)."""
        client, pack = self.controller.client, self.catalog.packs.get(pack_id)
        if client is None or pack is None or self._starting:
            return
        self._choice = (pack_id, difficulty, model_id)
        local_ranked = [entry.sha256 for entry in pack.splits.get("ranked", [])]
        classes = list(pack.classes)
        read_image = pack_image_reader(pack)

        def begin() -> RankedGame:
            pool, opponent = ranked_setup(
                client, pack_id=pack_id, difficulty=difficulty, local_ranked=local_ranked, model_id=model_id
            )
            return RankedGame.start(
                client,
                pack_id=pack_id,
                difficulty=difficulty,
                classes=classes,
                ranked_images=pool,
                model_id=opponent,
                read_image=read_image,
            )

        self._starting = True
        self._settled = settled
        self.controller.run(begin, self._begun, self._failed)

    def _begun(self, game: RankedGame) -> None:
        self._starting = False
        self.game = game
        self._settle()
        self.round.show_seed_commitment(game.seed_commitment)
        # The first round is dealt in the background; the round screen shows once it is.
        self.rounds.start(RankedRounds(game))

    def _settle(self) -> None:
        if self._settled is not None:
            self._settled()
            self._settled = None

    def _on_finished(self) -> None:
        game = self.game
        if game is None:
            return
        online = self.controller.online
        pinned = online.pinned_ranked_key()
        summary = game.summary(pinned)
        if pinned is None and summary.server_key and summary.is_verified:
            online.pin_ranked_key(summary.server_key)  # trust on first use: a later change is an error
        if summary.record is not None and summary.server_key:
            online.store.save_ranked_record(
                server_url=online.settings.server_url or "",
                record=summary.record,
                signature=summary.signature,
                public_key=summary.server_key,
                verified=summary.is_verified,
            )
        self.end.show_summary(summary, game.opponent.title)
        self.screen_wanted.emit(self.end)

    def _on_quit(self) -> None:
        # Quitting abandons the session on the server: it counts as played, its missing rounds timed out.
        game = self.game
        self.rounds.stop()
        self.game = None
        if game is not None and game.finished is None:
            self.controller.run(lambda: game.client.ranked_abandon(game.id), lambda _: None, self.on_error)
        self.home_requested.emit()

    def _failed(self, exc: Exception, details: str) -> None:
        self._starting = False
        self._settle()
        self.rounds.stop()
        was_playing = self.game is not None
        self.game = None
        if was_playing:  # the session stays unfinished on the server; a new one starts from the home screen
            self.home_requested.emit()
        self.on_error(exc, details)
