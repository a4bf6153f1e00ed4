"""Train screen: pick a family and variant, edit its hyperparameters, train on a worker and watch live curves.

The family's `fit` generator (through `training.train_model`, as in the CLI) runs on a GeneratorWorker; each
Progress event updates the curves, the progress bar, throughput and ETA. Cancel stops at the next event and the
trainer removes the half-written model folder.
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from classifiers.errors import ConfigError, EyeVsAIError
from classifiers.families.embedding import SMALL_PACK_FAMILIES, small_pack_images_per_class
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import FamilyInfo
from qtsupport.worker import GeneratorWorker
from trainer.curves import TrainingCurves, format_duration, status_line
from trainer.gui.tasks import Tasks
from trainer.gui.widgets.family_box import fill_family_box
from trainer.gui.widgets.param_form import ParamForm
from trainer.gui.widgets.plots import CurvesView
from trainer.hyperparams import family_params, variant_help
from trainer.inspection import summarise_pack
from trainer.training import TrainResult
from trainer.usecases import TrainerUseCases

LOGGED = ("epoch", "phase", "fit", "export", "prepare")
MAX_LOG_LINES = 500
SMALL_PACK = (
    "Small pack ({per_class} training images per class): networks trained from scratch stay near chance here. "
    "The Embedding family (pretrained features) trains in seconds."
)
ONE_STEP = "{family} models fit in one step: there are no epochs to plot. Progress and the result appear below."


def _same(a: Any, b: Any) -> bool:
    """Equal, floats up to the form's display precision."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-4)
    return a == b


class TrainPage(QWidget):
    """Signals:
    training_finished(object, object): the TrainResult and the Pack it was trained on.
    training_stopped(str): "finished", "cancelled" or "failed".
    """

    training_finished = Signal(object, object)
    training_stopped = Signal(str)

    def __init__(self, usecases: TrainerUseCases, tasks: Tasks) -> None:
        super().__init__()
        self.usecases = usecases
        self.tasks = tasks
        self.packs: dict[str, Pack] = {}
        self.families = {info.name: info for info in usecases.families()}
        self.curves = TrainingCurves()
        self.result: TrainResult | None = None
        self.outcome = ""
        self._worker: GeneratorWorker | None = None
        self._started = 0.0
        self._tuned: tuple[str, str, dict[str, Any], dict[str, Any]] | None = None
        self._build_controls()
        self._build_layout()
        self._fill_families()
        self.elapsed_timer = QTimer(self)
        self.elapsed_timer.setInterval(1000)
        self.elapsed_timer.timeout.connect(self._show_elapsed)

    # -- construction -----------------------------------------------------------------------------------------
    def _build_controls(self) -> None:
        self.pack_box = QComboBox()
        self.pack_box.setToolTip("The pack to train on (choose or build packs on the Pack screen).")
        self.family_box = QComboBox()
        self.variant_box = QComboBox()
        self.title = QLineEdit()
        self.title.setPlaceholderText("default: <family> <variant> on <pack>")
        self.variant_note = QLabel()
        self.variant_note.setWordWrap(True)
        self.variant_note.setStyleSheet("color: #555;")
        self.small_pack_note = QLabel()
        self.small_pack_note.setWordWrap(True)
        self.small_pack_note.setStyleSheet("color: #8a5a00;")
        self.small_pack_note.hide()
        self.form = ParamForm()
        self.reset_button = QPushButton("Reset to defaults")
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        self.elapsed = QLabel("")
        self.curves_view = CurvesView()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(MAX_LOG_LINES)
        self.log.setMaximumHeight(110)
        self.family_box.currentIndexChanged.connect(self._on_family_changed)
        self.pack_box.currentIndexChanged.connect(self._show_small_pack_note)
        self.variant_box.currentIndexChanged.connect(self._on_variant_changed)
        self.reset_button.clicked.connect(self.form.reset)
        self.start_button.clicked.connect(self.start_training)
        self.cancel_button.clicked.connect(self.cancel_training)

    def _build_layout(self) -> None:
        choose = QFormLayout()
        choose.addRow("Pack:", self.pack_box)
        choose.addRow("Family:", self.family_box)
        choose.addRow("Variant:", self.variant_box)
        choose.addRow("", self.variant_note)
        choose.addRow("", self.small_pack_note)
        choose.addRow("Title:", self.title)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addLayout(choose)
        left_column.addWidget(QLabel("<b>Hyperparameters</b> <small>(hover for help)</small>"))
        left_column.addWidget(scroll, 1)
        left_column.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignLeft)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.curves_view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([340, 700])
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.elapsed)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.log)

    def _fill_families(self) -> None:
        fill_family_box(self.family_box, self.families.values())
        self._on_family_changed()

    # -- choices ----------------------------------------------------------------------------------------------
    @property
    def family(self) -> FamilyInfo:
        return self.families[self.family_box.currentData()]

    @property
    def variant(self) -> str:
        return self.variant_box.currentText()

    def _on_family_changed(self) -> None:
        info = self.family
        self.variant_box.blockSignals(True)
        self.variant_box.clear()
        self.variant_box.addItems(list(info.variants))
        self.variant_box.blockSignals(False)
        self.family_box.setToolTip(info.title)
        self.form.set_specs(family_params(info), self.variant)
        self._on_variant_changed()
        self._show_small_pack_note()

    def _show_small_pack_note(self) -> None:
        """Suggest the embedding family when a family trained from scratch is chosen for a small pack."""
        pack = self.pack
        per_class = None
        if pack is not None and self.family.name in SMALL_PACK_FAMILIES and "embedding" in self.families:
            per_class = small_pack_images_per_class(pack)
        self.small_pack_note.setText(SMALL_PACK.format(per_class=per_class) if per_class is not None else "")
        self.small_pack_note.setVisible(per_class is not None)

    def _on_variant_changed(self) -> None:
        self.form.set_variant(self.variant)
        self.variant_note.setText(variant_help(self.family))

    def set_packs(self, packs: list[Pack], current: Pack | None = None) -> None:
        selected = current.id if current else self.pack_box.currentData()
        self.packs = {pack.id: pack for pack in packs}
        self.pack_box.blockSignals(True)
        self.pack_box.clear()
        for pack in packs:
            self.pack_box.addItem(f"{pack.title} ({pack.id})", pack.id)
        self.pack_box.blockSignals(False)
        if selected in self.packs:
            self.pack_box.setCurrentIndex(self.pack_box.findData(selected))
        self._show_small_pack_note()

    def select_pack(self, pack: Pack) -> None:
        if pack.id not in self.packs:
            self.set_packs([*self.packs.values(), pack], pack)
        self.pack_box.setCurrentIndex(self.pack_box.findData(pack.id))

    @property
    def pack(self) -> Pack | None:
        return self.packs.get(self.pack_box.currentData())

    def load_choice(
        self, family: str, variant: str, params: dict[str, Any], tuning_notes: dict[str, Any] | None = None
    ) -> None:
        """Fill the form, e.g. with a tuning study's best parameters (then `tuning_notes` marks the model tuned
        as long as the form still holds those parameters when training starts)."""
        self.family_box.setCurrentIndex(self.family_box.findData(family))
        self.variant_box.setCurrentText(variant)
        self.form.set_values(params)
        self._tuned = (family, variant, dict(params), tuning_notes) if tuning_notes else None

    def _tuning_notes(self, family: str, variant: str, params: dict[str, Any]) -> dict[str, Any] | None:
        if self._tuned is None:
            return None
        tuned_family, tuned_variant, tuned_params, notes = self._tuned
        unchanged = all(_same(params.get(k, v), v) for k, v in tuned_params.items() if k in self.form.editors)
        return notes if (family, variant) == (tuned_family, tuned_variant) and unchanged else None

    # -- training ---------------------------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self._worker is not None

    def start_training(self) -> None:
        pack = self.pack
        try:
            if pack is None:
                raise ConfigError("No pack is selected. Build or choose one on the Pack screen first.")
            summary = summarise_pack(pack)
            if not summary.is_trainable:
                raise ConfigError(f"Pack '{pack.id}' cannot train a model: {'; '.join(summary.warnings)}.")
            params = self.form.values()
            self.family.create(self.variant, **params).check_params()  # refused here, before any work
        except EyeVsAIError as exc:
            self.tasks.reporter.problem("Cannot start training", str(exc))
            return
        family, variant = self.family.name, self.variant
        notes = self._tuning_notes(family, variant, params)
        self.result, self.outcome = None, ""
        self.curves = TrainingCurves()
        has_epochs = any("epochs" in name for name in self.form.editors)  # transfer: freeze/fine_tune_epochs
        self.curves_view.clear(None if has_epochs else ONE_STEP.format(family=family.replace("_", "-").title()))
        if has_epochs:
            self.curves_view.set_placeholder("Curves appear after the first epoch.")
        self.log.clear()
        self._append_log(
            f"training {family} {variant} on {pack.id} with {params}"
            + (" (a tuning study's best parameters)" if notes else "")
        )
        self._set_running(True)
        self._worker = self.tasks.start(
            "train the model",
            lambda: self.usecases.train(
                family, variant, pack, params, title=self.title.text().strip(), tuning_notes=notes
            ),
            on_progress=self._on_progress,
            on_finished=lambda result: self._on_finished(result, pack),
            on_failed=self._on_failed,
            on_cancelled=self._on_cancelled,
            on_stopped=self._on_stopped,
        )

    def cancel_training(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling: stopping at the next step…")

    def _on_progress(self, event: Progress) -> None:
        if self.curves.update(event):
            self.curves_view.show_curves(self.curves)
        if event.stage == "step":
            epoch = int(event.metrics.get("epoch", 0))
            total = self.curves.epoch_total
            self.progress.setFormat(f"epoch {epoch}{f'/{total}' if total else ''}: step %v/%m")
        else:
            self.progress.setFormat(f"{event.stage}: %v/%m" if event.total else event.stage)
        self.progress.setRange(0, max(event.total, 0))
        self.progress.setValue(event.done)
        self.status.setText(status_line(self.curves))
        if event.stage in LOGGED and event.message:
            self._append_log(event.message)

    def _on_finished(self, result: TrainResult, pack: Pack) -> None:
        self.result, self.outcome = result, "finished"
        metrics = result.card.metrics
        self.status.setText(
            f"Done in {format_duration(result.seconds)}: test accuracy "
            f"{metrics.get('test_accuracy', 0):.1%} on {metrics.get('n_test', 0)} images, "
            f"difficulty {result.card.difficulty or '–'}. Saved as {result.card.id}."
        )
        self._append_log(f"saved {result.model_dir}")
        self.training_finished.emit(result, pack)

    def _on_failed(self, exc: BaseException, formatted: str) -> None:
        self.outcome = "failed"
        self.status.setText(f"Training failed: {exc}")
        self.tasks.reporter.error(exc, formatted, action="train the model")

    def _on_cancelled(self) -> None:
        self.outcome = "cancelled"
        self.status.setText("Training cancelled; no model was saved.")
        self._append_log("cancelled")

    def _on_stopped(self) -> None:
        self._worker = None
        self._set_running(False)
        self.training_stopped.emit(self.outcome or "failed")

    def _set_running(self, running: bool) -> None:
        for widget in (
            self.start_button,
            self.pack_box,
            self.family_box,
            self.variant_box,
            self.form,
            self.reset_button,
            self.title,
        ):
            widget.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self._started = time.monotonic()
            self.progress.setRange(0, 0)  # busy until the first event
            self.elapsed_timer.start()
            self._show_elapsed()
        else:
            self.elapsed_timer.stop()
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if self.outcome == "finished" else 0)
            self.progress.setFormat(self.outcome or "")

    def _show_elapsed(self) -> None:
        self.elapsed.setText(f"elapsed {format_duration(time.monotonic() - self._started)}")

    def _append_log(self, line: str) -> None:
        self.log.appendPlainText(line)
