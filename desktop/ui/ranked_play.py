"""Ranked mode in the window: the server's round protocol played on the game's own round screen (RoundView), and a
short end screen with the server's score and what the game verified (each AI commitment, the server seed)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from classifiers.errors import EyeVsAIError
from desktop.core.session import RoundResult
from desktop.services.catalog import Catalog
from desktop.services.online.ranked import RankedGame, RankedRound, RankedSummary, ranked_setup
from desktop.ui.online_controller import OnlineController
from desktop.ui.round_view import RoundView, short_hash
from game_rules.deal import DealtRound

TICK_MS = 100


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
        layout.addStretch(1)
        layout.addLayout(buttons)

    def show_summary(self, summary: RankedSummary, opponent: str) -> None:
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
            "server).</p>"
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
                "from the start and re-deals every round." + images
            )
        else:
            self.checks.setText(
                "<span style='color:#c62828'><b>NOT verified ✗</b></span> " + "; ".join(summary.problems) + "."
            )


class RankedPlay(QObject):
    """Drives one ranked session at a time. Signals:
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
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.catalog = catalog
        self.on_error = on_error
        self.round = RoundView()
        self.end = RankedEndView()
        self.game: RankedGame | None = None
        self._choice: tuple[str, str, str | None] | None = None
        self._shown_at = 0.0
        self._revealed = True
        self._busy = False
        self._settled: Callable[[], None] | None = None
        self.clock = QTimer(self)
        self.clock.setInterval(TICK_MS)
        self.clock.timeout.connect(self._on_tick)
        self.round.answered.connect(self._on_answered)
        self.round.next_requested.connect(self._on_next)
        self.round.quit_requested.connect(self._on_quit)
        self.end.home_requested.connect(self.home_requested)
        self.end.again_requested.connect(lambda: self.start(*self._choice) if self._choice else None)
        self.end.board_requested.connect(lambda: self.board_requested.emit(*self._choice[:2]) if self._choice else None)

    def start(
        self, pack_id: str, difficulty: str, model_id: str | None, settled: Callable[[], None] | None = None
    ) -> None:
        """Start a session on the server (background); settled() once it started or failed (failures go to the
        window's error handler)."""
        client, pack = self.controller.client, self.catalog.packs.get(pack_id)
        if client is None or pack is None or self._busy:
            return
        self._choice = (pack_id, difficulty, model_id)
        local_ranked = [entry.sha256 for entry in pack.splits.get("ranked", [])]
        classes = list(pack.classes)

        def begin() -> tuple[RankedGame, RankedRound]:
            pool, opponent = ranked_setup(
                client, pack_id=pack_id, difficulty=difficulty, local_ranked=local_ranked, model_id=model_id
            )
            game = RankedGame.start(
                client, pack_id=pack_id, difficulty=difficulty, classes=classes, ranked_images=pool, model_id=opponent
            )
            return game, game.next_round()

        def begun(result: tuple[RankedGame, RankedRound]) -> None:
            self._busy = False
            self.game, first = result
            self._settle()
            self.round.session_line.setText(
                f"<small>Ranked · server seed commitment <code>{short_hash(self.game.seed_commitment)}</code></small>"
            )
            self.round.session_line.setToolTip(
                f"SHA-256 of the server's secret seed, revealed at the end:\n{self.game.seed_commitment}"
            )
            self.screen_wanted.emit(self.round)
            self._show_round(first)

        self._busy = True
        self._settled = settled
        self.controller.run(begin, begun, self._failed)

    def _settle(self) -> None:
        if self._settled is not None:
            self._settled()
            self._settled = None

    # -- rounds --------------------------------------------------------------------------------------------------
    def _show_round(self, dealt: RankedRound) -> None:
        game = self.game
        assert game is not None
        pack = self.catalog.packs[game.pack_id]
        try:
            data = pack.read_bytes(dealt.image)
        except EyeVsAIError:
            data = b""
        shown = self.round.show_round(
            DealtRound(dealt.number, dealt.image, dealt.options, truth=""),
            data,
            dealt.commitment,
            f"Ranked round {dealt.number}/{game.rounds_total} · {game.opponent.title}",
        )
        self._show_score()
        if not shown:
            self.round.reveal.setText(
                "This image is not in your copy of the pack (or cannot be decoded). Pick any "
                "option or let the time run out; update the game to get the ranked images."
            )
        self._revealed = False
        self._shown_at = time.monotonic()
        QTimer.singleShot(0, lambda: self.round.set_options_enabled(not self._revealed))
        self.clock.start()
        self._on_tick()

    def _show_score(self) -> None:
        results = self.game.results if self.game else []
        self.round.show_score(
            sum(r.points for r in results),
            sum(r.player_correct for r in results),
            sum(r.ai_correct for r in results),
            len(results),
        )

    def _on_tick(self) -> None:
        if self.game is None or self._revealed or self.game.current is None:
            return
        limit = self.game.current.seconds
        remaining = limit - (time.monotonic() - self._shown_at)
        self.round.show_clock(remaining, limit)
        if remaining <= 0:
            self._on_answered(None)

    def _on_answered(self, choice: str | None) -> None:
        game = self.game
        if game is None or self._revealed or self._busy:
            return
        self._revealed = True  # one answer per round; the server times it
        self.clock.stop()
        self.round.set_options_enabled(False)
        self._busy = True
        self.controller.run(lambda: game.answer(choice), self._on_revealed, self._failed)

    def _on_revealed(self, result: RoundResult) -> None:
        self._busy = False
        game = self.game
        assert game is not None
        self.round.show_reveal(result, last=not game.has_next_round)
        self._show_score()

    def _on_next(self) -> None:
        game = self.game
        if game is None or not self._revealed or self._busy:
            return
        if game.has_next_round:
            self._busy = True
            self.round.next.setEnabled(False)

            def dealt(round_: RankedRound) -> None:
                self._busy = False
                self._show_round(round_)

            self.controller.run(game.next_round, dealt, self._failed)
            return
        self.end.show_summary(game.summary(), game.opponent.title)
        self.screen_wanted.emit(self.end)

    def _on_quit(self) -> None:
        # The server keeps the session; its unanswered rounds count as timed out if it is ever continued.
        self.clock.stop()
        self.game = None
        self.home_requested.emit()

    def _failed(self, exc: Exception, details: str) -> None:
        self._busy = False
        self._settle()
        self.clock.stop()
        was_playing = self.game is not None
        self.game = None
        if was_playing:  # the session stays unfinished on the server; a new one starts from the home screen
            self.home_requested.emit()
        self.on_error(exc, details)
