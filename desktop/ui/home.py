"""The home screen: the pack and opponent as cards, the choice (name, pack, difficulty, opponent, mode), Play,
today's challenge, streak and achievements, the last result, the local leaderboard, and the way to more content
(reload, make your own opponent)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.services.catalog import Catalog, OpponentEntry
from desktop.ui.home_cards import ChoiceCards, HowToPlay, Panel, ProblemsBanner
from game_rules.modes import MODES
from game_rules.scoring import DIFFICULTIES


@dataclass(frozen=True)
class Selection:
    """What the player chose on the home screen; None where there is nothing to choose (no playable pack)."""

    pack_id: str | None
    difficulty: str | None
    opponent: OpponentEntry | None
    mode: str

    @property
    def is_complete(self) -> bool:
        return self.pack_id is not None and self.opponent is not None


class HomeScreen(QWidget):
    """Signals:
    play_requested(): the player pressed Play (or Enter) with a complete choice.
    selection_changed(object): the new Selection after the pack, difficulty, opponent or mode changed (the window
        warms the model, refreshes boards).
    history_requested(): the player wants the history screen.
    stats_requested(): the player wants the statistics screen.
    daily_requested(): the player wants today's challenge.
    reload_requested(): look for packs and models again (a pack published from the trainer appears).
    trainer_requested(): "make your own opponent".
    packs_requested(): "get more packs" from the server's catalog.
    problems_requested(): the list of problems with packs and models.
    intro_closed(): the player closed "how to play" for good.
    """

    play_requested = Signal()
    selection_changed = Signal(object)
    history_requested = Signal()
    stats_requested = Signal()
    daily_requested = Signal()
    reload_requested = Signal()
    trainer_requested = Signal()
    packs_requested = Signal()
    problems_requested = Signal()
    intro_closed = Signal()

    def __init__(self, catalog: Catalog, profile_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.title = QLabel(
            "<h1 style='margin:0'>Eye vs AI</h1><p>Can you tell what's in a picture better than a machine?</p>"
        )
        self.profile = QLineEdit(profile_name)
        self.profile.setPlaceholderText("Your name")
        self.profile.returnPressed.connect(self._play_if_ready)
        self.pack = QComboBox()
        self.difficulty = QComboBox()
        self.opponent = QComboBox()
        self.mode = QComboBox()
        for name, mode in MODES.items():
            detail = (
                f"{mode.rounds} rounds, {mode.seconds_per_round:.0f} s each"
                if mode.rounds
                else f"as many rounds as you can in {mode.total_seconds:.0f} s"
            )
            self.mode.addItem(f"{name.capitalize()} — {detail}", name)
        self.cards = ChoiceCards()
        self.intro = HowToPlay()
        self.intro.button.clicked.connect(self._close_intro)
        self.intro.setVisible(False)
        self.problems = ProblemsBanner()
        self.problems.details_requested.connect(self.problems_requested)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #8a4b00;")
        self.notice.setVisible(False)
        self.daily = Panel("Today's challenge", "Play today's challenge  (D)")
        self.daily.body.setText("The same 10 pictures for everyone today. One try per day.")
        self.daily.button.clicked.connect(self.daily_requested)
        self.progress = Panel("Your streak")
        self.last = Panel("Last game")
        self.last.setVisible(False)
        self.device = QLabel("runs on: loading…")
        self.device.setObjectName("deviceLabel")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.play = QPushButton("Play  ⏎")
        self.play.setAutoDefault(True)
        self.play.setMinimumHeight(48)
        self.play.setStyleSheet(
            "QPushButton { background: #1e6fd9; color: white; font-size: 14pt; font-weight: bold; border-radius: 8px; }"
            "QPushButton:disabled { background: #9bb7dd; }"
            "QPushButton:focus { border: 3px solid #0b3d91; }"
        )
        self.history = QPushButton("History")
        self.stats = QPushButton("Your stats")
        self.reload = QPushButton("Reload packs && models")
        self.reload.setToolTip("Look for new packs and models (one you just published from the trainer)")
        self.trainer = QPushButton("Make your own opponent…")
        self.trainer.setToolTip("Train an AI on your own pictures with the EyeVsAI trainer")
        self.get_packs = QPushButton("Get more packs…")
        self.get_packs.setToolTip("Download picture packs and their AI opponents from the server")
        self.get_packs.setVisible(False)  # shown when the online parts are there
        for button in (self.history, self.stats, self.reload, self.get_packs, self.trainer):
            button.setAutoDefault(True)
        self.board = QTableWidget(0, 3)
        self.board.setHorizontalHeaderLabels(["Player", "Best points", "Sessions"])
        self.board.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.board.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.board.verticalHeader().setVisible(False)
        self.board.setTabKeyNavigation(False)  # Tab leaves the table: no keyboard trap
        self.board.setMinimumHeight(140)
        self.board_title = QLabel("<b>Local leaderboard</b>")
        self._build_layout()
        self._connect()
        self._fill_packs(catalog)

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow("Name", self.profile)
        form.addRow("Picture pack", self.pack)
        form.addRow("Difficulty", self.difficulty)
        form.addRow("AI opponent", self.opponent)
        form.addRow("Mode", self.mode)
        left = QVBoxLayout()
        left.addWidget(self.cards)
        left.addLayout(form)
        left.addWidget(self.device)
        left.addWidget(self.status)
        left.addWidget(self.play)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.daily)
        right.addWidget(self.progress)
        right.addWidget(self.last)
        right.addWidget(self.board_title)
        right.addWidget(self.board, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 3)
        columns.addSpacing(12)
        columns.addLayout(right, 2)
        tools = QHBoxLayout()
        for button in (self.history, self.stats):
            tools.addWidget(button)
        tools.addStretch(1)
        tools.addWidget(self.reload)
        tools.addWidget(self.get_packs)
        tools.addWidget(self.trainer)
        content = QWidget()
        layout = QVBoxLayout(content)
        self._layout = layout
        layout.addWidget(self.title)
        layout.addWidget(self.intro)
        layout.addWidget(self.problems)
        layout.addWidget(self.notice)
        layout.addLayout(columns, 1)
        layout.addLayout(tools)
        scroll = QScrollArea()  # at a scale factor of 2 the screen may be shorter than the home screen
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _connect(self) -> None:
        self.pack.currentIndexChanged.connect(self._on_pack_changed)
        self.difficulty.currentIndexChanged.connect(self._on_difficulty_changed)
        self.opponent.currentIndexChanged.connect(lambda _: self._emit_selection())
        self.mode.currentIndexChanged.connect(lambda _: self._emit_selection())
        self.play.clicked.connect(self.play_requested)
        self.history.clicked.connect(self.history_requested)
        self.stats.clicked.connect(self.stats_requested)
        self.reload.clicked.connect(self.reload_requested)
        self.trainer.clicked.connect(self.trainer_requested)
        self.get_packs.clicked.connect(self.packs_requested)

    def _fill_packs(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.pack.blockSignals(True)
        self.pack.clear()
        for pack in catalog.playable_packs():
            self.pack.addItem(f"{pack.title} ({len(pack.classes)} classes)", pack.id)
        self.pack.blockSignals(False)
        self._on_pack_changed()
        playable = bool(catalog.playable_packs())
        self.play.setEnabled(playable)
        self.daily.button.setEnabled(playable)
        if not playable:
            self.show_status(
                "No playable pack found: the game needs a pack with test images and at least one "
                "model. Reinstall the game or add packs/models to your data folder."
            )

    def set_catalog(self, catalog: Catalog, keep: Selection | None = None) -> None:
        """Show a reloaded catalog, keeping the current choice where it still exists."""
        self._fill_packs(catalog)
        if keep is not None:
            self.restore(keep.pack_id, keep.difficulty, keep.opponent.card.id if keep.opponent else None, keep.mode)

    def restore(self, pack_id: str | None, difficulty: str | None, model_id: str | None, mode: str | None) -> None:
        """Choose a remembered setup; parts that no longer exist keep the default. One selection_changed at the end
        (the window warms that one model, not every one passed on the way)."""
        self.blockSignals(True)
        for combo, value in ((self.pack, pack_id), (self.difficulty, difficulty), (self.mode, mode)):
            index = combo.findData(value) if value is not None else -1
            if index >= 0:
                combo.setCurrentIndex(index)
        for i in range(self.opponent.count()):
            if self.opponent.itemData(i).card.id == model_id:
                self.opponent.setCurrentIndex(i)
        self.blockSignals(False)
        self._emit_selection()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Enter plays (unless a focused button takes it); D opens today's challenge."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._play_if_ready()
        elif event.key() == Qt.Key.Key_D and not self.profile.hasFocus() and self.daily.button.isEnabled():
            self.daily_requested.emit()
        else:
            super().keyPressEvent(event)

    def _play_if_ready(self) -> None:
        if self.play.isEnabled() and self.selection().is_complete:
            self.play_requested.emit()

    def _close_intro(self) -> None:
        self.intro.setVisible(False)
        self.intro_closed.emit()
        self.play.setFocus()

    def show_intro(self) -> None:
        """The first-launch "how to play"."""
        self.intro.setVisible(True)
        self.intro.button.setFocus()

    # -- current choice ---------------------------------------------------------------------------------------
    def selection(self) -> Selection:
        return Selection(
            self.pack.currentData(), self.difficulty.currentData(), self.opponent.currentData(), self.mode.currentData()
        )

    def _emit_selection(self) -> None:
        chosen = self.selection()
        self.cards.show_pack(self.catalog.packs.get(chosen.pack_id) if chosen.pack_id else None)
        self.cards.show_opponent(chosen.opponent)
        self.selection_changed.emit(chosen)

    def profile_name(self) -> str:
        return self.profile.text().strip() or "Player"

    # -- updates ----------------------------------------------------------------------------------------------
    def _on_pack_changed(self) -> None:
        self.difficulty.blockSignals(True)
        self.difficulty.clear()
        pack_id = self.pack.currentData()
        levels = {o.difficulty for o in self.catalog.opponents_for(pack_id)} if pack_id else set()
        for level in DIFFICULTIES:
            if level in levels:
                self.difficulty.addItem(level.capitalize(), level)
        self.difficulty.blockSignals(False)
        self._on_difficulty_changed()

    def _on_difficulty_changed(self) -> None:
        self.opponent.blockSignals(True)
        self.opponent.clear()
        pack_id, level = self.pack.currentData(), self.difficulty.currentData()
        for entry in self.catalog.opponents_for(pack_id, level) if pack_id and level else []:
            self.opponent.addItem(entry.label.replace("% on test)", " % on test images)"), entry)
        self.opponent.blockSignals(False)
        self._emit_selection()

    def show_device(self, text: str, notice: str | None = None) -> None:
        """The device running the opponent; `notice` says why an expected GPU is not used (its first clause is
        shown, the whole of it in the tooltip)."""
        summary = notice.split(" (")[0].split(": ")[0] if notice else ""
        self.device.setText(f"runs on: {text}" + (f"\n⚠ GPU not used: {summary}. Hover for details." if notice else ""))
        self.cards.show_runs_on(text)
        self.device.setToolTip(notice or "")
        self.device.setStyleSheet("color: #b45309;" if notice else "")
        self.device.setVisible(bool(notice))  # without a notice the opponent card already says where it runs

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def set_play_enabled(self, enabled: bool) -> None:
        self.play.setEnabled(enabled)

    def add_panel(self, widget: QWidget) -> None:
        """Put a panel under the title, where it is seen first (the online account bar)."""
        self._layout.insertWidget(1, widget)

    def show_problems(self, problems: list[str]) -> None:
        """A persistent "N problems — details…" line (nothing when there are none)."""
        self.problems.show_problems(problems)

    def show_notice(self, text: str) -> None:
        """A lasting notice (the data folder is read-only); empty hides it."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def show_daily(self, text: str, *, playable: bool) -> None:
        self.daily.body.setText(text)
        self.daily.button.setEnabled(playable and bool(self.catalog.playable_packs()))

    def show_progress(self, text: str) -> None:
        self.progress.body.setText(text)

    def show_last_result(self, text: str) -> None:
        self.last.body.setText(text)
        self.last.setVisible(bool(text))

    def show_leaderboard(self, rows: list[dict]) -> None:
        selection = self.selection()
        mode, level = selection.mode, selection.difficulty or "-"
        self.board_title.setText(f"<b>Local leaderboard</b> — {mode}, {level}")
        self.board.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, key in enumerate(("name", "points", "sessions")):
                self.board.setItem(i, j, QTableWidgetItem(str(row[key])))
