"""The trainer window: a sidebar of screens (Pack, Train, Results, Tune, Models) that hand work to each other."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from classifiers.pack import Pack
from qtsupport.errors import ErrorReporter
from trainer.gui.models_page import Confirm, ModelsPage
from trainer.gui.pack_page import PackPage
from trainer.gui.results_page import ResultsPage
from trainer.gui.tasks import Tasks
from trainer.gui.train_page import TrainPage
from trainer.gui.tuning_page import TuningPage
from trainer.training import TRAINER_VERSION, TrainResult
from trainer.usecases import ModelRow, TrainerUseCases

SCREENS = ("Pack", "Train", "Results", "Tune", "Models")
SIDEBAR_STYLE = """
QListWidget#sidebar { background: #23313f; color: #dfe6ee; border: none; font-size: 14px; outline: 0; }
QListWidget#sidebar::item { padding: 12px 14px; }
QListWidget#sidebar::item:selected { background: #3d5a78; color: white; }
"""


class MainWindow(QMainWindow):
    """Owns the screens, the background tasks and the error reporter, and wires the screens together."""

    def __init__(self, usecases: TrainerUseCases, *, game_data_dir: Path, confirm: Confirm | None = None) -> None:
        """confirm(title, text) asks yes/no before deleting or publishing; tests pass one that answers."""
        super().__init__()
        self.setWindowTitle("Eye vs AI trainer")
        self.resize(1280, 820)
        self.usecases = usecases
        self.reporter = ErrorReporter(
            self,
            app_name="Eye vs AI trainer",
            product=f"eyevsai-trainer {TRAINER_VERSION}",
            reassurance="Your packs and models are safe.",
        )
        self.tasks = Tasks(self.reporter, self)
        self.pack_page = PackPage(usecases, self.tasks)
        self.train_page = TrainPage(usecases, self.tasks)
        self.results_page = ResultsPage(usecases, self.tasks)
        self.tuning_page = TuningPage(usecases, self.tasks)
        self.models_page = ModelsPage(usecases, self.tasks, game_data_dir=game_data_dir, confirm=confirm)
        self.pages: dict[str, QWidget] = dict(
            zip(
                SCREENS,
                (self.pack_page, self.train_page, self.results_page, self.tuning_page, self.models_page),
                strict=True,
            )
        )
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setStyleSheet(SIDEBAR_STYLE)
        self.sidebar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stack = QStackedWidget()
        for name, page in self.pages.items():
            self.sidebar.addItem(QListWidgetItem(name))
            self.stack.addWidget(page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.workspace_label = QLabel(f"workspace: {usecases.workspace.root}")
        self.workspace_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addPermanentWidget(self.workspace_label)
        self._connect()
        self.pack_page.refresh()
        self.models_page.refresh()
        self.results_page.refresh_models(self.models_page.rows)
        self.sidebar.setCurrentRow(0)

    def _connect(self) -> None:
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.pack_page.pack_selected.connect(self._on_pack_selected)
        self.train_page.training_finished.connect(self._on_training_finished)
        self.models_page.open_requested.connect(self._on_open_requested)
        self.models_page.models_changed.connect(self._on_models_changed)
        self.tuning_page.best_chosen.connect(self._on_best_chosen)
        self.tasks.busy_changed.connect(self._on_busy_changed)
        self.reporter.reported.connect(lambda kind, text: self.statusBar().showMessage(text.splitlines()[0], 8000))

    def show_screen(self, name: str) -> None:
        self.sidebar.setCurrentRow(SCREENS.index(name))

    @property
    def current_screen(self) -> str:
        return SCREENS[self.stack.currentIndex()]

    # -- hand-offs between screens ----------------------------------------------------------------------------
    def _on_pack_selected(self, pack: Pack) -> None:
        packs = list(self.pack_page.packs.values())
        self.train_page.set_packs(packs, pack)
        self.tuning_page.set_packs(packs, pack)

    def _on_training_finished(self, result: TrainResult, pack: Pack) -> None:
        self.models_page.refresh()
        self.results_page.refresh_models(self.models_page.rows)
        self.results_page.show_model(result.model_dir, pack)
        self.show_screen("Results")

    def _on_open_requested(self, row: ModelRow) -> None:
        if row.model_dir is not None:
            self.results_page.show_model(row.model_dir)
            self.show_screen("Results")

    def _on_models_changed(self) -> None:
        self.results_page.refresh_models(self.models_page.rows)

    def _on_best_chosen(self, family: str, variant: str, params: dict, notes: dict) -> None:
        self.train_page.load_choice(family, variant, params, notes)
        self.show_screen("Train")
        self.statusBar().showMessage("The study's best parameters are in the form: press Start training.", 8000)

    def _on_busy_changed(self, running: int) -> None:
        actions = sorted(set(self.tasks.running.values()))
        self.statusBar().showMessage(f"working: {', '.join(actions)}" if running else "", 0 if running else 3000)

    # -- closing ----------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Cancel running work and wait for it, so no model folder is left half-written."""
        still_running = self.tasks.shutdown()
        if still_running:
            self.reporter.problem(
                "Still working", "These tasks did not stop in time and will be abandoned: " + ", ".join(still_running)
            )
        event.accept()
