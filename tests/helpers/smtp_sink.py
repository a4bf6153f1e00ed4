"""A real SMTP server on loopback (aiosmtpd) that keeps every mail it is sent, for the account-mail tests.

The server under test talks SMTP to it exactly as to a provider's relay (EHLO, optional STARTTLS and AUTH, MAIL,
RCPT, DATA); tests then read the mails and follow the links in them.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


class _Keeper:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, _server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook names
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.sink.lock:
            self.sink.mails.append((list(envelope.rcpt_tos), message, session.authenticated))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """`start()` listens on 127.0.0.1:`port`; `mails` holds (recipients, message, authenticated) per mail."""

    def __init__(self, **controller_options: object) -> None:
        """`controller_options`: passed to aiosmtpd's Controller (tls_context, require_starttls, authenticator...)."""
        self.port = _free_port()
        self.mails: list[tuple[list[str], EmailMessage, bool]] = []
        self.lock = threading.Lock()
        self._controller = Controller(_Keeper(self), hostname="127.0.0.1", port=self.port, **controller_options)

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.mails.clear()

    def settings(self, **overrides: object) -> dict[str, object]:
        """The server's `mail` settings for this sink (plain SMTP on loopback unless overridden)."""
        return {"host": "127.0.0.1", "port": self.port, "security": "none", **overrides}

    def to(self, address: str) -> list[EmailMessage]:
        """The mails sent to `address`, oldest first."""
        with self.lock:
            return [message for recipients, message, _ in self.mails if address in recipients]

    def last_token(self, address: str, action: str, *, wait_s: float = 5.0) -> str:
        """The token in the newest link to the `action` page (e.g. "verify-email") mailed to `address`.

        Waits up to `wait_s` for it: a server behind a socket sends its mail after it has answered.
        """
        deadline = time.monotonic() + wait_s
        while True:
            for message in reversed(self.to(address)):
                for link in LINK.findall(message.get_content()):
                    parts = urlsplit(link)
                    if parts.path.endswith(f"/mail/{action}"):
                        return parse_qs(parts.query)["token"][0]
            if time.monotonic() > deadline:
                subjects = [m["Subject"] for m in self.to(address)]
                raise AssertionError(f"no {action} link was mailed to {address}: {subjects}")
            time.sleep(0.02)
