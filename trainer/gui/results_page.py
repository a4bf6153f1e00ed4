"""Results screen: a model's test accuracy, per-class accuracy, training curves and an interactive confusion matrix.

The card holds the metrics; the per-image predictions behind the matrix are recomputed in the background with
the exported ONNX model (`trainer.predictions`), so clicking a cell shows its images with their true and
predicted labels and the model's confidence, as fastai's interpretation plots do.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from classifiers.card import ModelCard, read_card
from classifiers.chance import chance_of_metrics
from classifiers.errors import EyeVsAIError
from classifiers.pack import Pack
from classifiers.progress import Progress
from classifiers.registry import family_label
from trainer.curves import TrainingCurves, format_duration
from trainer.gui.tasks import Tasks
from trainer.gui.widgets.chance_banner import ChanceBanner
from trainer.gui.widgets.confusion import ConfusionMatrixView
from trainer.gui.widgets.gallery import THUMB, ImageGallery, Tile
from trainer.gui.widgets.plots import BarChart, CurvesView
from trainer.predictions import Prediction, SplitPredictions
from trainer.usecases import ModelRow, TrainerUseCases

MAX_SHOWN = 60


def caption(prediction: Prediction, classes: list[str]) -> str:
    return f"true: {classes[prediction.truth]}\npred: {classes[prediction.predicted]} {prediction.confidence:.0%}"


def summary_html(card: ModelCard) -> str:
    metrics, training = card.metrics, card.training
    parity = training.get("parity", {})
    rows = [
        ("Test accuracy", f"<b>{metrics.get('test_accuracy', 0):.1%}</b> on {metrics.get('n_test', 0)} images"),
        ("Macro F1", f"{metrics.get('macro_f1', 0):.3f}"),
        ("Difficulty", card.difficulty or "–"),
        ("Family", f"{family_label(card.family)} / {card.variant}"),
        ("Pack", card.pack_id),
        ("Training time", format_duration(training.get("seconds"))),
        ("ONNX parity", f"max abs diff {parity['max_abs_diff']:.1e}" if "max_abs_diff" in parity else "–"),
    ]
    if training.get("epochs_run"):
        rows.append(("Epochs", f"{training['epochs_run']} (best {training.get('best_epoch', '–')})"))
    cells = "".join(f"<tr><td style='color:#555;padding-right:10px'>{k}</td><td>{v}</td></tr>" for k, v in rows)
    return f"<b>{card.title}</b><br><small>{card.id}</small><table>{cells}</table>"


class ResultsPage(QWidget):
    """Signals:
    predictions_ready(object): the SplitPredictions of the shown model.
    cell_shown(int, int): a cell's images are on screen (true index, predicted index).
    """

    predictions_ready = Signal(object)
    cell_shown = Signal(int, int)

    def __init__(self, usecases: TrainerUseCases, tasks: Tasks) -> None:
        super().__init__()
        self.usecases = usecases
        self.tasks = tasks
        self.card: ModelCard | None = None
        self.model_dir: Path | None = None
        self.pack: Pack | None = None
        self.predictions: SplitPredictions | None = None
        self.shown_cell: tuple[int, int] | None = None
        self.shown_items: list[Prediction] = []
        self._pending_cell: tuple[int, int] | None = None
        self.model_box = QComboBox()
        self.model_box.setMinimumWidth(360)
        self.refresh_button = QPushButton("Refresh")
        self.summary = QLabel("Train a model or open one from the Models screen.")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chance = ChanceBanner()
        self.matrix = ConfusionMatrixView()
        self.matrix.setMinimumHeight(240)
        self.cell_label = QLabel("Click a cell of the confusion matrix to see its images.")
        self.cell_label.setWordWrap(True)
        self.gallery = ImageGallery(caption_lines=2)
        self.per_class = BarChart("Per-class accuracy (test split)", "accuracy")
        self.curves = CurvesView(placeholder="This model has no per-epoch history (shallow models fit in one step).")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self._layout()
        self.model_box.activated.connect(self._on_model_chosen)
        self.refresh_button.clicked.connect(lambda: self.refresh_models())
        self.matrix.cell_chosen.connect(self.show_cell)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.model_box, 1)
        top.addWidget(self.refresh_button)
        left = QWidget()
        left_column = QVBoxLayout(left)
        left_column.setContentsMargins(0, 0, 0, 0)
        left_column.addWidget(self.summary)
        left_column.addWidget(self.chance)
        left_column.addWidget(
            QLabel("<b>Confusion matrix</b> <small>rows: true class · columns: predicted class · click a cell</small>")
        )
        left_column.addWidget(self.matrix, 3)
        left_column.addWidget(self.cell_label)
        left_column.addWidget(self.gallery, 2)
        tabs = QTabWidget()
        tabs.addTab(self.per_class, "Per-class accuracy")
        tabs.addTab(self.curves, "Training curves")
        tabs.addTab(self.details, "Card")
        self.tabs = tabs
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([680, 440])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    # -- choosing a model -------------------------------------------------------------------------------------
    def refresh_models(self, rows: list[ModelRow] | None = None) -> None:
        """Fill the model list from the registry (done models, newest first)."""
        if rows is None:
            rows, _ = self.usecases.models()
        current = self.card.id if self.card else None
        self.model_box.clear()
        for row in sorted((r for r in rows if r.is_playable), key=lambda r: r.created, reverse=True):
            accuracy = f"{row.test_accuracy:.1%}" if row.test_accuracy is not None else "–"
            accuracy += ", at chance" if row.at_chance else ""
            self.model_box.addItem(f"{row.id}  ({row.pack_id}, {accuracy})", str(row.model_dir))
        if current:
            self._select_in_box(current)

    def _select_in_box(self, model_id: str) -> None:
        for i in range(self.model_box.count()):
            if self.model_box.itemText(i).startswith(model_id + " "):
                self.model_box.setCurrentIndex(i)
                return

    def _on_model_chosen(self, index: int) -> None:
        model_dir = self.model_box.itemData(index)
        if model_dir:
            self.show_model(Path(model_dir))

    def show_model(self, model_dir: Path, pack: Pack | None = None) -> None:
        """Show a model's metrics now and start computing its per-image predictions."""
        try:
            card = read_card(model_dir)
        except EyeVsAIError as exc:
            self.tasks.reporter.problem("Cannot open the model", str(exc))
            return
        self.card, self.model_dir, self.predictions = card, Path(model_dir), None
        self.shown_cell, self.shown_items, self._pending_cell = None, [], None
        self._select_in_box(card.id)
        self.summary.setText(summary_html(card))
        self.chance.show_check(chance_of_metrics(card.metrics))
        self.matrix.set_matrix(card.classes, card.metrics.get("confusion") or [])
        self.per_class.set_values(dict(card.metrics.get("per_class", {})))
        curves = TrainingCurves.from_training_info(card.training)
        self.curves.clear()
        if curves.has_epochs():
            self.curves.show_curves(curves)
        self.details.setPlainText(_card_text(card))
        self.gallery.clear()
        try:
            self.pack = pack if pack is not None and pack.id == card.pack_id else self.usecases.find_pack(card.pack_id)
        except EyeVsAIError as exc:
            self.pack = None
            self.cell_label.setText(f"The images cannot be shown: {exc}")
            return
        self.cell_label.setText("Computing per-image predictions on the test split…")
        shown = self.card
        self.tasks.start(
            "compute the test predictions",
            lambda: self.usecases.predict_test(model_dir, self.pack),
            on_finished=lambda result: self._on_predictions(result, shown),
        )

    def _on_predictions(self, predictions: SplitPredictions, card: ModelCard) -> None:
        if card is not self.card:
            return  # another model was opened meanwhile
        self.predictions = predictions
        self.cell_label.setText(
            f"Predictions ready ({len(predictions.items)} test images, accuracy "
            f"{predictions.accuracy():.1%}). Click a cell of the confusion matrix."
        )
        self.predictions_ready.emit(predictions)
        if self._pending_cell is not None:
            self.show_cell(*self._pending_cell)

    # -- a clicked cell ---------------------------------------------------------------------------------------
    def show_cell(self, truth: int, predicted: int) -> None:
        """Show the test images of true class `truth` predicted as `predicted` (most confident first)."""
        if self.predictions is None or self.pack is None:
            self._pending_cell = (truth, predicted)
            if self.pack is not None:
                self.cell_label.setText("Still computing the predictions; the images will appear in a moment…")
            return
        self._pending_cell = None
        classes = self.predictions.classes
        items = self.predictions.cell(truth, predicted)
        kind = "correctly classified" if truth == predicted else f"predicted as '{classes[predicted]}'"
        more = f" (showing the {MAX_SHOWN} most confident)" if len(items) > MAX_SHOWN else ""
        self.cell_label.setText(f"<b>{len(items)}</b> '{classes[truth]}' test image(s) {kind}{more}.")
        self.shown_cell, self.shown_items = (truth, predicted), items[:MAX_SHOWN]
        self.gallery.clear()
        pack, shown = self.pack, self.shown_items
        self.tasks.start(
            "load the test images",
            lambda: self._thumbnails(pack, shown),
            on_finished=lambda images: self._on_thumbnails(images, shown, truth, predicted),
        )

    def _thumbnails(self, pack: Pack, items: list[Prediction]) -> Generator[Progress, None, list[np.ndarray]]:
        images = self.usecases.test_thumbnails(pack, [p.sha256 for p in items], THUMB)
        yield Progress("thumbnails", len(items), len(items))
        return images

    def _on_thumbnails(self, images: list[np.ndarray], items: list[Prediction], truth: int, predicted: int) -> None:
        if items is not self.shown_items or self.predictions is None:
            return
        classes = self.predictions.classes
        self.gallery.set_tiles(
            [
                Tile(image, caption(p, classes), f"image {p.sha256[:16]}…\n{caption(p, classes)}")
                for image, p in zip(images, items, strict=True)
            ]
        )
        self.cell_shown.emit(truth, predicted)


def _card_text(card: ModelCard) -> str:
    obj = card.to_json_obj()
    obj.get("training", {}).pop("history", None)  # shown as curves
    return json.dumps(obj, indent=2, ensure_ascii=False, default=str)
