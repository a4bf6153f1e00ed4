"""The game window: screens in a stack, background model loading, and the round loop (RoundController) shown on
the round screen. Errors go to the one ErrorReporter (qtsupport)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QStackedWidget, QWidget

from desktop.core.consistency import plain_consistency
from desktop.core.play import Clock, LocalRounds
from desktop.core.session import GameSession, RoundResult
from desktop.services.catalog import Catalog, OpponentEntry
from desktop.services.dealer import start_session
from desktop.services.opponent import LoadedOpponent, load_opponent
from desktop.services.store import Store
from desktop.ui.career_ui import CareerUi
from desktop.ui.end_view import EndView, HistoryView
from desktop.ui.home import HomeScreen, Selection
from desktop.ui.home_actions import ProblemsDialog, last_result_text, open_trainer, trainer_command
from desktop.ui.picture import heat_image
from desktop.ui.prefs import Prefs, prefs_beside
from desktop.ui.round_controller import RoundController, pack_image_reader, show_rounds_on
from desktop.ui.round_view import RoundView
from desktop.ui.sounds import Sounds
from desktop.ui.window_support import ask_to_quit_session, fit_to_screen
from desktop.verify import write_proof
from game_rules.commitment import new_salt
from game_rules.modes import MODES
from qtsupport.errors import ErrorReporter
from qtsupport.worker import run_in_background

APP_NAME = "Eye vs AI"
UNREADABLE = "This image could not be decoded. Pick any option or let the time run out."


def game_reporter(product: str = "eyevsai", log_path: Path | None = None) -> ErrorReporter:
    """The game's error reporter: plain dialogs for known problems, the crash dialog for bugs."""
    return ErrorReporter(
        app_name=APP_NAME,
        product=product,
        reassurance="Your history is safe and the game can go on.",
        log_path=log_path,
    )


class MainWindow(QMainWindow):
    """Owns the current GameSession and drives the views from its state.

    Signals:
        session_finished(): a classic or blitz session ended and was saved; the end screen shows it.
        catalog_reloaded(): packs and models were looked up again (Reload on home).
    """

    session_finished = Signal()
    catalog_reloaded = Signal()

    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        *,
        device: str | None = None,
        opponent_loader: Callable[..., LoadedOpponent] = load_opponent,
        new_seed: Callable[[], str] = lambda: uuid.uuid4().hex,
        reporter: ErrorReporter | None = None,
        clock: Clock = time.monotonic,
        prefs: Prefs | None = None,
        reload_catalog: Callable[[], Catalog] | None = None,
    ) -> None:
        """opponent_loader(entry, device=...) loads a model, new_seed() draws a session seed and clock() reads the
        round clock; tests pass fakes. `reporter` shows errors over this window (default: a game reporter).
        `prefs` remembers the last setup, image scaling and sound (default: a file beside the database);
        `reload_catalog()` looks for packs and models again (None: the Reload button is hidden)."""
        super().__init__()
        self.new_seed = new_seed
        self.load_opponent = opponent_loader
        self.setWindowTitle(APP_NAME)
        fit_to_screen(self, 960, 820)
        self.prefs = prefs if prefs is not None else prefs_beside(store.path)
        self.reload_catalog = reload_catalog
        self.catalog = catalog
        self.store = store
        self.device = device
        self.reporter = reporter if reporter is not None else game_reporter()
        self.reporter.set_window(self)
        self.opponents: dict[str, LoadedOpponent] = {}
        self.session: GameSession | None = None
        self.profile_id = 0
        self._loading: set[str] = set()

        names = store.profile_names()
        self.home = HomeScreen(catalog, names[-1] if names else "Player")
        self.selection: Selection = self.home.selection()
        self.round = RoundView()
        self.end = EndView()
        self.history = HistoryView()
        self.stack = QStackedWidget()
        for view in (self.home, self.round, self.end, self.history):
            self.stack.addWidget(view)
        self.setCentralWidget(self.stack)
        self.rounds = RoundController(self, clock=clock)
        self.rounds.round_revealed.connect(self._save_round)  # first: stored before the player sees it
        show_rounds_on(self.round, self.rounds, UNREADABLE)
        self.rounds.session_finished.connect(self._finish_session)

        self.home.selection_changed.connect(self._on_selection_changed)
        self.home.play_requested.connect(self._on_play_requested)
        self.home.history_requested.connect(self._on_history_requested)
        self.round.quit_requested.connect(self._on_quit_requested)
        self._follow_round_settings()
        self.end.play_again_requested.connect(self._on_play_requested)
        self.end.home_requested.connect(self.show_home)
        self.end.export_requested.connect(self._on_export_requested)
        self.history.home_requested.connect(self.show_home)
        self.career = CareerUi(self)
        self._follow_home()
        self._on_selection_changed(self.selection)
        if store.problem:
            self.home.show_notice(store.problem)

    # -- for the online parts ---------------------------------------------------------------------------------
    def add_home_panel(self, widget: QWidget) -> None:
        """Show `widget` on the home screen under the title."""
        self.home.add_panel(widget)

    def add_screen(self, widget: QWidget) -> None:
        self.stack.addWidget(widget)

    def show_screen(self, widget: QWidget) -> None:
        self.stack.setCurrentWidget(widget)

    # -- home -------------------------------------------------------------------------------------------------
    def _follow_home(self) -> None:
        """The home screen's extras: remembered setup, first-launch intro, problems, reload, the trainer."""
        home, prefs = self.home, self.prefs
        home.restore(prefs.get("pack"), prefs.get("difficulty"), prefs.get("model"), prefs.get("mode"))
        self.selection = home.selection()
        if not prefs.get("intro_seen", False):
            home.show_intro()
        home.intro_closed.connect(lambda: prefs.set("intro_seen", True))
        home.show_problems(self.catalog.problems)
        home.problems_requested.connect(self.show_problems)
        home.reload.setVisible(self.reload_catalog is not None)
        home.reload_requested.connect(self.reload)
        home.trainer_requested.connect(lambda: open_trainer(self, trainer_command()))
        self._show_last_result()

    def show_problems(self) -> None:
        self.problems_dialog = ProblemsDialog(self.catalog.problems, self)
        self.problems_dialog.open()

    def reload(self) -> None:
        """Look for packs and models again, keeping the choice where it still exists."""
        if self.reload_catalog is None:
            return
        self.catalog = self.reload_catalog()
        self.home.set_catalog(self.catalog, keep=self.selection)
        self.home.show_problems(self.catalog.problems)
        count = len(self.catalog.playable_packs())
        self.home.show_status(f"Found {count} playable pack{'s' if count != 1 else ''}.")
        self._on_selection_changed(self.home.selection())
        self.catalog_reloaded.emit()

    def _show_last_result(self) -> None:
        rows = self.store.history(self.store.profile_id(self.home.profile_name()), limit=1)
        titles = {o.card.id: o.card.title for entries in self.catalog.opponents.values() for o in entries}
        self.home.show_last_result(last_result_text(rows[0], titles) if rows else "")

    def show_home(self) -> None:
        self.rounds.stop()
        self._refresh_leaderboard()
        self._show_last_result()
        self.career.refresh_home()
        self.stack.setCurrentWidget(self.home)
        self.home.play.setFocus()

    def _refresh_leaderboard(self) -> None:
        chosen = self.selection
        if chosen.pack_id and chosen.difficulty:
            self.home.show_leaderboard(self.store.leaderboard(chosen.pack_id, chosen.difficulty, chosen.mode))

    def _on_selection_changed(self, selection: Selection) -> None:
        self.selection = selection
        for key, value in (
            ("pack", selection.pack_id),
            ("difficulty", selection.difficulty),
            ("model", selection.opponent.card.id if selection.opponent else None),
            ("mode", selection.mode),
        ):
            if value is not None:
                self.prefs.set(key, value)
        self.career.refresh_home()
        self._refresh_leaderboard()
        if selection.opponent is not None:
            self._warm(selection.opponent)

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
            self.reporter.error(exc, details)

        loader = self.load_opponent
        run_in_background(lambda: loader(entry, device=device), done, failed, parent=self)

    def _show_device(self, loaded: LoadedOpponent) -> None:
        self.home.show_device(loaded.device, notice=loaded.classifier.fallback_reason)

    # -- starting a session -----------------------------------------------------------------------------------
    def _on_play_requested(self) -> None:
        chosen = self.selection
        entry, pack_id = chosen.opponent, chosen.pack_id
        if entry is None or pack_id is None:
            return
        self.home.set_play_enabled(False)
        self.home.show_status("Dealing and letting the AI commit to its answers…")
        mode = MODES[chosen.mode]
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
        self.home.set_play_enabled(True)
        self.home.show_status("")
        self.reporter.error(exc, details)

    def _on_session_ready(self, result: tuple[LoadedOpponent, GameSession]) -> None:
        opponent, session = result
        self.opponents[opponent.entry.card.id] = opponent
        self.home.set_play_enabled(True)
        self.home.show_status("")
        profile_id = self.store.profile_id(self.home.profile_name())
        self.store.begin_session(session, profile_id, opponent.entry.difficulty)
        self.begin_playing(session, profile_id)

    def begin_playing(self, session: GameSession, profile_id: int) -> None:
        """Play a dealt session whose start is already stored (a daily challenge stores its own)."""
        self.session, self.profile_id = session, profile_id
        dealt = None if session.mode.is_blitz else len(session.rounds)
        self.round.show_session_commitment(session.session_commitment, dealt)
        self.stack.setCurrentWidget(self.round)
        self.rounds.start(LocalRounds(session, pack_image_reader(self.catalog.packs[session.pack_id])))

    # -- rounds -----------------------------------------------------------------------------------------------
    def _save_round(self, result: RoundResult, _last: bool) -> None:
        assert self.session is not None
        self.store.save_round(self.session.session_id, result)

    def _follow_round_settings(self) -> None:
        """The round screen's image scaling and sound switch, remembered between runs."""
        self.round.set_scaling(self.prefs.get("scaling", "sharp"))
        self.round.set_sounds(Sounds(muted=bool(self.prefs.get("muted", False))))
        self.round.scaling_changed.connect(lambda scaling: self.prefs.set("scaling", scaling))
        self.round.muted_changed.connect(lambda muted: self.prefs.set("muted", muted))
        self.round.set_heatmap_available(True)
        self.round.heatmap_requested.connect(self._on_heatmap_requested)

    def _on_heatmap_requested(self, result: RoundResult) -> None:
        """Where the AI looked, computed in the background (one batch of occluded copies through the model)."""
        session = self.session
        opponent = self.opponents.get(session.opponent.model_id) if session is not None else None
        if session is None or opponent is None:
            return
        pack, view = self.catalog.packs[session.pack_id], self.round

        def compute():  # noqa: ANN202 - a numpy array
            return opponent.heatmap(pack.load_image(result.image), result.ai.answer).heat

        run_in_background(
            compute, lambda heat: view.show_heatmap(result, heat_image(heat)), self.reporter.error, parent=self
        )

    def _on_quit_requested(self) -> None:
        """Ask first: a session left now is lost."""
        if self.session is not None and self.rounds.is_playing:
            self.quit_box = ask_to_quit_session(self, self._quit_session)
        else:
            self._quit_session()

    def _quit_session(self) -> None:
        self.rounds.stop()
        self.store.abandon_unfinished()
        self.session = None
        self.show_home()

    # -- end --------------------------------------------------------------------------------------------------
    def _finish_session(self) -> None:
        session = self.session
        if session is None or self.stack.currentWidget() is self.end:
            return
        self.store.finish_session(session)
        pairs = self.store.correctness_pairs(self.profile_id, session.pack_id, session.opponent.model_id)
        self.end.show_session(session, plain_consistency(pairs))
        self.end.show_pictures(session, pack_image_reader(self.catalog.packs[session.pack_id]))
        self.stack.setCurrentWidget(self.end)
        self.end.buttons["again"].setFocus()
        self.session_finished.emit()

    def _on_export_requested(self) -> None:
        if self.session is None:
            return
        default = str(Path.home() / f"eyevsai-proof-{self.session.session_id[:8]}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Export proof", default, "Proof (*.json)")
        if path:
            self.export_proof(Path(path))

    def export_proof(self, path: Path) -> None:
        assert self.session is not None
        write_proof(path, self.session.proof())
        self.end.show_status(f"Proof saved to {path}. Check it with: eyevsai verify {path} --rerun")

    def _on_history_requested(self) -> None:
        profile_id = self.store.profile_id(self.home.profile_name())
        pack_id = self.selection.pack_id or ""
        consistency = plain_consistency(self.store.correctness_pairs(profile_id, pack_id))
        titles = {o.card.id: o.card.title for entries in self.catalog.opponents.values() for o in entries}
        self.history.show_history(self.store.history(profile_id), consistency, titles)
        self.stack.setCurrentWidget(self.history)
        self.history.back.setFocus()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.rounds.stop()
        if self.session is not None and self.stack.currentWidget() is self.round:
            self.store.abandon_unfinished()
        super().closeEvent(event)
