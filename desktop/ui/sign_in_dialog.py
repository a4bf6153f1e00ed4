"""The sign-in dialog: email and password, a guest account, and each OAuth provider the server offers (system
browser). Where no keyring works it says so and lets the player choose a token file instead of memory only."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.services.online.errors import OnlineError
from desktop.services.online.settings import Account
from desktop.services.online.tokens import TokenStorage, keyring_hint
from desktop.ui.account_bar import WARNING_STYLE
from desktop.ui.online_controller import OnlineController

ERROR_STYLE = "color: #c62828;"


def _line() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    return line


class SignInDialog(QDialog):
    """Accepted once an account is signed in (the controller already knows it)."""

    def __init__(self, controller: OnlineController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        client = controller.client
        assert client is not None, "the sign-in dialog needs a server"
        self.upgrading = controller.account is not None and controller.account.is_guest
        self.setWindowTitle("Sign in — Eye vs AI")
        self.setMinimumWidth(460)
        host = html.escape(urlsplit(client.base_url).netloc)
        self.header = QLabel(
            f"<h2>Sign in to {host}</h2>"
            + (
                "<p>You play as a guest. Add an email and password, or a provider below, to keep this account "
                "and its history.</p>"
                if self.upgrading
                else "<p>Sign in to upload your sessions, see global leaderboards and play ranked.</p>"
            )
        )
        self.header.setWordWrap(True)
        self.storage_note = QLabel()
        self.storage_note.setWordWrap(True)
        self.storage_note.setStyleSheet(WARNING_STYLE)
        self.remember_in_file = QCheckBox(
            "Remember my sign-in in a file (not encrypted; only your user account can read it)"
        )
        self.remember_in_file.setChecked(controller.online.settings.token_file_allowed)
        self.remember_in_file.toggled.connect(controller.allow_token_file)
        self.email = QLineEdit()
        self.email.setPlaceholderText("you@example.org")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("at least 8 characters for a new account")
        self.sign_in = QPushButton("Sign in")
        self.sign_in.setDefault(True)
        self.register = QPushButton("Keep this account with this email" if self.upgrading else "Create account")
        self.guest = QPushButton("Play as guest")
        self.providers_box = QHBoxLayout()
        self.providers_note = QLabel("Loading sign-in options…")
        self.providers_note.setWordWrap(True)
        self.provider_buttons: dict[str, QPushButton] = {}
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel = QPushButton("Cancel")
        self._build_layout()
        self.sign_in.clicked.connect(self._on_sign_in)
        self.register.clicked.connect(self._on_register)
        self.guest.clicked.connect(self._on_guest)
        self.cancel.clicked.connect(self._on_cancel)
        controller.storage_checked.connect(self._show_storage)
        self._show_storage()
        controller.run(client.providers, self._show_providers, self._providers_failed)

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        email_buttons = QHBoxLayout()
        email_buttons.addStretch(1)
        email_buttons.addWidget(self.register)
        email_buttons.addWidget(self.sign_in)
        providers = QVBoxLayout()
        providers.addWidget(QLabel("Or continue in your web browser with:"))
        providers.addLayout(self.providers_box)
        providers.addWidget(self.providers_note)
        guest_row = QHBoxLayout()
        guest_note = QLabel("<small>A guest account needs no email; you can keep it later by adding one.</small>")
        guest_note.setWordWrap(True)
        guest_row.addWidget(guest_note, 1)
        guest_row.addWidget(self.guest)
        self.guest.setVisible(not self.upgrading)
        guest_note.setVisible(not self.upgrading)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.cancel)
        layout_status = self.status  # a row of its own: a long error wraps over the full width, not beside Cancel
        layout = QVBoxLayout(self)
        for part in (
            self.header,
            self.storage_note,
            self.remember_in_file,
            form,
            email_buttons,
            _line(),
            providers,
            _line(),
            guest_row,
            layout_status,
            bottom,
        ):
            layout.addLayout(part) if isinstance(part, QHBoxLayout | QVBoxLayout | QFormLayout) else layout.addWidget(
                part
            )

    # -- showing -------------------------------------------------------------------------------------------------
    def _show_storage(self) -> None:
        storage, problem = self.controller.storage, self.controller.storage_problem
        no_keyring = storage in (TokenStorage.memory, TokenStorage.file)
        self.storage_note.setVisible(no_keyring)
        self.remember_in_file.setVisible(no_keyring)
        if no_keyring:
            self.storage_note.setText(
                f"⚠ {problem or 'No system keyring was found.'} Your sign-in will be kept "
                f"only until you quit, unless you allow a file below. {keyring_hint()}"
            )
        self.adjustSize()

    def _show_providers(self, providers: list[dict[str, str]]) -> None:
        self.providers_note.setText("" if providers else "This server offers no other sign-in.")
        self.providers_note.setVisible(not providers)
        for provider in providers:
            button = QPushButton(("Link " if self.upgrading else "") + provider["title"])
            button.setObjectName(f"provider-{provider['name']}")
            button.clicked.connect(
                lambda _=False, name=provider["name"], title=provider["title"]: self._on_provider(name, title)
            )
            self.providers_box.addWidget(button)
            self.provider_buttons[provider["name"]] = button
        self.adjustSize()

    def _providers_failed(self, exc: Exception, _details: str) -> None:
        self.providers_note.setText(f"Other sign-in options could not be loaded: {exc}")
        self._grow()

    def _set_busy(self, text: str) -> None:
        busy = bool(text)
        for widget in (
            self.email,
            self.password,
            self.sign_in,
            self.register,
            self.guest,
            *self.provider_buttons.values(),
        ):
            widget.setEnabled(not busy)
        self.status.setStyleSheet("")
        self.status.setText(text)

    # -- actions -------------------------------------------------------------------------------------------------
    def _credentials(self) -> tuple[str, str] | None:
        email, password = self.email.text().strip(), self.password.text()
        if not email or not password:
            self._failed(OnlineError("Enter your email and password."), "")
            return None
        if "@" not in email or "." not in email.rpartition("@")[2]:
            self._failed(OnlineError(f"'{email}' does not look like an email address (name@example.org)."), "")
            return None
        return email, password

    def _on_sign_in(self) -> None:
        credentials = self._credentials()
        if credentials is not None:
            self._call("Signing in…", lambda: self.controller.client.login(*credentials))

    def _on_register(self) -> None:
        credentials = self._credentials()
        if credentials is None:
            return
        client = self.controller.client
        if self.upgrading:
            self._call("Keeping your account…", lambda: client.upgrade(*credentials))
        else:
            self._call("Creating your account…", lambda: client.register(*credentials))

    def _on_guest(self) -> None:
        self._call("Creating a guest account…", self.controller.client.guest)

    def _on_provider(self, name: str, title: str) -> None:
        self._set_busy(f"Continue in your web browser to sign in with {title}… (Cancel stops waiting)")
        self.controller.begin_browser_sign_in(name, self._succeeded, self._failed)

    def _call(self, busy_text: str, fn) -> None:  # noqa: ANN001 - a blocking client call returning an Account
        self._set_busy(busy_text)
        self.controller.run(fn, self._succeeded, self._failed)

    def _succeeded(self, account: Account) -> None:
        self.password.clear()
        self.controller.signed_in(account)
        self.accept()

    def _failed(self, exc: Exception, details: str) -> None:
        self._set_busy("")
        if not isinstance(exc, OnlineError):
            self.controller.bug_found.emit(exc, details)
            return
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(str(exc))
        self._grow()

    def _grow(self) -> None:
        """Make room for wrapped text: the dialog grows to its new height instead of clipping the lines."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def _on_cancel(self) -> None:
        self.controller.cancel_browser_sign_in()
        self.reject()

    def done(self, result: int) -> None:  # closing by any means stops a browser sign-in from waiting
        self.controller.cancel_browser_sign_in()
        super().done(result)
