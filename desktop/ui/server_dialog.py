"""Server settings: which sync server the game talks to, or none (fully offline, the default)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.services.online.client import ServerClient
from desktop.services.online.errors import OnlineError
from desktop.services.online.settings import OnlineSettingsError, normalise_server_url
from desktop.services.online.tokens import TokenStore
from desktop.ui.online_controller import OnlineController
from desktop.ui.sign_in_dialog import ERROR_STYLE

SHARE_NOTE = (
    '<small>Ranked rounds always count towards what other players see ("62 % of players got this right"). '
    "Ticked, the offline sessions you upload count too: for each round the image, the options shown, your answer "
    "and your time. The server keeps them apart from ranked rounds, marked unchecked, and shows only totals over "
    "a minimum number of players; your name and account never appear with them. Off by default; untick to stop "
    "sharing sessions uploaded from now on.</small>"
)


class ServerDialog(QDialog):
    """Accepted after the new setting is saved (the controller has switched servers)."""

    def __init__(self, controller: OnlineController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Sync server — Eye vs AI")
        self.setMinimumWidth(460)
        current = controller.online.settings.server_url
        intro = QLabel(
            "Eye vs AI works fully offline. A sync server adds accounts, global leaderboards and ranked "
            "play; your finished sessions then upload to your history there."
        )
        intro.setWordWrap(True)
        self.offline = QCheckBox("Play offline (no server, no network use at all)")
        self.offline.setChecked(current is None)
        self.url = QLineEdit(current or "")
        self.url.setPlaceholderText("https://eyevsai.example.org")
        self.test = QPushButton("Test connection")
        self.share = QCheckBox("Share my offline rounds with the crowd statistics")
        self.share.setChecked(controller.online.settings.share_crowd_answers)
        self.share_note = QLabel(SHARE_NOTE)
        self.share_note.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        form = QFormLayout()
        form.addRow("Server address", self.url)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.offline)
        layout.addLayout(form)
        layout.addWidget(self.test)
        layout.addWidget(self.share)
        layout.addWidget(self.share_note)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.offline.toggled.connect(self._on_offline_toggled)
        self.test.clicked.connect(self._on_test)
        self.buttons.accepted.connect(self._on_save)
        self.buttons.rejected.connect(self.reject)
        self._on_offline_toggled(self.offline.isChecked())

    def _on_offline_toggled(self, offline: bool) -> None:
        for widget in (self.url, self.test, self.share, self.share_note):
            widget.setEnabled(not offline)

    def _address(self) -> str | None:
        """The typed address, normalised; shows the problem and returns None when it is not usable."""
        try:
            url = normalise_server_url(self.url.text())
        except OnlineSettingsError as exc:
            self._show_error(str(exc))
            return None
        if url is None:
            self._show_error("Enter the server's address, or tick 'Play offline'.")
        return url

    def _show_error(self, text: str) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(text)

    def _on_test(self) -> None:
        url = self._address()
        if url is None:
            return
        self.status.setStyleSheet("")
        self.status.setText(f"Connecting to {url}…")
        self.test.setEnabled(False)
        data_dir = self.controller.online.data_dir

        def check() -> dict:
            client = ServerClient(url, TokenStore(url, data_dir))  # no sign-in is read or sent
            try:
                return client.health()
            finally:
                client.close()

        self.controller.run(check, self._tested, self._test_failed)

    def _tested(self, health: dict) -> None:
        self.test.setEnabled(True)
        self.status.setStyleSheet("")
        self.status.setText(
            f"✓ Connected: EyeVsAI server {health.get('version', '?')} ({health.get('database', '?')} database)."
        )

    def _test_failed(self, exc: Exception, details: str) -> None:
        self.test.setEnabled(True)
        if isinstance(exc, OnlineError):
            self._show_error(str(exc))
        else:
            self.controller.bug_found.emit(exc, details)

    def _on_save(self) -> None:
        url = None if self.offline.isChecked() else self._address()
        if url is None and not self.offline.isChecked():
            return
        self.controller.set_server(url)
        self.controller.share_crowd_answers(self.share.isChecked())
        self.accept()
