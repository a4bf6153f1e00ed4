"""The home screen: profile, pack, difficulty, opponent, mode, device, leaderboard and the Play button."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.services.catalog import Catalog, OpponentEntry
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
    play_requested(): the player pressed Play with a complete choice.
    selection_changed(object): the new Selection after the pack, difficulty, opponent or mode changed (the window
        warms the model, refreshes boards).
    history_requested(): the player wants the history screen.
    """

    play_requested = Signal()
    selection_changed = Signal(object)
    history_requested = Signal()

    def __init__(self, catalog: Catalog, profile_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        title = QLabel("<h1>Eye vs AI</h1><p>Can you classify photos better than a machine?</p>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.profile = QLineEdit(profile_name)
        self.profile.setPlaceholderText("Your name")
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
        self.device = QLabel("Device: loading…")
        self.device.setObjectName("deviceLabel")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.play = QPushButton("Play")
        self.play.setDefault(True)
        self.play.setMinimumHeight(44)
        self.history = QPushButton("History")
        self.board = QTableWidget(0, 3)
        self.board.setHorizontalHeaderLabels(["Player", "Best points", "Sessions"])
        self.board.horizontalHeader().setStretchLastSection(True)
        self.board.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.board.verticalHeader().setVisible(False)

        form = QFormLayout()
        form.addRow("Name", self.profile)
        form.addRow("Image pack", self.pack)
        form.addRow("Difficulty", self.difficulty)
        form.addRow("AI opponent", self.opponent)
        form.addRow("Mode", self.mode)
        buttons = QHBoxLayout()
        buttons.addWidget(self.history)
        buttons.addStretch(1)
        buttons.addWidget(self.play)
        layout = QVBoxLayout(self)
        self._layout = layout
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.device)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.board_title = QLabel("<b>Local leaderboard</b>")
        layout.addWidget(self.board_title)
        layout.addWidget(self.board, 1)

        for pack in catalog.playable_packs():
            self.pack.addItem(f"{pack.title} ({len(pack.classes)} classes)", pack.id)
        self.pack.currentIndexChanged.connect(self._on_pack_changed)
        self.difficulty.currentIndexChanged.connect(self._on_difficulty_changed)
        self.opponent.currentIndexChanged.connect(lambda _: self._emit_selection())
        self.mode.currentIndexChanged.connect(lambda _: self._emit_selection())
        self.play.clicked.connect(self.play_requested)
        self.history.clicked.connect(self.history_requested)
        self._on_pack_changed()
        if not catalog.playable_packs():
            self.play.setEnabled(False)
            self.show_status(
                "No playable pack found: the game needs a pack with test images and at least one "
                "model. Reinstall the game or add packs/models to your data folder."
            )

    # -- current choice ---------------------------------------------------------------------------------------
    def selection(self) -> Selection:
        return Selection(
            self.pack.currentData(), self.difficulty.currentData(), self.opponent.currentData(), self.mode.currentData()
        )

    def _emit_selection(self) -> None:
        self.selection_changed.emit(self.selection())

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
            self.opponent.addItem(entry.label, entry)
        self.opponent.blockSignals(False)
        self._emit_selection()

    def show_device(self, text: str, notice: str | None = None) -> None:
        """The device running the opponent; `notice` says why an expected GPU is not used (its first clause is
        shown, the whole of it in the tooltip)."""
        summary = notice.split(" (")[0].split(": ")[0] if notice else ""
        self.device.setText(f"Device: {text}" + (f"\n⚠ GPU not used: {summary}. Hover for details." if notice else ""))
        self.device.setToolTip(notice or "")
        self.device.setStyleSheet("color: #b45309;" if notice else "")

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def set_play_enabled(self, enabled: bool) -> None:
        self.play.setEnabled(enabled)

    def add_panel(self, widget: QWidget) -> None:
        """Put a panel under the title, where it is seen first (the online account bar)."""
        self._layout.insertWidget(1, widget)

    def show_leaderboard(self, rows: list[dict]) -> None:
        selection = self.selection()
        mode, level = selection.mode, selection.difficulty or "-"
        self.board_title.setText(f"<b>Local leaderboard</b> — {mode}, {level}")
        self.board.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, key in enumerate(("name", "points", "sessions")):
                self.board.setItem(i, j, QTableWidgetItem(str(row[key])))
