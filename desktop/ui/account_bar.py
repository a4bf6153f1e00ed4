"""The home screen's online strip: server and account, where the sign-in is kept, the sync indicator, and the ways
into global leaderboards and ranked play. Offline (no server) is shown as a normal state, not as an error."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.services.online.outbox import SyncStatus
from desktop.services.online.settings import Account
from desktop.services.online.tokens import TokenStorage, keyring_hint

WARNING_STYLE = "color: #b45309;"


class AccountBar(QFrame):
    """Signals:
    sign_in_requested(): open the sign-in dialog.
    sign_out_requested(): sign out of the server.
    server_requested(): open the server settings.
    leaderboards_requested(): show the global leaderboards.
    ranked_requested(): start a ranked session with the home screen's pack and difficulty.
    sync_requested(): upload waiting sessions now.
    """

    sign_in_requested = Signal()
    sign_out_requested = Signal()
    server_requested = Signal()
    leaderboards_requested = Signal()
    ranked_requested = Signal()
    sync_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.account = QLabel()
        self.account.setObjectName("accountLabel")
        self.storage = QLabel()
        self.storage.setWordWrap(True)
        self.storage.setStyleSheet(WARNING_STYLE)
        self.sync = QLabel()
        self.sync.setObjectName("syncStatus")
        self.sign_in = QPushButton("Sign in…")
        self.sign_out = QPushButton("Sign out")
        self.server = QPushButton("Server…")
        self.sync_now = QPushButton("Sync now")
        self.boards = QPushButton("Global leaderboards")
        self.ranked = QPushButton("Play ranked")
        for button, signal in (
            (self.sign_in, self.sign_in_requested),
            (self.sign_out, self.sign_out_requested),
            (self.server, self.server_requested),
            (self.sync_now, self.sync_requested),
            (self.boards, self.leaderboards_requested),
            (self.ranked, self.ranked_requested),
        ):
            button.clicked.connect(signal)
        top = QHBoxLayout()
        top.addWidget(self.account, 1)
        top.addWidget(self.sign_in)
        top.addWidget(self.sign_out)
        top.addWidget(self.server)
        self.online_row = QWidget()  # hidden offline, so the offline strip is one quiet line
        bottom = QHBoxLayout(self.online_row)
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.sync, 1)
        bottom.addWidget(self.sync_now)
        bottom.addWidget(self.boards)
        bottom.addWidget(self.ranked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addLayout(top)
        layout.addWidget(self.storage)
        layout.addWidget(self.online_row)
        self.show_account(None, None)

    def show_account(self, server_url: str | None, account: Account | None, notice: str = "") -> None:
        """What the player sees of the server and the sign-in."""
        offline = server_url is None
        host = html.escape(urlsplit(server_url).netloc) if server_url else ""
        if offline:
            text = "<b>Offline</b> — no sync server set; everything is played and kept on this computer."
        elif account is None:
            text = f"Server <b>{host}</b> — not signed in."
        else:
            text = f"Signed in as <b>{html.escape(account.label)}</b> on {host}"
        self.account.setText(
            text + (f"<br><span style='{WARNING_STYLE}'>{html.escape(notice)}</span>" if notice else "")
        )
        self.sign_in.setVisible(not offline and (account is None or account.is_guest))
        self.sign_in.setText("Keep this account…" if account is not None else "Sign in…")
        self.sign_in.setToolTip(
            "Add an email or a provider to this guest account; its history stays." if account is not None else ""
        )
        self.sign_out.setVisible(account is not None and not offline)
        self.sync_now.setVisible(account is not None and not offline)
        self.ranked.setEnabled(account is not None and not offline)
        self.ranked.setToolTip("" if account else "Ranked play is dealt and timed by the server: sign in first.")
        self.online_row.setVisible(not offline)  # offline is the normal state: nothing greyed out to explain
        if offline:
            self.sync.setText("")
            self.storage.setVisible(False)

    def show_storage(self, storage: TokenStorage | None, problem: str | None, file_path: str = "") -> None:
        """A visible note whenever the sign-in is not in the OS keyring."""
        if storage is TokenStorage.memory:
            text = f"⚠ {problem or 'No system keyring.'} Your sign-in is kept only until you quit."
        elif storage is TokenStorage.file:
            text = f"⚠ No system keyring: your sign-in is kept in a file only your user can read ({file_path})."
        else:
            text = ""
        self.storage.setText(text)
        self.storage.setToolTip(keyring_hint() if text else "")
        self.storage.setVisible(bool(text))

    def show_sync(self, status: SyncStatus, *, is_syncing: bool, signed_in: bool, online: bool) -> None:
        """The sync indicator: what waits, what is done, what failed."""
        if not online:
            self.sync.setText("")
            return
        if is_syncing:
            text = f"↻ Uploading {status.pending} session{'s' if status.pending != 1 else ''}…"
        elif status.pending and not signed_in:
            text = f"⏸ {status.pending} session{'s' if status.pending != 1 else ''} will upload once you sign in"
        elif status.pending or status.rejected:
            text = f"⚠ {status.describe()}"
        else:
            text = f"✓ {status.describe()}"
        self.sync.setText(text)
        self.sync.setToolTip(status.last_error or "")
