"""Tuning screen: run (or resume) an Optuna study of a family on a pack and watch its trials.

`trainer.tuning.tune` runs on a worker; after every trial the worker reads the study back and sends a
StudySnapshot: the trials table, the history plot (each trial and the best so far) and parameter
importances (Optuna's default evaluator) update from it. The best parameters can be sent to the Train screen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from classifiers.chance import ChanceCheck, check_chance_on_split
from classifiers.errors import ConfigError
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import FamilyInfo
from qtsupport.worker import GeneratorWorker
from trainer.gui.tasks import Tasks
from trainer.gui.widgets.chance_banner import ChanceBanner
from trainer.gui.widgets.family_box import fill_family_box
from trainer.gui.widgets.plots import BarChart, TrialHistoryPlot
from trainer.hyperparams import family_params
from trainer.study_summary import StudySnapshot
from trainer.tuning import study_name
from trainer.usecases import TrainerUseCases

ALL_VARIANTS = "all variants (tuned too)"
STATE_COLOURS = {"COMPLETE": "#2ca02c", "PRUNED": "#7f7f7f", "FAIL": "#d62728", "RUNNING": "#1f77b4"}


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


class TuningPage(QWidget):
    """Signals:
    best_chosen(str, str, object, object): family, variant, parameters to train with and the tuning notes
        for the model card.
    study_updated(object): a new StudySnapshot is on screen.
    tuning_stopped(str): "finished", "cancelled" or "failed".
    """

    best_chosen = Signal(str, str, object, object)
    study_updated = Signal(object)
    tuning_stopped = Signal(str)

    def __init__(self, usecases: TrainerUseCases, tasks: Tasks) -> None:
        super().__init__()
        self.usecases = usecases
        self.tasks = tasks
        self.packs: dict[str, Pack] = {}
        self.families = {info.name: info for info in usecases.families()}
        self.snapshot: StudySnapshot | None = None
        self.result: Any = None
        self.outcome = ""
        self._run_family = ""
        self._worker: GeneratorWorker | None = None
        self._stored_timer = QTimer(self)
        self._stored_timer.setSingleShot(True)
        self._stored_timer.setInterval(150)  # one read after a burst of combo-box changes
        self._stored_timer.timeout.connect(self.show_stored_study)
        self._build()
        self._fill_families()
        self.pack_box.currentIndexChanged.connect(self._stored_timer.start)
        self.variant_box.currentIndexChanged.connect(self._stored_timer.start)

    def _build(self) -> None:
        self.pack_box = QComboBox()
        self.family_box = QComboBox()
        self.variant_box = QComboBox()
        self.trials = QSpinBox()
        self.trials.setRange(1, 1000)
        self.trials.setValue(20)
        self.trials.setToolTip(
            "The study's total number of finished trials; re-running a study adds trials up to this total."
        )
        self.timeout = QSpinBox()
        self.timeout.setRange(0, 24 * 60)
        self.timeout.setSuffix(" min")
        self.timeout.setSpecialValueText("no limit")
        self.timeout.setToolTip("Start no new trial after this long (a running trial finishes).")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(8)
        self.epochs.setToolTip(
            "Epochs of every trial (deep families): short trials find good settings sooner; "
            "weak trials are pruned early."
        )
        self.start_button = QPushButton("Start tuning")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.status = QLabel("Tuning scores each trial on the pack's validation split, never on test.")
        self.status.setWordWrap(True)
        self.best_label = QLabel("")
        self.best_label.setWordWrap(True)
        self.best_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chance = ChanceBanner()
        self.train_best = QPushButton("Train with the best parameters")
        self.train_best.setEnabled(False)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["trial", "state", "val accuracy", "seconds", "parameters"])
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.history = TrialHistoryPlot()
        self.importances = BarChart("Parameter importance", "normalised importance (Optuna)", x_range=(0, 1))
        self.importance_note = QLabel("")
        self.importance_note.setStyleSheet("color: #555;")
        self.family_box.currentIndexChanged.connect(self._on_family_changed)
        self.start_button.clicked.connect(self.start_tuning)
        self.cancel_button.clicked.connect(self.cancel_tuning)
        self.train_best.clicked.connect(self._on_train_best)

        form = QFormLayout()
        form.addRow("Pack:", self.pack_box)
        form.addRow("Family:", self.family_box)
        form.addRow("Variant:", self.variant_box)
        form.addRow("Trials:", self.trials)
        form.addRow("Time limit:", self.timeout)
        form.addRow("Epochs per trial:", self.epochs)
        controls = QWidget()
        column = QVBoxLayout(controls)
        column.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        column.addLayout(buttons)
        column.addWidget(self.best_label)
        column.addWidget(self.chance)
        column.addWidget(self.train_best)
        column.addStretch(1)
        plots = QWidget()
        plot_column = QVBoxLayout(plots)
        plot_column.setContentsMargins(0, 0, 0, 0)
        plot_column.addWidget(self.history, 1)
        plot_column.addWidget(self.importances, 1)
        plot_column.addWidget(self.importance_note)
        upper = QSplitter()
        upper.addWidget(controls)
        upper.addWidget(plots)
        upper.setStretchFactor(1, 1)
        upper.setSizes([320, 700])
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(upper)
        vertical.addWidget(self.table)
        vertical.setStretchFactor(0, 3)
        vertical.setStretchFactor(1, 2)
        vertical.setSizes([480, 260])
        layout = QVBoxLayout(self)
        layout.addWidget(vertical, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

    def _fill_families(self) -> None:
        fill_family_box(self.family_box, self.families.values())
        self._on_family_changed()

    @property
    def family(self) -> FamilyInfo:
        return self.families[self.family_box.currentData()]

    @property
    def variant(self) -> str | None:
        return self.variant_box.currentData()

    @property
    def pack(self) -> Pack | None:
        return self.packs.get(self.pack_box.currentData())

    def _on_family_changed(self) -> None:
        info = self.family
        self.variant_box.clear()
        for variant in info.variants:
            self.variant_box.addItem(variant, variant)
        if len(info.variants) > 1:
            self.variant_box.addItem(ALL_VARIANTS, None)
        self.epochs.setEnabled(any(spec.name == "epochs" for spec in family_params(info)))

    def set_packs(self, packs: list[Pack], current: Pack | None = None) -> None:
        selected = current.id if current else self.pack_box.currentData()
        self.packs = {pack.id: pack for pack in packs if pack.splits["train"] and pack.splits["val"]}
        self.pack_box.clear()
        for pack in self.packs.values():
            self.pack_box.addItem(f"{pack.title} ({pack.id})", pack.id)
        if selected in self.packs:
            self.pack_box.setCurrentIndex(self.pack_box.findData(selected))

    # -- a study stored by an earlier run ------------------------------------------------------------------------
    @property
    def study_name(self) -> str | None:
        pack = self.pack
        return study_name(pack.id, self.family.name, self.variant) if pack else None

    def show_stored_study(self) -> None:
        """Show the trials the chosen pack × family × variant's study already holds (tuning resumes it)."""
        name, storage = self.study_name, self.usecases.workspace.tuning_storage
        if name is None or self.is_tuning:
            return
        self._clear_study()
        if storage.is_file():
            self.tasks.start(
                "read the tuning study",
                lambda: self.usecases.stored_study(name),
                on_finished=lambda snapshot: self._on_stored_study(snapshot, name),
            )

    def _on_stored_study(self, snapshot: StudySnapshot | None, name: str) -> None:
        if snapshot is None or name != self.study_name or self.is_tuning:
            return
        self.show_snapshot(snapshot)
        finished = snapshot.count("COMPLETE") + snapshot.count("PRUNED")
        self.status.setText(
            f"Study {name} holds {finished} finished trial(s); Start tuning runs more until it holds "
            "the number of trials above."
        )

    def _clear_study(self) -> None:
        self.snapshot = None
        self.table.setRowCount(0)
        self.history.set_trials([], [])
        self.importances.set_values({})
        self.importance_note.setText("")
        self.best_label.setText("")
        self.chance.show_check(None)

    # -- running ----------------------------------------------------------------------------------------------
    @property
    def is_tuning(self) -> bool:
        return self._worker is not None

    def start_tuning(self) -> None:
        pack = self.pack
        if pack is None:
            self.tasks.reporter.problem(
                "Cannot start tuning",
                str(
                    ConfigError(
                        "No pack with training and validation images is selected. Build one on the Pack screen."
                    )
                ),
            )
            return
        family, variant, trials = self.family.name, self.variant, self.trials.value()
        base = {"epochs": self.epochs.value()} if self.epochs.isEnabled() else {}
        timeout = self.timeout.value() * 60 or None
        self.result, self.outcome, self._run_family = None, "", family
        self.train_best.setEnabled(False)
        self._set_running(True)
        self.status.setText(f"Tuning {family} on {pack.id}: up to {trials} trials…")
        self._worker = self.tasks.start(
            "tune the hyperparameters",
            lambda: self.usecases.tune_with_snapshots(
                family, pack, trials=trials, variant=variant, base_params=base, timeout=timeout
            ),
            on_progress=self._on_item,
            on_finished=self._on_finished,
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
            on_stopped=self._on_stopped,
        )

    def cancel_tuning(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling: the running trial stops at its next step…")

    def _on_item(self, item: Progress | StudySnapshot) -> None:
        if isinstance(item, StudySnapshot):
            self.show_snapshot(item)
            return
        if item.stage == "trial":
            self.progress.setRange(0, max(item.total, 1))
            self.progress.setValue(item.done)
            self.progress.setFormat("%v of %m trials finished")
            self.status.setText(item.message)
        elif item.message:
            self.status.setText(item.message)

    def show_snapshot(self, snapshot: StudySnapshot) -> None:
        self.snapshot = snapshot
        self.table.setRowCount(len(snapshot.trials))
        for row, trial in enumerate(reversed(snapshot.trials)):  # newest first
            values = [
                str(trial.number),
                trial.state.lower(),
                "" if trial.value is None else f"{trial.value:.4f}",
                "" if trial.seconds is None else f"{trial.seconds:.1f}",
                _params_text(trial.params),
            ]
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column == 1:
                    cell.setForeground(QColor(STATE_COLOURS.get(trial.state, "#333")))
                if trial.note:
                    cell.setToolTip(trial.note)
                self.table.setItem(row, column, cell)
        completed = snapshot.completed
        self.history.set_trials([t.number for t in completed], [t.value for t in completed])
        self.importances.set_values(snapshot.importances)
        self.importance_note.setText(snapshot.importance_note)
        best = snapshot.best
        if best is not None:
            self.best_label.setText(
                f"<b>Best so far:</b> trial {best.number}, validation accuracy "
                f"<b>{best.value:.1%}</b><br><small>{_params_text(best.params)}</small>"
            )
        self.chance.show_check(self._chance_on_val(None if best is None else best.value), split="validation")
        self.study_updated.emit(snapshot)

    def _chance_on_val(self, accuracy: float | None) -> ChanceCheck | None:
        """The chance test of the best trial's validation accuracy, on the chosen pack's val split."""
        pack = self.pack
        if accuracy is None or pack is None:
            return None
        _, labels = pack.labelled("val")
        return check_chance_on_split(accuracy, labels, len(pack.classes))

    def _on_finished(self, result: Any) -> None:
        self.result, self.outcome = result, "finished"
        counts = result.counts()
        self.status.setText(
            f"Study {result.study_name}: {counts['COMPLETE']} complete, {counts['PRUNED']} pruned, "
            f"{counts['FAIL']} failed; best validation accuracy {result.best_value:.1%} "
            f"(trial {result.best_trial})."
        )
        self.train_best.setEnabled(True)

    def _on_failed(self, exc: BaseException, formatted: str) -> None:
        self.outcome = "failed"
        self.status.setText(f"Tuning failed: {exc}")
        self.tasks.reporter.error(exc, formatted, action="tune the hyperparameters")

    def _on_cancelled(self) -> None:
        self.outcome = "cancelled"
        self.status.setText("Tuning cancelled; finished trials stay in the study and a re-run resumes it.")

    def _on_stopped(self) -> None:
        self._worker = None
        self._set_running(False)
        self.tuning_stopped.emit(self.outcome or "failed")

    def _set_running(self, running: bool) -> None:
        for widget in (self.start_button, self.pack_box, self.family_box, self.variant_box, self.trials, self.timeout):
            widget.setEnabled(not running)
        self.epochs.setEnabled(not running and any(s.name == "epochs" for s in family_params(self.family)))
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)

    def _on_train_best(self) -> None:
        if self.result is None:
            return
        params = {k: v for k, v in self.result.params.items() if k != "variant"}
        self.best_chosen.emit(self._run_family, self.result.variant, params, self.result.notes())
