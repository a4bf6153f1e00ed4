"""The online side seen from the GUI thread: background server calls, the outbox timer, sign-in state.

Network calls run on a small pool of their own (a browser sign-in may wait minutes; model loading keeps the global
pool); the outbox table is read and written only here, on the GUI thread, which owns the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from desktop.services.online.connection import OnlineConnection
from desktop.services.online.errors import SignInFailed
from desktop.services.online.oauth_loopback import BrowserSignIn
from desktop.services.online.outbox import Result, SyncStatus, UploadOutcome, send, utc_now
from desktop.services.online.settings import Account
from desktop.services.online.tokens import TokenStorage
from qtsupport.worker import run_in_background

POOL_THREADS = 3
SHUTDOWN_WAIT_MS = 3_000
SYNC_BATCH = 20


def open_in_system_browser(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


class OnlineController(QObject):
    """Signals:
    account_changed(): signed in or out, or another server (or none) was set.
    sync_changed(object): the outbox's SyncStatus after a change; also while an upload runs (`is_syncing`).
    storage_checked(): the keyring answered; `storage` and `storage_problem` say where the sign-in is kept.
    notice_changed(str): a one-line note for the account bar (a sign-in that could not be kept, an expiry).
    bug_found(object, str): an unexpected exception in background work, with its traceback (for the crash dialog).
    """

    account_changed = Signal()
    sync_changed = Signal(object)
    storage_checked = Signal()
    notice_changed = Signal(str)
    bug_found = Signal(object, str)

    def __init__(
        self,
        online: OnlineConnection,
        parent: QObject | None = None,
        *,
        open_url: Callable[[str], object] = open_in_system_browser,
    ) -> None:
        super().__init__(parent)
        self.online = online
        self.open_url = open_url
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(POOL_THREADS)
        self.is_syncing = False
        self.storage: TokenStorage | None = None
        self.storage_problem: str | None = None
        self._browser_cancel: threading.Event | None = None
        self._closed = False  # after shutdown, late results from workers are dropped (the store may be closed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.sync)

    # -- plumbing ----------------------------------------------------------------------------------------------------
    def run(self, fn: Callable[[], Any], done: Callable[[Any], None], failed: Callable[[Exception, str], None]) -> None:
        """Run a blocking call (network, keyring) off the GUI thread; done/failed come back on it (not after
        shutdown)."""

        def deliver(callback: Callable[..., None]) -> Callable[..., None]:
            return lambda *args: None if self._closed else callback(*args)

        if not self._closed:
            run_in_background(fn, deliver(done), deliver(failed), parent=self, pool=self.pool)

    @property
    def client(self):  # noqa: ANN201 - ServerClient | None
        return self.online.client

    @property
    def account(self) -> Account | None:
        return self.online.account

    def start(self) -> None:
        """After the window is up: learn where the sign-in is kept, then upload what waits."""
        if self._closed:
            return
        self.sync_changed.emit(self.online.sync_status())
        if self.online.tokens is None:
            return
        tokens = self.online.tokens

        def check() -> tuple[TokenStorage, str | None, bool]:
            return tokens.storage, tokens.problem, tokens.has_sign_in()

        self.run(
            check,
            self._on_storage_checked,
            lambda exc, details: self._on_storage_checked(
                (TokenStorage.memory, f"The keyring could not be read: {exc}", False)
            ),
        )

    def _on_storage_checked(self, result: tuple[TokenStorage, str | None, bool]) -> None:
        self.storage, self.storage_problem, has_token = result
        self.storage_checked.emit()
        if self.online.is_signed_in and not has_token:
            self.online.signed_out(forget_tokens=False)
            self.notice_changed.emit("Your sign-in was not kept (no keyring on this computer). Sign in again.")
            self.account_changed.emit()
        self.sync()

    # -- account -----------------------------------------------------------------------------------------------------
    def set_server(self, url: str | None) -> None:
        """Raises OnlineSettingsError for an address that is not a URL."""
        self.online.set_server(url)
        self.storage = self.storage_problem = None
        self.account_changed.emit()
        self.start()

    def allow_token_file(self, allowed: bool) -> None:
        self.online.allow_token_file(allowed)
        self.start()

    def share_crowd_answers(self, shared: bool) -> None:
        """The player's opt-in: offline sessions uploaded from now on count in the crowd statistics (unverified)."""
        self.online.share_crowd_answers(shared)

    def signed_in(self, account: Account) -> None:
        self.online.signed_in(account)
        self.notice_changed.emit("")
        self.account_changed.emit()
        self.start()

    def sign_out(self, done: Callable[[str], None]) -> None:
        """Revoke the sign-in on the server and forget it here; done(note) with a note when the server was not
        reachable (the sign-in is forgotten here all the same)."""
        client = self.client
        if client is None:
            return

        def finish(note: str) -> None:
            self.online.signed_out(forget_tokens=False)
            self.account_changed.emit()
            self.sync_changed.emit(self.online.sync_status())
            done(note)

        self.run(
            client.sign_out,
            lambda _: finish(""),
            lambda exc, _: finish(f"Signed out on this computer; the server could not be told ({exc})."),
        )

    def begin_browser_sign_in(
        self, provider: str, done: Callable[[Account], None], failed: Callable[[Exception, str], None]
    ) -> None:
        """Open the provider's sign-in in the system browser and wait for it (in the background)."""
        client = self.client
        if client is None:
            return
        link = self.account is not None and self.account.is_guest  # a guest keeps its history
        self.cancel_browser_sign_in()  # one browser sign-in at a time
        cancel = self._browser_cancel = threading.Event()

        def begin() -> tuple[BrowserSignIn, str]:
            flow = BrowserSignIn(client, provider, link_account=link)
            try:
                return flow, flow.begin()
            except BaseException:
                flow.close()
                raise

        def opened(started: tuple[BrowserSignIn, str]) -> None:
            flow, url = started
            if cancel.is_set():
                flow.close()
                return
            if self.open_url(url) is False:  # no browser could be started: the player can still open the URL
                failed(SignInFailed(f"No web browser could be opened. Open this address in one to sign in: {url}"), "")

            def finish() -> Account:
                try:
                    return flow.finish(cancelled=cancel)
                finally:
                    flow.close()

            self.run(finish, done, failed)

        self.run(begin, opened, failed)

    def cancel_browser_sign_in(self) -> None:
        if self._browser_cancel is not None:
            self._browser_cancel.set()

    # -- outbox ------------------------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Upload the due sessions in the background; afterwards wait for the next one to fall due."""
        online = self.online
        if self._closed:
            return
        if self.is_syncing or online.client is None or not online.is_signed_in:
            self.sync_changed.emit(online.sync_status())
            return
        items = online.outbox.due(SYNC_BATCH)
        if not items:
            self._schedule()
            return
        self.is_syncing = True
        self.sync_changed.emit(online.sync_status())
        client = online.client

        def upload() -> list[UploadOutcome]:
            outcomes = []
            for item in items:
                outcomes.append(send(client, item))
                if outcomes[-1].result in (Result.retry, Result.sign_in):
                    break
            return outcomes

        self.run(upload, self._on_uploaded, self._on_upload_bug)

    def sync_now(self) -> None:
        """The player asked: forget the backoff and try at once."""
        self.online.outbox.retry_now()
        self.sync()

    def _on_uploaded(self, outcomes: list[UploadOutcome]) -> None:
        self.is_syncing = False
        for outcome in outcomes:
            self.online.outbox.record(outcome)
        if any(o.result is Result.sign_in for o in outcomes):
            self.online.signed_out(forget_tokens=False)
            self.notice_changed.emit(next(o.message for o in outcomes if o.result is Result.sign_in))
            self.account_changed.emit()
        elif outcomes and outcomes[-1].result is Result.sent and self.online.outbox.due(1):
            self.sync()  # more were waiting than one batch holds
            return
        self._schedule()

    def _on_upload_bug(self, exc: Exception, details: str) -> None:
        self.is_syncing = False
        self.sync_changed.emit(self.online.sync_status())
        self.bug_found.emit(exc, details)

    def _schedule(self) -> None:
        status: SyncStatus = self.online.sync_status()
        self.sync_changed.emit(status)
        self._timer.stop()
        if status.pending and status.next_attempt is not None and self.online.is_signed_in:
            wait_s = (status.next_attempt - utc_now()).total_seconds()
            self._timer.start(max(0, int(wait_s * 1000)) + 50)

    def shutdown(self) -> None:
        """Stop waiting: cancel a browser sign-in, stop the timer, close the connections (a call in flight ends with
        an error nobody reads: its upload is sent again next time, which the server answers 'already stored')."""
        self._closed = True
        self._timer.stop()
        self.cancel_browser_sign_in()
        self.online.close()
        self.pool.waitForDone(SHUTDOWN_WAIT_MS)
