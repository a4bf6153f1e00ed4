"""Adds the online parts to the game window: the account bar on the home screen, the sign-in and server dialogs,
the global leaderboards, ranked play, what other players did (crowd statistics), and uploading each session as it
finishes. The window itself stays offline code; with no server set, none of this reaches the network."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from desktop.services.online.connection import OnlineConnection
from desktop.services.online.outbox import SyncStatus
from desktop.ui.account_bar import AccountBar
from desktop.ui.crowd_ui import CrowdUi
from desktop.ui.global_board import GlobalBoardView
from desktop.ui.main_window import MainWindow
from desktop.ui.online_controller import OnlineController, open_in_system_browser
from desktop.ui.packs_screen import PacksScreen
from desktop.ui.ranked_play import RankedPlay
from desktop.ui.server_dialog import ServerDialog
from desktop.ui.sign_in_dialog import SignInDialog


class OnlineUi(QObject):
    """Owned by the window; `shutdown()` before the window goes."""

    def __init__(
        self,
        window: MainWindow,
        online: OnlineConnection,
        *,
        open_url: Callable[[str], object] = open_in_system_browser,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.online = online
        self.controller = OnlineController(online, self, open_url=open_url)
        self.bar = AccountBar()
        window.add_home_panel(self.bar)  # under the title: the account is seen first
        self.board = GlobalBoardView(self.controller, window.catalog)
        self.ranked = RankedPlay(self.controller, window.catalog, window.reporter.error, self)
        self.packs = PacksScreen(self.controller, window.reporter.error)
        for view in (self.board, self.ranked.round, self.ranked.end, self.packs):
            window.add_screen(view)
        self.crowd = CrowdUi(window, self.controller, self.ranked)
        self.dialog: SignInDialog | ServerDialog | None = None
        self._notice = ""
        self._connect()
        self._show_account()
        QTimer.singleShot(0, self.controller.start)

    def _connect(self) -> None:
        bar, controller, window = self.bar, self.controller, self.window
        bar.sign_in_requested.connect(self.open_sign_in)
        bar.sign_out_requested.connect(self._on_sign_out)
        bar.server_requested.connect(self.open_server_settings)
        bar.leaderboards_requested.connect(self.open_board)
        bar.ranked_requested.connect(self._on_ranked)
        bar.sync_requested.connect(controller.sync_now)
        controller.account_changed.connect(self._show_account)
        controller.storage_checked.connect(self._show_account)
        controller.sync_changed.connect(self._show_sync)
        controller.notice_changed.connect(self._on_notice)
        controller.bug_found.connect(window.reporter.error)
        self.board.home_requested.connect(window.show_home)
        self.ranked.screen_wanted.connect(window.show_screen)
        self.ranked.home_requested.connect(window.show_home)
        self.ranked.board_requested.connect(self.open_board)
        self.packs.home_requested.connect(window.show_home)
        self.packs.packs_changed.connect(window.reload)
        window.home.get_packs.setVisible(True)
        window.home.packs_requested.connect(self.open_packs)
        window.session_finished.connect(controller.sync)  # the session that just ended is in the outbox

    # -- showing -------------------------------------------------------------------------------------------------
    def _show_account(self) -> None:
        online = self.online
        self.bar.show_account(online.settings.server_url, online.account, self._notice)
        if online.tokens is not None:
            self.bar.show_storage(
                self.controller.storage, self.controller.storage_problem, str(online.tokens.file_path)
            )
        self._show_sync(online.sync_status())

    def _show_sync(self, status: SyncStatus) -> None:
        self.bar.show_sync(
            status,
            is_syncing=self.controller.is_syncing,
            signed_in=self.online.is_signed_in,
            online=not self.online.is_offline,
        )

    def _on_notice(self, text: str) -> None:
        self._notice = text
        self._show_account()

    # -- actions -------------------------------------------------------------------------------------------------
    def open_sign_in(self) -> SignInDialog | None:
        if self.controller.client is None:
            return None
        self.dialog = SignInDialog(self.controller, self.window)
        self.dialog.open()
        return self.dialog

    def open_server_settings(self) -> ServerDialog:
        self.dialog = ServerDialog(self.controller, self.window)
        self.dialog.open()
        return self.dialog

    def open_board(self, pack_id: str | None = None, difficulty: str | None = None) -> None:
        chosen = self.window.selection
        self.board.select(pack_id or chosen.pack_id, difficulty or chosen.difficulty)
        self.window.show_screen(self.board)

    def open_packs(self) -> None:
        self.packs.load()
        self.window.show_screen(self.packs)

    def _on_sign_out(self) -> None:
        account = self.online.account
        if account is not None and account.is_guest:
            answer = QMessageBox.question(
                self.window,
                "Sign out of a guest account?",
                "A guest account can only be signed in from this computer. If you sign out, you cannot come back "
                "to it and its history. Add an email or a provider first (Sign in… while signed in as a guest "
                "keeps it). Sign out anyway?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.controller.sign_out(self._on_notice)

    def _on_ranked(self) -> None:
        home, chosen = self.window.home, self.window.selection
        entry, pack_id, level = chosen.opponent, chosen.pack_id, chosen.difficulty
        if pack_id is None or level is None:
            return
        home.show_status("Starting a ranked session on the server…")
        self.ranked.start(pack_id, level, entry.card.id if entry else None, settled=lambda: home.show_status(""))

    def shutdown(self) -> None:
        self.packs.shutdown()
        self.controller.shutdown()
