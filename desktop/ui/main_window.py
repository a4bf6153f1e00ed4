"""The game window: screens in a stack, the round clock, background model loading and the single error handler."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QStackedWidget

from classifiers.errors import EyeVsAIError
from desktop.core.consistency import describe_consistency
from desktop.core.session import GameSession, RoundResult
from desktop.services.catalog import Catalog, OpponentEntry
from desktop.services.dealer import start_session
from desktop.services.opponent import LoadedOpponent, load_opponent
from desktop.services.store import Store
from desktop.ui.end_view import EndView, HistoryView
from desktop.ui.home import HomeScreen
from desktop.ui.round_view import RoundView
from desktop.ui.worker import run_in_background
from game_rules.commitment import new_salt
from game_rules.modes import MODES

TICK_MS = 100
BLITZ_REVEAL_MS = 700


class MainWindow(QMainWindow):
    """Owns the current GameSession and drives the views from its state."""

    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        *,
        device: str | None = None,
        opponent_loader: Callable[..., LoadedOpponent] = load_opponent,
        new_seed: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        """opponent_loader(entry, device=...) loads a model and new_seed() draws a session seed; tests pass fakes."""
        super().__init__()
        self.new_seed = new_seed
        self.load_opponent = opponent_loader
        self.setWindowTitle("Eye vs AI")
        self.resize(900, 760)
        self.catalog = catalog
        self.store = store
        self.device = device
        self.opponents: dict[str, LoadedOpponent] = {}
        self.session: GameSession | None = None
        self._round_started = 0.0
        self._blitz_started = 0.0
        self._revealed = False
        self._loading: set[str] = set()

        names = store.profile_names()
        self.home = HomeScreen(catalog, names[-1] if names else "Player")
        self.round = RoundView()
        self.end = EndView()
        self.history = HistoryView()
        self.stack = QStackedWidget()
        for view in (self.home, self.round, self.end, self.history):
            self.stack.addWidget(view)
        self.setCentralWidget(self.stack)
        self.clock = QTimer(self)
        self.clock.setInterval(TICK_MS)
        self.clock.timeout.connect(self._on_tick)

        self.home.selection_changed.connect(self._on_selection_changed)
        self.home.play_requested.connect(self._on_play_requested)
        self.home.history_requested.connect(self._on_history_requested)
        self.round.answered.connect(self._on_answered)
        self.round.next_requested.connect(self._on_next_requested)
        self.round.quit_requested.connect(self._on_quit_requested)
        self.end.play_again_requested.connect(self._on_play_requested)
        self.end.home_requested.connect(self._show_home)
        self.end.export_requested.connect(self._on_export_requested)
        self.history.home_requested.connect(self._show_home)
        if catalog.problems:
            self.home.show_status("Some content was skipped:\n" + "\n".join(catalog.problems[:5]))
        self._on_selection_changed()

    # -- home -------------------------------------------------------------------------------------------------
    def _show_home(self) -> None:
        self.clock.stop()
        self._refresh_leaderboard()
        self.stack.setCurrentWidget(self.home)

    def _refresh_leaderboard(self) -> None:
        pack_id, level = self.home.pack_id(), self.home.difficulty_name()
        if pack_id and level:
            self.home.show_leaderboard(self.store.leaderboard(pack_id, level, self.home.mode_name()))

    def _on_selection_changed(self) -> None:
        self._refresh_leaderboard()
        entry = self.home.opponent_entry()
        if entry is not None:
            self._warm(entry)

    def _warm(self, entry: OpponentEntry) -> None:
        """Load and warm the model in the background while the player is still choosing."""
        model_id = entry.card.id
        if model_id in self.opponents:
            self._show_device(self.opponents[model_id])
            return
        if model_id in self._loading:
            return
        self._loading.add(model_id)
        device = self.device

        def done(loaded: LoadedOpponent) -> None:
            self._loading.discard(model_id)
            self.opponents[model_id] = loaded
            self._show_device(loaded)

        def failed(exc: Exception, details: str) -> None:
            self._loading.discard(model_id)
            self._on_error(exc, details)

        loader = self.load_opponent
        run_in_background(lambda: loader(entry, device=device), done, failed, parent=self)

    def _show_device(self, loaded: LoadedOpponent) -> None:
        classifier = loaded.classifier
        self.home.show_device(f"{loaded.device} ({classifier.provider})", notice=classifier.fallback_reason)

    # -- starting a session -----------------------------------------------------------------------------------
    def _on_play_requested(self) -> None:
        entry, pack_id = self.home.opponent_entry(), self.home.pack_id()
        if entry is None or pack_id is None:
            return
        self.home.play.setEnabled(False)
        self.home.show_status("Dealing and letting the AI commit to its answers…")
        mode = MODES[self.home.mode_name()]
        pack = self.catalog.packs[pack_id]
        cached, device, loader = self.opponents.get(entry.card.id), self.device, self.load_opponent
        seed = self.new_seed()

        def prepare() -> tuple[LoadedOpponent, GameSession]:
            opponent = cached or loader(entry, device=device)
            return opponent, start_session(
                pack, opponent, mode, seed=seed, session_id=str(uuid.uuid4()), new_salt=new_salt
            )

        run_in_background(prepare, self._on_session_ready, self._on_start_failed, parent=self)

    def _on_start_failed(self, exc: Exception, details: str) -> None:
        self.home.play.setEnabled(True)
        self.home.show_status("")
        self._on_error(exc, details)

    def _on_session_ready(self, result: tuple[LoadedOpponent, GameSession]) -> None:
        opponent, session = result
        self.opponents[opponent.entry.card.id] = opponent
        self.home.play.setEnabled(True)
        self.home.show_status("")
        profile_id = self.store.profile_id(self.home.profile_name())
        self.store.begin_session(session, profile_id, opponent.entry.difficulty)
        self.session, self.profile_id = session, profile_id
        self.round.show_session_commitment(session.session_commitment, len(session.rounds))
        self.stack.setCurrentWidget(self.round)
        self._blitz_started = time.monotonic()
        self._show_round()
        self.clock.start()

    # -- rounds -----------------------------------------------------------------------------------------------
    def _show_round(self) -> None:
        session = self.session
        assert session is not None
        dealt = session.current_round()
        total = "∞" if session.mode.is_blitz else str(len(session.rounds))
        pack = self.catalog.packs[session.pack_id]
        try:
            data = pack.read_bytes(dealt.image)
        except EyeVsAIError:
            data = b""
        shown = self.round.show_round(
            dealt, data, session.current_commitment(), f"Round {dealt.number}/{total} · {session.opponent.title}"
        )
        self.round.show_score(session.player_points, session.player_correct, session.ai_correct, len(session.results))
        self._revealed = False
        self._round_started = time.monotonic()
        if not shown:
            # The round still counts for both sides; the player is told why there is nothing to see.
            self.round.reveal.setText("This image could not be decoded. Pick any option or let the time run out.")
        # Unlock after the commitment has been painted, so it is visible before any answer is possible.
        QTimer.singleShot(0, lambda: self.round.set_options_enabled(True))
        self._on_tick()

    def _elapsed(self) -> float:
        return time.monotonic() - self._round_started

    def _on_tick(self) -> None:
        session = self.session
        if session is None:
            return
        if session.mode.is_blitz:
            remaining = session.mode.total_seconds - (time.monotonic() - self._blitz_started)
            self.round.show_clock(remaining, session.mode.total_seconds)
            if remaining <= 0:
                self._finish_session()
        elif not self._revealed:
            limit = session.mode.seconds_per_round
            remaining = limit - self._elapsed()
            self.round.show_clock(remaining, limit)
            if remaining <= 0:
                self._on_answered(None)

    def _on_answered(self, choice: str | None) -> None:
        session = self.session
        if session is None or self._revealed or not session.has_next_round:
            return
        elapsed = self._elapsed()
        self._revealed = True
        result: RoundResult = session.answer(choice, elapsed)
        self.store.save_round(session.session_id, result)
        last = not session.has_next_round
        self.round.show_reveal(result, last=last)
        self.round.show_score(session.player_points, session.player_correct, session.ai_correct, len(session.results))
        if session.mode.is_blitz and not last:
            QTimer.singleShot(BLITZ_REVEAL_MS, self._advance_if_still_revealed)

    def _advance_if_still_revealed(self) -> None:
        if self._revealed and self.stack.currentWidget() is self.round:
            self._on_next_requested()

    def _on_next_requested(self) -> None:
        session = self.session
        if session is None or not self._revealed:
            return
        if session.has_next_round:
            self._show_round()
        else:
            self._finish_session()

    def _on_quit_requested(self) -> None:
        self.clock.stop()
        self.store.abandon_unfinished()
        self.session = None
        self._show_home()

    # -- end --------------------------------------------------------------------------------------------------
    def _finish_session(self) -> None:
        self.clock.stop()
        session = self.session
        if session is None or self.stack.currentWidget() is self.end:
            return
        self.store.finish_session(session)
        pairs = self.store.correctness_pairs(self.profile_id, session.pack_id, session.opponent.model_id)
        self.end.show_session(session, describe_consistency(pairs))
        self.stack.setCurrentWidget(self.end)

    def _on_export_requested(self) -> None:
        if self.session is None:
            return
        default = str(Path.home() / f"eyevsai-proof-{self.session.session_id[:8]}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Export proof", default, "Proof (*.json)")
        if path:
            self.export_proof(Path(path))

    def export_proof(self, path: Path) -> None:
        assert self.session is not None
        path.write_text(self.session.proof().to_json(), encoding="utf-8")
        self.end.status.setText(f"Proof saved to {path}. Check it with: eyevsai verify {path} --rerun")

    def _on_history_requested(self) -> None:
        profile_id = self.store.profile_id(self.home.profile_name())
        pack_id = self.home.pack_id() or ""
        consistency = describe_consistency(self.store.correctness_pairs(profile_id, pack_id))
        titles = {o.card.id: o.card.title for entries in self.catalog.opponents.values() for o in entries}
        self.history.show_history(self.store.history(profile_id), consistency, titles)
        self.stack.setCurrentWidget(self.history)

    # -- errors -----------------------------------------------------------------------------------------------
    def _on_error(self, exc: Exception, details: str) -> None:
        """Known errors become a plain message; anything else is a bug report dialog with the traceback."""
        box = QMessageBox(self)
        if isinstance(exc, EyeVsAIError):
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("Eye vs AI")
            box.setText(str(exc))
        else:
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle("Eye vs AI — unexpected error")
            box.setText(f"Something went wrong: {type(exc).__name__}: {exc}\nThe game can go on; please report this.")
            box.setDetailedText(details)
            copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
            copy.clicked.disconnect()
            copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
        box.addButton(QMessageBox.StandardButton.Ok)
        box.open()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.clock.stop()
        if self.session is not None and self.stack.currentWidget() is self.round:
            self.store.abandon_unfinished()
        super().closeEvent(event)
