"""The global leaderboards screen: pack × difficulty × period, the top pages or the rows around the player, with
the player's own row highlighted. Without a server or a connection it says so and keeps the rest of the game usable."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.services.catalog import Catalog
from desktop.services.online.errors import OnlineError, SignInRequired
from desktop.ui.online_controller import OnlineController
from game_rules.scoring import DIFFICULTIES

PAGE_SIZE = 25
AROUND_WINDOW = 5
PERIODS = (("day", "Today (UTC)"), ("week", "This week"), ("month", "This month"), ("all", "All time"))
OWN_ROW = QColor("#fff3c4")
COLUMNS = ["Rank", "Player", "Points", "Accuracy", "Time", "Rounds", "When"]


class GlobalBoardView(QWidget):
    """Signals:
    home_requested(): back to the home screen.
    """

    home_requested = Signal()

    def __init__(self, controller: OnlineController, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.title = QLabel("<h2>Global leaderboards</h2>")
        self.pack = QComboBox()
        for pack in catalog.packs.values():
            self.pack.addItem(pack.title, pack.id)
        self.difficulty = QComboBox()
        for level in DIFFICULTIES:
            self.difficulty.addItem(level.capitalize(), level)
        self.period = QComboBox()
        for value, text in PERIODS:
            self.period.addItem(text, value)
        self.view = QComboBox()
        self.view.addItem("Top players", "top")
        self.view.addItem("Around me", "around")
        self.refresh = QPushButton("Refresh")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table: no keyboard trap
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.previous = QPushButton("◀ Previous")
        self.next = QPushButton("Next ▶")
        self.page_label = QLabel()
        self.page_label.setMinimumWidth(self.page_label.fontMetrics().horizontalAdvance("Page 999"))
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.home = QPushButton("Home  (Esc)")
        self.own_row: int | None = None
        self._cursors: list[str | None] = [None]
        self._next_cursor: str | None = None
        self._request = 0
        self._build_layout()
        for combo in (self.pack, self.difficulty, self.period, self.view):
            combo.currentIndexChanged.connect(self._restart)
        self.refresh.clicked.connect(self.load)
        self.previous.clicked.connect(self._on_previous)
        self.next.clicked.connect(self._on_next)
        self.home.clicked.connect(self.home_requested)

    def _build_layout(self) -> None:
        controls = QHBoxLayout()
        for label, widget in (
            ("Pack", self.pack),
            ("Difficulty", self.difficulty),
            ("Period", self.period),
            ("Show", self.view),
        ):
            controls.addWidget(QLabel(label))
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.refresh)
        pages = QHBoxLayout()
        pages.addWidget(self.home)
        pages.addStretch(1)
        pages.addWidget(self.previous)
        pages.addWidget(self.page_label)
        pages.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(pages)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Esc goes back home."""
        if event.key() == Qt.Key.Key_Escape:
            self.home_requested.emit()
        else:
            super().keyPressEvent(event)

    def select(self, pack_id: str | None, difficulty: str | None) -> None:
        """Open on the home screen's pack and difficulty."""
        for combo, value in ((self.pack, pack_id), (self.difficulty, difficulty)):
            index = combo.findData(value)
            if index >= 0:
                combo.blockSignals(True)
                combo.setCurrentIndex(index)
                combo.blockSignals(False)
        self._restart()

    # -- loading -------------------------------------------------------------------------------------------------
    def _restart(self) -> None:
        self._cursors = [None]
        self.load()

    def load(self) -> None:
        """Fetch the current page in the background; stale answers (the choice changed meanwhile) are dropped."""
        client = self.controller.client
        self._request += 1
        request = self._request
        self._show_pages(None)
        if client is None:
            self._show_empty(
                "No sync server is set, so there are no global leaderboards. Your local leaderboard "
                "is on the home screen; set a server from there to compare with other players."
            )
            return
        pack_id, level, period = self.pack.currentData(), self.difficulty.currentData(), self.period.currentData()
        if self.view.currentData() == "around":
            if self.controller.account is None:
                self._show_empty("Sign in to see where you stand on this board.")
                return
            fetch = lambda: client.around_me(pack_id, level, period, window=AROUND_WINDOW)  # noqa: E731
        else:
            cursor = self._cursors[-1]
            fetch = lambda: client.leaderboard(pack_id, level, period, limit=PAGE_SIZE, cursor=cursor)  # noqa: E731
        self.status.setText("Loading…")
        self.controller.run(
            fetch, lambda page: self._loaded(request, page), lambda exc, details: self._failed(request, exc, details)
        )

    def _loaded(self, request: int, page: dict) -> None:
        if request != self._request:
            return
        entries = page.get("entries", [])
        self._fill(entries)
        self._next_cursor = page.get("next_cursor")
        self._show_pages(page)
        total = page.get("total", 0)
        closed = " (closed period)" if page.get("is_closed") else ""
        if not entries:
            self.status.setText(
                "You are not on this board yet: play a ranked session to enter it."
                if self.view.currentData() == "around"
                else f"No ranked sessions on this board yet{closed}. Only ranked sessions count here; "
                "offline sessions upload to your history."
            )
        else:
            since = page.get("period_start")
            self.status.setText(
                f"{total} player{'s' if total != 1 else ''}{closed}"
                + (f" · since {since}" if since and page.get("period") != "all" else "")
            )

    def _failed(self, request: int, exc: Exception, details: str) -> None:
        if request != self._request:
            return
        if isinstance(exc, SignInRequired):
            self._show_empty(f"{exc}")
        elif isinstance(exc, OnlineError):
            self._show_empty(f"Global leaderboards are unavailable right now. {exc}")
        else:
            self._show_empty("")
            self.controller.bug_found.emit(exc, details)

    def _show_empty(self, text: str) -> None:
        self.table.setRowCount(0)
        self.own_row = None
        self.status.setText(text)
        self._show_pages(None)

    def _show_pages(self, page: dict | None) -> None:
        paged = page is not None and self.view.currentData() == "top"
        self.previous.setEnabled(paged and len(self._cursors) > 1)
        self.next.setEnabled(paged and bool(self._next_cursor))
        self.page_label.setText(f"Page {len(self._cursors)}" if paged else "")

    def _on_next(self) -> None:
        if self._next_cursor:
            self._cursors.append(self._next_cursor)
            self.load()

    def _on_previous(self) -> None:
        if len(self._cursors) > 1:
            self._cursors.pop()
            self.load()

    # -- table ---------------------------------------------------------------------------------------------------
    def _fill(self, entries: list[dict]) -> None:
        me = self.controller.account.id if self.controller.account else None
        self.table.setRowCount(len(entries))
        self.own_row = None
        for i, row in enumerate(entries):
            mine = row.get("player_id") == me
            when = dt.datetime.fromisoformat(str(row["achieved_at"]).replace("Z", "+00:00")).astimezone()
            values = [
                str(row["rank"]),
                row["display_name"] + ("  ◀ you" if mine else ""),
                str(row["score"]),
                f"{row['accuracy']:.0%}",
                f"{row['total_time_ms'] / 1000:.1f} s",
                str(row["rounds"]),
                when.strftime("%Y-%m-%d %H:%M"),
            ]
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter if j != 1 else Qt.AlignmentFlag.AlignVCenter)
                if mine:
                    item.setBackground(QBrush(OWN_ROW))
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(i, j, item)
            if mine:
                self.own_row = i
        if self.own_row is not None:
            self.table.scrollToItem(self.table.item(self.own_row, 0))
