"""Models screen: the workspace's model registry, sortable and filterable; compare, delete, publish.

Rows come from `trainer.model_registry` (reconciled with the models folder on every refresh). Publishing ranks a
pack's checked active models (the first column's boxes; a model at chance starts unchecked, and publishing one
asks first) into easy/medium/hard and writes them, with the pack's test and ranked images, where the game finds
them (its user data folder by default).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from classifiers.chance import ADVICE
from classifiers.errors import EyeVsAIError
from classifiers.progress import Progress
from classifiers.registry import family_label
from trainer.comparison import ComparisonRow, compare_cards
from trainer.gui.models_table import ALL, COLUMNS, ROW_ROLE, ModelFilter, model_cells
from trainer.gui.tasks import Tasks
from trainer.model_registry import DONE
from trainer.publish import PublishReport
from trainer.usecases import ModelRow, TrainerUseCases

Confirm = Callable[[str, str], bool]


def ask(parent: QWidget) -> Confirm:
    """A blocking yes/no question box (tests pass their own `confirm`)."""

    def confirm(title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    return confirm


class ModelsPage(QWidget):
    """Signals:
    open_requested(object): a ModelRow to show on the Results screen.
    models_changed(): models were deleted or published (other screens refresh).
    published(object): the PublishReport of a finished publish.
    """

    open_requested = Signal(object)
    models_changed = Signal()
    published = Signal(object)

    def __init__(
        self, usecases: TrainerUseCases, tasks: Tasks, *, game_data_dir: Path, confirm: Confirm | None = None
    ) -> None:
        super().__init__()
        self.usecases = usecases
        self.tasks = tasks
        self.confirm = confirm or ask(self)
        self.rows: list[ModelRow] = []
        self.comparison: list[ComparisonRow] = []
        self.publish_report: PublishReport | None = None
        self.publish_choice: dict[str, bool] = {}  # the user's ticks, kept across refreshes
        self.model = QStandardItemModel(0, len(COLUMNS))
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = ModelFilter()
        self.proxy.setSourceModel(self.model)
        self._build(game_data_dir)

    def _build(self, game_data_dir: Path) -> None:
        self.pack_filter = QComboBox()
        self.family_filter = QComboBox()
        self.search = QLineEdit()
        self.search.setPlaceholderText("filter by id or title")
        self.only_active = QCheckBox("Active models only")
        self.only_active.setChecked(True)
        self.only_active.setToolTip("Hide superseded, failed and interrupted runs.")
        self.refresh_button = QPushButton("Refresh")
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("test accuracy"), Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.open_button = QPushButton("Open results")
        self.compare_button = QPushButton("Compare two")
        self.delete_button = QPushButton("Delete…")
        self.publish_button = QPushButton("Publish pack to the game…")
        self.publish_button.setToolTip(
            "Rank the pack's checked active models easy/medium/hard and copy them, with the pack's "
            "test and ranked images, to the destination below."
        )
        self.destination = QLineEdit(str(game_data_dir))
        self.destination.setToolTip(
            "The game reads <folder>/packs and <folder>/models; the default is the game's "
            "user data folder on this computer."
        )
        self.choose_destination = QPushButton("Choose…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.compare_table = QTableWidget(0, 4)
        self.compare_table.setHorizontalHeaderLabels(["", "A", "B", "B − A"])
        self.compare_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.compare_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.compare_table.verticalHeader().setVisible(False)

        filters = QHBoxLayout()
        for label, widget in (("Pack:", self.pack_filter), ("Family:", self.family_filter)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.only_active)
        filters.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        for button in (self.open_button, self.compare_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(QLabel("Publish to:"))
        actions.addWidget(self.destination, 2)
        actions.addWidget(self.choose_destination)
        actions.addWidget(self.publish_button)
        upper = QWidget()
        column = QVBoxLayout(upper)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(filters)
        column.addWidget(self.table, 1)
        column.addLayout(actions)
        column.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(self.compare_table)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

        self.pack_filter.currentIndexChanged.connect(lambda: self.proxy.set(pack=self.pack_filter.currentData()))
        self.family_filter.currentIndexChanged.connect(lambda: self.proxy.set(family=self.family_filter.currentData()))
        self.search.textChanged.connect(lambda text: self.proxy.set(text=text))
        self.only_active.toggled.connect(lambda on: self.proxy.set(only_active=on))
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self._on_open)
        self.table.doubleClicked.connect(self._on_open)
        self.compare_button.clicked.connect(self.compare_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.publish_button.clicked.connect(self.publish_selected_pack)
        self.choose_destination.clicked.connect(self._on_choose_destination)
        self.model.itemChanged.connect(self._on_item_changed)

    # -- listing ----------------------------------------------------------------------------------------------
    def refresh(self) -> list[ModelRow]:
        """Re-read the registry (reconciling it with the models folder) and refill the table and filters."""
        try:
            self.rows, changes = self.usecases.models()
        except EyeVsAIError as exc:
            self.tasks.reporter.problem("Cannot read the model registry", str(exc))
            return self.rows
        self.model.removeRows(0, self.model.rowCount())
        for row in self.rows:
            self.model.appendRow(model_cells(row, self.is_chosen(row)))
        self._fill_filter(self.pack_filter, "all packs", sorted({r.pack_id for r in self.rows}))
        self._fill_filter(self.family_filter, "all families", sorted({r.family for r in self.rows}), family_label)
        active = sum(r.status == DONE for r in self.rows)
        self.status.setText(
            f"{active} active model(s), {len(self.rows)} run(s) in {self.usecases.workspace.root}"
            + (f"; registry updated: {'; '.join(changes[:3])}" if changes else "")
        )
        return self.rows

    @staticmethod
    def _fill_filter(box: QComboBox, everything: str, values: list[str], label: Callable[[str], str] = str) -> None:
        current = box.currentData() or ALL
        box.blockSignals(True)
        box.clear()
        box.addItem(everything, ALL)
        for value in values:
            box.addItem(label(value), value)
        box.setCurrentIndex(max(0, box.findData(current)))
        box.blockSignals(False)

    def is_chosen(self, row: ModelRow) -> bool:
        """Whether Publish takes this model: the user's tick, else yes unless it is at chance."""
        return self.publish_choice.get(row.id, not row.at_chance)

    def choose_for_publish(self, model_id: str, chosen: bool) -> None:
        """Tick or untick a model's box, as a click on it does."""
        for i in range(self.model.rowCount()):
            item = self.model.item(i, 0)
            if item.data(ROW_ROLE).id == model_id and item.isCheckable():
                item.setCheckState(Qt.CheckState.Checked if chosen else Qt.CheckState.Unchecked)

    def _on_item_changed(self, item: QStandardItem) -> None:
        if item.column() == 0 and item.isCheckable():
            self.publish_choice[item.data(ROW_ROLE).id] = item.checkState() == Qt.CheckState.Checked

    def visible_rows(self) -> list[ModelRow]:
        """The rows as shown (filtered and sorted), top to bottom."""
        return [self.proxy.index(i, 0).data(ROW_ROLE) for i in range(self.proxy.rowCount())]

    def selected_rows(self) -> list[ModelRow]:
        indexes = self.table.selectionModel().selectedRows(0)
        return [index.data(ROW_ROLE) for index in sorted(indexes, key=lambda i: i.row())]

    def select_ids(self, *model_ids: str) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        for i in range(self.proxy.rowCount()):
            index = self.proxy.index(i, 0)
            if index.data(ROW_ROLE).id in model_ids:
                selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)

    # -- actions ----------------------------------------------------------------------------------------------
    def _on_open(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1 or not rows[0].is_playable:
            self.tasks.reporter.problem("Open results", "Select one active model to open its results.")
            return
        self.open_requested.emit(rows[0])

    def compare_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 2 or not all(r.is_playable for r in rows):
            self.tasks.reporter.problem("Compare models", "Select exactly two active models (Ctrl-click the second).")
            return
        try:
            cards = [self.usecases.card(row) for row in rows]
        except EyeVsAIError as exc:
            self.tasks.reporter.problem("Cannot compare", str(exc))
            return
        self.show_comparison(compare_cards(*cards))

    def show_comparison(self, rows: list[ComparisonRow]) -> None:
        self.comparison = rows
        self.compare_table.setRowCount(len(rows))
        section = ""
        for i, row in enumerate(rows):
            label = row.label if row.section == section else f"{row.section}: {row.label}"
            section = row.section
            delta = (
                ""
                if row.delta is None
                else f"{100 * row.delta:+.1f} points"
                if "accuracy" in row.section + row.label
                else f"{row.delta:+.3g}"
            )
            for column, text in enumerate((label, row.a, row.b, delta)):
                cell = QTableWidgetItem(text)
                if column == 3 and row.delta:
                    better = (
                        row.delta > 0 if row.section != "settings that differ" and "seconds" not in row.label else None
                    )
                    if better is not None:
                        cell.setForeground(QBrush(QColor("#2ca02c" if better else "#d62728")))
                self.compare_table.setItem(i, column, cell)

    def delete_selected(self) -> None:
        rows = self.selected_rows()
        if not rows:
            self.tasks.reporter.problem("Delete models", "Select the model(s) to delete first.")
            return
        names = "\n".join(f"• {r.id}" for r in rows[:10]) + ("\n…" if len(rows) > 10 else "")
        if not self.confirm(
            "Delete models", f"Delete {len(rows)} model(s) and their files?\n{names}\n\nThis cannot be undone."
        ):
            return
        removed = 0
        for row in rows:
            try:
                removed += len(self.usecases.remove_model(row.id))
            except EyeVsAIError as exc:
                self.tasks.reporter.problem("Cannot delete a model", str(exc))
                break
        self.refresh()
        self.status.setText(
            f"Deleted {len(rows)} model(s) ({removed} file(s) or folder(s) removed); difficulties re-ranked."
        )
        self.models_changed.emit()

    def _on_choose_destination(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Publish to (the game reads <folder>/packs and /models)", self.destination.text()
        )
        if folder:
            self.destination.setText(folder)

    def pack_to_publish(self) -> str | None:
        """The pack filter's pack, else the pack of the selected model(s) when they share one."""
        if self.pack_filter.currentData() not in (None, ALL):
            return self.pack_filter.currentData()
        packs = {row.pack_id for row in self.selected_rows()}
        return packs.pop() if len(packs) == 1 else None

    def publish_selected_pack(self) -> None:
        pack_id = self.pack_to_publish()
        if pack_id is None:
            self.tasks.reporter.problem(
                "Publish", "Choose a pack in the Pack filter (or select models of one pack) to publish its models."
            )
            return
        destination = Path(self.destination.text().strip()).expanduser()
        chosen = [row for row in self._publishable(pack_id) if self.is_chosen(row)]
        if not chosen:
            self.tasks.reporter.problem(
                "Publish", f"No active model of pack '{pack_id}' is checked. Tick the models to publish (first column)."
            )
            return
        allow_chance = self._allow_chance([row for row in chosen if row.at_chance])
        names = "\n".join(f"• {row.id}" for row in chosen)
        if not self.confirm(
            "Publish to the game",
            f"Publish {len(chosen)} model(s) of pack '{pack_id}' to {destination}?\n{names}\n"
            "Models of this pack already there that are not among these are removed.",
        ):
            return
        self.publish_button.setEnabled(False)
        self.status.setText(f"Publishing {pack_id}…")
        models = [row.id for row in chosen]
        self.tasks.start(
            "publish the pack",
            lambda: self.usecases.publish(pack_id, destination, models=models, allow_chance=allow_chance),
            on_progress=self._on_publish_progress,
            on_finished=self._on_published,
            on_stopped=lambda: self.publish_button.setEnabled(True),
        )

    def _publishable(self, pack_id: str) -> list[ModelRow]:
        try:
            return self.usecases.publishable(pack_id)
        except EyeVsAIError as exc:
            self.tasks.reporter.problem("Cannot read the model registry", str(exc))
            return []

    def _allow_chance(self, at_chance: list[ModelRow]) -> bool:
        """Ask whether the checked models at chance go too; No publishes the others and leaves these out."""
        if not at_chance:
            return False
        names = "\n".join(f"• {row.id} ({(row.test_accuracy or 0):.1%})" for row in at_chance)
        return self.confirm(
            "Publish models at chance?",
            f"These checked model(s) are no better than guessing on their test split:\n{names}\n"
            f"({ADVICE}.)\n\nPublish them to the game anyway? No publishes the others without them.",
        )

    def _on_publish_progress(self, event: Progress) -> None:
        if event.message:
            self.status.setText(event.message)

    def _on_published(self, report: PublishReport) -> None:
        self.publish_report = report
        self.refresh()
        lines = [f"{m.id}: {m.difficulty} ({(m.test_accuracy or 0):.1%})" for m in report.models]
        removed = f" Removed {len(report.removed)} model(s) not chosen or stale." if report.removed else ""
        refused = f" Not published, at chance: {', '.join(r.id for r in report.refused)}." if report.refused else ""
        self.status.setText(
            f"Published {len(lines)} model(s) of {report.pack_id} to {report.destination}: "
            + "; ".join(lines)
            + "."
            + removed
            + refused
        )
        self.published.emit(report)
        self.models_changed.emit()
