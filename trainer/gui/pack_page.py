"""Pack screen: pick a pack of the workspace, or build one from a class-per-folder directory.

Choosing a folder inspects it in the background (class counts, sample thumbnails, warnings for tiny or
unbalanced classes, unreadable and duplicate files) before anything is written; building runs
`trainer.packs.build_pack` on a worker and selects the new pack.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from classifiers.pack import Pack
from classifiers.preprocess import load_image
from classifiers.progress import Progress
from qtsupport.worker import GeneratorWorker
from trainer.gui.tasks import Tasks
from trainer.gui.widgets.gallery import THUMB, ImageGallery, Tile
from trainer.inspection import FolderInspection, PackSummary, summarise_pack, thumbnail
from trainer.packs import BuildReport
from trainer.usecases import TrainerUseCases

SAMPLES_PER_CLASS = 4
WARNING_STYLE = "background: #fff4d6; border: 1px solid #e0b84a; border-radius: 4px; padding: 6px;"
ERROR_STYLE = "background: #fde2e1; border: 1px solid #d9534f; border-radius: 4px; padding: 6px;"
OK_STYLE = "background: #e3f4e1; border: 1px solid #5cb85c; border-radius: 4px; padding: 6px;"


def suggested_pack_id(folder: Path) -> str:
    """A valid pack id from a folder name ("My Photos!" → "my-photos")."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", folder.name.lower()).strip("-_")
    return slug or "pack"


def _notes_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def show_notes(label: QLabel, errors: list[str], warnings: list[str], ok_text: str = "") -> None:
    """Errors (red), else warnings (yellow), else ok_text (green) in a bulleted box."""
    lines = errors or warnings
    if not lines and not ok_text:
        label.setVisible(False)
        return
    style = ERROR_STYLE if errors else WARNING_STYLE if warnings else OK_STYLE
    label.setStyleSheet(style)
    label.setText(
        "<br>".join(f"• {line}" for line in lines[:12]) + (" …" if len(lines) > 12 else "") if lines else ok_text
    )
    label.setVisible(True)


def _tiles(samples: dict[str, list[np.ndarray]]) -> list[Tile]:
    return [Tile(image, name, f"class {name}") for name, images in samples.items() for image in images]


class _PackList(QWidget):
    """The packs already built (workspace first, then bundled) and the selected one's counts and samples."""

    def __init__(self) -> None:
        super().__init__()
        self.list = QListWidget()
        self.list.setMinimumWidth(250)
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.header = QLabel("Select a pack.")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.counts = QTableWidget(0, 4)
        self.counts.setHorizontalHeaderLabels(["class", "train", "val", "test"])
        self.counts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.counts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.counts.verticalHeader().setVisible(False)
        self.notes = _notes_label()
        self.samples = ImageGallery()
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.header)
        column.addWidget(self.notes)
        column.addWidget(self.counts, 2)
        column.addWidget(QLabel("Sample images"))
        column.addWidget(self.samples, 3)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def show_summary(self, pack: Pack, summary: PackSummary) -> None:
        kind = (
            "game pack (test images only)"
            if not summary.is_trainable and summary.split_total("train") == 0
            else "full pack"
        )
        self.header.setText(
            f"<b>{pack.title}</b> ({pack.id}) — {len(pack.classes)} classes, {kind}<br>"
            f"<small>{pack.root}<br>licence: {pack.meta.get('licence', 'unknown')}; "
            f"ranked images: {summary.ranked}</small>"
        )
        self.counts.setRowCount(len(summary.classes) + 1)
        for row, name in enumerate([*summary.classes, "total"]):
            values = [name] + [
                str(summary.split_total(s) if name == "total" else summary.counts[s].get(name, 0))
                for s in ("train", "val", "test")
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.counts.setItem(row, column, item)
        show_notes(
            self.notes, [], summary.warnings, "Ready to train: every class has training, validation and test images."
        )


class _FolderBuilder(QWidget):
    """Choose a folder, see what a pack from it would hold, name it and build it."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("A folder with one sub-folder per class, e.g. photos/cat, photos/dog")
        self.browse = QPushButton("Choose folder…")
        self.inspect_button = QPushButton("Inspect")
        row = QHBoxLayout()
        row.addWidget(QLabel("Folder:"))
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        row.addWidget(self.inspect_button)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.notes = _notes_label()
        self.classes = QTableWidget(0, 3)
        self.classes.setHorizontalHeaderLabels(["class", "image files", "usable"])
        self.classes.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.classes.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.classes.verticalHeader().setVisible(False)
        self.samples = ImageGallery()
        self.pack_id = QLineEdit()
        self.pack_id.setToolTip("The pack's folder name in the workspace: letters, digits, '-' and '_'.")
        self.title = QLineEdit()
        self.title.setToolTip("Shown in the game's pack list.")
        self.licence = QLineEdit()
        self.licence.setPlaceholderText("unknown")
        self.licence.setToolTip("The licence of the images (e.g. CC BY 4.0); shown with the pack.")
        self.build = QPushButton("Build pack")
        self.build.setEnabled(False)
        form = QFormLayout()
        form.addRow("Pack id:", self.pack_id)
        form.addRow("Title:", self.title)
        form.addRow("Licence:", self.licence)
        upper = QSplitter()
        upper.addWidget(self.classes)
        samples_box = QWidget()
        samples_column = QVBoxLayout(samples_box)
        samples_column.setContentsMargins(0, 0, 0, 0)
        samples_column.addWidget(QLabel("Sample images"))
        samples_column.addWidget(self.samples)
        upper.addWidget(samples_box)
        upper.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.notes)
        layout.addWidget(upper, 1)
        layout.addLayout(form)
        layout.addWidget(self.build, 0, Qt.AlignmentFlag.AlignRight)

    def show_inspection(self, report: FolderInspection) -> None:
        self.classes.setRowCount(len(report.classes))
        for row, summary in enumerate(report.classes):
            for column, value in enumerate((summary.name, str(summary.files), str(summary.readable))):
                item = QTableWidgetItem(value)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.classes.setItem(row, column, item)
        ok = f"{report.total_readable} images in {len(report.classes)} classes: ready to build."
        show_notes(self.notes, report.errors, report.warnings, ok)
        self.build.setEnabled(report.can_build)


class PackPage(QWidget):
    """Signals:
    pack_selected(object): the Pack chosen in the list (or just built).
    """

    pack_selected = Signal(object)

    def __init__(self, usecases: TrainerUseCases, tasks: Tasks) -> None:
        super().__init__()
        self.usecases = usecases
        self.tasks = tasks
        self.packs: dict[str, Pack] = {}
        self.inspection: FolderInspection | None = None
        self.build_report: BuildReport | None = None
        self._worker: GeneratorWorker | None = None
        self.tabs = QTabWidget()
        self.existing = _PackList()
        self.builder = _FolderBuilder()
        self.tabs.addTab(self.existing, "Packs")
        self.tabs.addTab(self.builder, "New pack from a folder")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self.existing.list.currentItemChanged.connect(self._on_pack_clicked)
        self.builder.browse.clicked.connect(self._on_browse)
        self.builder.inspect_button.clicked.connect(lambda: self.inspect_folder(self.builder.folder.text()))
        self.builder.folder.returnPressed.connect(lambda: self.inspect_folder(self.builder.folder.text()))
        self.builder.build.clicked.connect(self._on_build_clicked)

    # -- existing packs ---------------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the packs; keep (or move to) the selected one."""
        current = select or (
            self.existing.list.currentItem().data(Qt.ItemDataRole.UserRole)
            if self.existing.list.currentItem()
            else None
        )
        packs, problems = self.usecases.packs()
        self.packs = {pack.id: pack for pack in packs}
        self.existing.list.blockSignals(True)
        self.existing.list.clear()
        for pack in packs:
            n_train = len(pack.splits["train"])
            item = QListWidgetItem(
                f"{pack.title}\n{pack.id} · {len(pack.classes)} classes · "
                f"{n_train or len(pack.splits['test'])} {'train' if n_train else 'test'} images"
            )
            item.setToolTip(str(pack.root))
            item.setData(Qt.ItemDataRole.UserRole, pack.id)
            self.existing.list.addItem(item)
        self.existing.list.blockSignals(False)
        if problems:
            self.existing.notes.setToolTip("\n".join(problems))
        ids = list(self.packs)
        if ids:
            self.select_pack(current if current in self.packs else ids[0])

    def select_pack(self, pack_id: str) -> None:
        for row in range(self.existing.list.count()):
            if self.existing.list.item(row).data(Qt.ItemDataRole.UserRole) == pack_id:
                self.existing.list.setCurrentRow(row)
                return

    @property
    def current_pack(self) -> Pack | None:
        item = self.existing.list.currentItem()
        return self.packs.get(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def _on_pack_clicked(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None = None) -> None:
        pack = self.packs.get(item.data(Qt.ItemDataRole.UserRole)) if item else None
        if pack is None:
            return
        self.existing.show_summary(pack, summarise_pack(pack))
        self.existing.samples.clear()
        self.tasks.start(
            "load sample images",
            lambda: self._samples_of(pack),
            on_finished=lambda samples: self._show_pack_samples(pack, samples),
        )
        self.pack_selected.emit(pack)

    def _samples_of(self, pack: Pack):  # noqa: ANN202 - a generator for the worker
        samples = self.usecases.sample_thumbnails(pack, SAMPLES_PER_CLASS, THUMB)
        yield Progress("samples", 1, 1)
        return samples

    def _show_pack_samples(self, pack: Pack, samples: dict[str, list[np.ndarray]]) -> None:
        if self.current_pack is pack:  # the user may have moved on while they loaded
            self.existing.samples.set_tiles(_tiles(samples))

    # -- building ---------------------------------------------------------------------------------------------
    def _on_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Choose a folder with one sub-folder per class", self.builder.folder.text() or str(Path.home())
        )
        if folder:
            self.inspect_folder(folder)

    def inspect_folder(self, folder: str | Path) -> None:
        """Inspect `folder` in the background and show what a pack built from it would hold."""
        folder = Path(str(folder).strip()).expanduser()
        self.tabs.setCurrentWidget(self.builder)
        self.builder.folder.setText(str(folder))
        self.builder.pack_id.setText(suggested_pack_id(folder))
        self.builder.title.setText(folder.name)
        self.builder.build.setEnabled(False)
        self.builder.samples.clear()
        self.inspection = None
        self._busy(True)
        self._worker = self.tasks.start(
            "inspect the folder",
            lambda: self._inspect(folder),
            on_progress=self._on_progress,
            on_finished=self._on_inspected,
            on_stopped=lambda: self._busy(False),
        )

    def _inspect(self, folder: Path):  # noqa: ANN202 - a generator for the worker
        report = yield from self.usecases.inspect_folder(folder)
        samples = {
            c.name: [thumbnail(load_image(p), THUMB) for p in c.samples[:SAMPLES_PER_CLASS]] for c in report.classes
        }
        return report, samples

    def _on_inspected(self, result: tuple[FolderInspection, dict[str, list[np.ndarray]]]) -> None:
        report, samples = result
        self.inspection = report
        self.builder.show_inspection(report)
        self.builder.samples.set_tiles(_tiles(samples))

    def _on_build_clicked(self) -> None:
        self.build_pack(
            self.builder.folder.text(),
            self.builder.pack_id.text().strip(),
            title=self.builder.title.text().strip(),
            licence=self.builder.licence.text().strip(),
        )

    def build_pack(self, folder: str | Path, pack_id: str, *, title: str = "", licence: str = "") -> None:
        self.builder.build.setEnabled(False)
        self.build_report = None
        self._busy(True)
        self._worker = self.tasks.start(
            "build the pack",
            lambda: self.usecases.build_pack(folder, pack_id, title=title, licence=licence),
            on_progress=self._on_progress,
            on_finished=self._on_built,
            on_stopped=lambda: self._on_build_stopped(),
        )

    def _on_build_stopped(self) -> None:
        self._busy(False)
        self.builder.build.setEnabled(self.inspection is not None and self.inspection.can_build)

    def _on_built(self, report: BuildReport) -> None:
        self.build_report = report
        pack_id = report.pack_dir.name
        self.refresh(select=pack_id)
        self.tabs.setCurrentWidget(self.existing)
        stored = sum(sum(counts.values()) for counts in report.counts.values())
        built = f"Pack '{pack_id}' built from {stored} images."
        extra = [f"{len(report.duplicates)} duplicate(s) stored once"] if report.duplicates else []
        extra += [f"{len(report.unreadable)} unreadable file(s) skipped"] if report.unreadable else []
        extra += report.warnings
        show_notes(self.existing.notes, [], [built, *extra] if extra else [], built)

    def _on_progress(self, event: Progress) -> None:
        bar = self.builder.progress
        bar.setMaximum(max(event.total, 0))
        bar.setValue(event.done)
        bar.setFormat(event.message or "%v/%m")

    def _busy(self, busy: bool) -> None:
        self.builder.progress.setVisible(busy)
        self.builder.inspect_button.setEnabled(not busy)
        self.builder.browse.setEnabled(not busy)
        if not busy:
            self._worker = None
