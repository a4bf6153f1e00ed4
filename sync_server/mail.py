"""Account mail: the messages (confirm an email, reset a password, confirm a deletion) and their SMTP delivery.

Mail goes out after the request's transaction has committed (a FastAPI background task), so a slow or failing
SMTP server never holds a database lock, and a request answers in the same time whether it sends mail or not.
A delivery failure is logged (without the address) and not retried: every flow can be started again.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import urlencode

from sync_server.logs import get_logger
from sync_server.settings import Environment, MailSettings, Settings

MAIL_PAGES = "/api/v1/auth/mail"  # the browser pages a mailed link opens (sync_server.api.routes.auth)
_log = get_logger("mail")


@dataclass(frozen=True)
class Outgoing:
    """One mail to send once the transaction that decided it has committed."""

    to: str
    subject: str
    text: str
    kind: str  # for the log, which never names the address


class Mailer:
    """Sends `Outgoing` mail through the configured SMTP server (or, in development, into an outbox folder)."""

    def __init__(self, settings: MailSettings, *, outbox: Path | None = None) -> None:
        """`outbox`: where mail goes as .eml files when no SMTP host is set (development); None drops it."""
        self.settings = settings
        self.outbox = outbox

    def deliver(self, mail: Outgoing) -> None:
        """Send `mail`; failures are logged, never raised (the request that asked for it has answered already)."""
        message = self._message(mail)
        try:
            if self.settings.is_enabled:
                self._send(message)
            elif self.outbox is not None:
                self._write(message)
            else:
                _log.warning("mail not sent: no SMTP host configured", extra={"kind": mail.kind})
                return
        except (OSError, smtplib.SMTPException) as exc:
            _log.warning("mail not sent", extra={"kind": mail.kind, "reason": type(exc).__name__})
            return
        _log.info("mail sent", extra={"kind": mail.kind})

    def _message(self, mail: Outgoing) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.from_address
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.settings.from_address.rpartition("@")[2].strip("> ") or None)
        message["Date"] = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message.set_content(mail.text)
        return message

    def _send(self, message: EmailMessage) -> None:
        config = self.settings
        context = ssl.create_default_context()
        if config.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
        with client:
            if config.security == "starttls":
                client.starttls(context=context)
            if config.username:
                client.login(config.username, config.password)
            client.send_message(message)

    def _write(self, message: EmailMessage) -> None:
        assert self.outbox is not None
        self.outbox.mkdir(parents=True, exist_ok=True, mode=0o700)  # mails hold reset links
        name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        fd = os.open(self.outbox / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(message))


def mailer_for(settings: Settings) -> Mailer:
    """The mailer the settings describe: SMTP when a host is set, else the outbox folder in development."""
    outbox = settings.resolved_data_dir() / "mail" if settings.env is Environment.development else None
    return Mailer(settings.mail, outbox=outbox)


def page_link(public_url: str, action: str, token: str) -> str:
    """The address of the page a mailed link opens (the page asks for a click before anything happens)."""
    return f"{public_url.rstrip('/')}{MAIL_PAGES}/{action}?{urlencode({'token': token})}"


# -- the messages ------------------------------------------------------------------------------------------------


def confirm_email(to: str, link: str, hours: int) -> Outgoing:
    text = (
        "Someone (hopefully you) asked to use this address for an EyeVsAI account.\n\n"
        f"Confirm it within {hours} hours by opening:\n{link}\n\n"
        "If it was not you, ignore this mail: the address is not used until it is confirmed.\n"
    )
    return Outgoing(to, "Confirm your email for EyeVsAI", text, "confirm_email")


def already_registered(to: str) -> Outgoing:
    text = (
        "Someone (hopefully you) asked to use this address for an EyeVsAI account, but it already belongs to "
        "one.\n\nIf that was you, sign in with this email instead; if you forgot the password, choose "
        "'Forgot password' in the game to get a reset link.\n\nIf it was not you, ignore this mail: nothing "
        "changed.\n"
    )
    return Outgoing(to, "You already have an EyeVsAI account", text, "already_registered")


def reset_password(to: str, link: str, minutes: int) -> Outgoing:
    text = (
        "Someone (hopefully you) asked to reset the password of the EyeVsAI account with this email.\n\n"
        f"Choose a new password within {minutes} minutes at:\n{link}\n\n"
        "Resetting signs the account out on every device. If it was not you, ignore this mail.\n"
    )
    return Outgoing(to, "Reset your EyeVsAI password", text, "reset_password")


def confirm_deletion(to: str, link: str, minutes: int) -> Outgoing:
    text = (
        "Someone signed in to your EyeVsAI account asked to delete it, with its games and leaderboard places.\n\n"
        f"To delete it for good, open this link within {minutes} minutes and confirm:\n{link}\n\n"
        "If it was not you, ignore this mail and change your password: nothing is deleted without the link.\n"
    )
    return Outgoing(to, "Confirm deleting your EyeVsAI account", text, "confirm_deletion")
