"""Account flows that go through the player's mailbox: confirm an email, reset a password, delete the account.

Each flow mails a one-time token: random, kept only as its SHA-256, spent by its first use, refused after its
expiry. Functions return the `Outgoing` mail to send and commit what they change; the caller sends the mail after
the commit.

An address becomes an account's sign-in email only when its confirmation comes back. Asking for an address that
another account holds therefore answers exactly like asking for a free one (the holder gets a notice instead of a
link), and nobody can squat an address they cannot read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sync_server import leaderboards, mail
from sync_server.accounts import VERIFY_EMAIL, AccountError, email_taken, flush_unique_email, pending_email
from sync_server.models import AccountToken, RefreshToken, User
from sync_server.security import new_opaque_token, token_hash

RESET_PASSWORD, DELETE_ACCOUNT = "reset_password", "delete_account"
LIFETIMES = {
    VERIFY_EMAIL: dt.timedelta(hours=48),
    RESET_PASSWORD: dt.timedelta(hours=1),
    DELETE_ACCOUNT: dt.timedelta(hours=1),
}
PAGE_ACTIONS = {VERIFY_EMAIL: "verify-email", RESET_PASSWORD: "reset-password", DELETE_ACCOUNT: "delete-account"}
RETENTION = dt.timedelta(days=7)  # spent and expired tokens are deleted after this
INVALID_TOKEN = AccountError(400, "This link is invalid, was used already or has expired. Ask for a new one.")


def _issue(session: Session, user: User, purpose: str, now: dt.datetime, email: str | None = None) -> str:
    """A new token for `user`; earlier unspent tokens of the same purpose stop working (only the newest mail
    counts)."""
    session.execute(delete(AccountToken).where(AccountToken.expires_at < now - RETENTION))
    session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    token = new_opaque_token()
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=token_hash(token),
            email=email,
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def _link(public_url: str, purpose: str, token: str) -> str:
    return mail.page_link(public_url, PAGE_ACTIONS[purpose], token)


def request_email(*, session: Session, user: User, email: str, public_url: str, now: dt.datetime) -> mail.Outgoing:
    """Note `email` as the address `user` asks for; commits. The mail: a confirmation link, or, when another
    account holds the address, a notice to its holder (the caller cannot tell which)."""
    token = _issue(session, user, VERIFY_EMAIL, now, email=email)
    session.commit()
    if email_taken(session=session, email=email):
        return mail.already_registered(email)
    hours = int(LIFETIMES[VERIFY_EMAIL].total_seconds() // 3600)
    return mail.confirm_email(email, _link(public_url, VERIFY_EMAIL, token), hours)


def resend_confirmation(*, session: Session, user: User, public_url: str, now: dt.datetime) -> mail.Outgoing | None:
    """A fresh confirmation for the address the account asked for last; None when none is waiting."""
    email = pending_email(user)
    if email is None:
        return None
    return request_email(session=session, user=user, email=email, public_url=public_url, now=now)


def token_owner(*, session: Session, token: str, purpose: str, now: dt.datetime) -> tuple[User, AccountToken]:
    """The active account a live token belongs to, and the token's row; spends nothing.

    Raises:
        AccountError: 400 for an unknown, spent or expired token, or one of a deactivated account.
    """
    row = session.scalar(
        select(AccountToken).where(AccountToken.token_hash == token_hash(token), AccountToken.purpose == purpose)
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise INVALID_TOKEN
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise INVALID_TOKEN
    return user, row


def _spend(session: Session, row: AccountToken, now: dt.datetime) -> None:
    """Spend the token atomically: of two concurrent uses exactly one gets past this."""
    spent = session.execute(
        update(AccountToken).where(AccountToken.id == row.id, AccountToken.used_at.is_(None)).values(used_at=now)
    )
    if spent.rowcount != 1:
        raise INVALID_TOKEN


def confirm_email(*, session: Session, token: str, now: dt.datetime) -> User:
    """Make the address a confirmation token was mailed to the account's sign-in email; commits.

    Raises:
        AccountError: 400 for a bad token; 409 when another account confirmed the address first.
    """
    user, row = token_owner(session=session, token=token, purpose=VERIFY_EMAIL, now=now)
    _spend(session, row, now)
    if user.email != row.email and email_taken(session=session, email=row.email or ""):
        session.commit()
        raise AccountError(409, "This email already belongs to another account; sign in with it there.")
    user.email = row.email
    flush_unique_email(session)  # a concurrent confirmation of the same address: 409, nothing changed
    session.commit()
    return user


def request_password_reset(*, session: Session, email: str, public_url: str, now: dt.datetime) -> mail.Outgoing | None:
    """A reset link for the active account signing in with `email`; None (nothing to send) for any other
    address. Commits."""
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        return None
    token = _issue(session, user, RESET_PASSWORD, now)
    session.commit()
    minutes = int(LIFETIMES[RESET_PASSWORD].total_seconds() // 60)
    return mail.reset_password(email, _link(public_url, RESET_PASSWORD, token), minutes)


def reset_password(*, session: Session, token: str, password_hash: str, now: dt.datetime) -> User:
    """Set a new password with a reset token and sign the account out everywhere; commits.

    Raises:
        AccountError: 400 for a bad token.
    """
    user, row = token_owner(session=session, token=token, purpose=RESET_PASSWORD, now=now)
    _spend(session, row, now)
    user.password_hash = password_hash
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.commit()
    return user


def request_deletion(*, session: Session, user: User, public_url: str, now: dt.datetime) -> mail.Outgoing | None:
    """The confirmation mail for deleting an account with a confirmed email; an account without one (a guest, an
    OAuth-only or unconfirmed account) has no mailbox to ask, so it is deleted now and None returned. Commits."""
    if user.email is None:
        delete_user(session=session, user=user)
        return None
    token = _issue(session, user, DELETE_ACCOUNT, now)
    session.commit()
    minutes = int(LIFETIMES[DELETE_ACCOUNT].total_seconds() // 60)
    return mail.confirm_deletion(user.email, _link(public_url, DELETE_ACCOUNT, token), minutes)


def confirm_deletion(*, session: Session, token: str, now: dt.datetime) -> None:
    """Delete the account a deletion token was mailed for; commits.

    Raises:
        AccountError: 400 for a bad token.
    """
    user, row = token_owner(session=session, token=token, purpose=DELETE_ACCOUNT, now=now)
    _spend(session, row, now)
    delete_user(session=session, user=user)


def delete_user(*, session: Session, user: User) -> None:
    """Delete the account with everything that hangs off it (its board places through the boards, so their counts
    stay right; the foreign keys cascade the rest: games, rounds, tokens, identities, flows); commits."""
    leaderboards.remove_player(session=session, user_id=user.id)
    session.execute(delete(User).where(User.id == user.id))
    session.commit()
    session.expunge(user)
