"""Accounts and their tokens: create, authenticate, upgrade guests, rotate and revoke refresh tokens.

Data functions take the SQLAlchemy session as a keyword argument and commit what they change. `users.email` only
ever holds a confirmed address (sync_server.account_tokens confirms them); an address waiting for confirmation
lives with its mailed token.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from sync_server import leaderboards
from sync_server.errors import ServiceError
from sync_server.models import AccountToken, OAuthIdentity, RefreshToken, User, utcnow
from sync_server.schemas.accounts import TokenPair, UserPublic
from sync_server.security import AccessTokens, Passwords, new_opaque_token, token_hash


class AccountError(ServiceError):
    """A request the account rules refuse; `status` is the HTTP status the API answers with."""


# Also the answer for an address not confirmed yet: telling those apart would tell which addresses have accounts.
INVALID_CREDENTIALS = AccountError(401, "Incorrect email or password")
INVALID_REFRESH = AccountError(401, "Invalid refresh token")
VERIFY_EMAIL = "verify_email"  # the purpose of the mailed token that carries an address to confirm


def guest_name() -> str:
    return f"Guest-{secrets.token_hex(3).upper()}"


def user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.public_id,
        display_name=user.display_name,
        email=user.email or pending_email(user),
        email_verified=user.email is not None,
        is_guest=user.is_guest,
        providers=sorted({identity.provider for identity in user.identities}),
        created_at=user.created_at,
    )


def pending_email(user: User) -> str | None:
    """The address the account asked for and has not confirmed (guests have none: skip the query)."""
    session = object_session(user)
    if user.is_guest or session is None:
        return None
    return session.scalar(
        select(AccountToken.email)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == VERIFY_EMAIL, AccountToken.used_at.is_(None))
        .order_by(AccountToken.id.desc())
        .limit(1)
    )


def user_by_public_id(*, session: Session, public_id: str) -> User | None:
    return session.scalar(select(User).where(User.public_id == public_id))


def create_user(
    *,
    session: Session,
    display_name: str,
    email: str | None = None,
    password_hash: str | None = None,
    is_guest: bool = False,
) -> User:
    """A new account (flushed, not committed).

    Raises:
        AccountError: 409 when the email is taken.
    """
    user = User(
        public_id=str(uuid.uuid4()),
        email=email,
        password_hash=password_hash,
        display_name=display_name,
        is_guest=is_guest,
    )
    session.add(user)
    flush_unique_email(session)
    return user


def flush_unique_email(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise AccountError(409, "Email already registered") from exc


def email_taken(*, session: Session, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email)) is not None


def authenticate(*, session: Session, passwords: Passwords, email: str, password: str) -> User:
    """The active account with this email and password.

    Raises:
        AccountError: 401, the same message (and about the same time) whether the email or the password is wrong.
    """
    user = session.scalar(select(User).where(User.email == email))
    stored = user.password_hash if user is not None and user.is_active else None
    session.commit()  # argon2 runs with no transaction open: no lock or connection is held meanwhile
    if not passwords.verify(stored, password) or user is None:
        raise INVALID_CREDENTIALS
    if passwords.needs_rehash(user.password_hash):  # cost raised since this hash was made
        user.password_hash = passwords.hash(password)
        session.commit()
    return user


def issue_tokens(
    *,
    session: Session,
    user: User,
    tokens: AccessTokens,
    refresh_days: int,
    family: str | None = None,
    now: dt.datetime | None = None,
) -> TokenPair:
    """A new access token and refresh token (a new family unless `family` continues a rotation); commits."""
    now = now or utcnow()
    refresh = new_opaque_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family=family or str(uuid.uuid4()),
            token_hash=token_hash(refresh),
            created_at=now,
            expires_at=now + dt.timedelta(days=refresh_days),
        )
    )
    session.commit()
    access, lifetime = tokens.issue(user.public_id, now=now)
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=lifetime, user=user_public(user))


def rotate_refresh_token(
    *, session: Session, refresh_token: str, tokens: AccessTokens, refresh_days: int, now: dt.datetime | None = None
) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is spent.

    A spent token presented again is accepted once more while the pair it was exchanged for has never been used:
    the client never received that pair (its response was lost, or the game was killed before storing it). The
    unused successor is revoked and a new pair issued, so exactly one chain stays alive.

    Otherwise a spent or revoked token coming back means it was copied: the whole family (that sign-in on every
    device that shares it) is revoked, so both the thief and the owner must sign in again. This includes the
    successor revoked above when it turns up after all.

    Raises:
        AccountError: 401 for unknown, expired, revoked or reused tokens.
    """
    now = now or utcnow()
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(refresh_token)))
    if stored is None:
        raise INVALID_REFRESH
    if stored.revoked_at is not None:
        revoke_family(session=session, family=stored.family, now=now)  # a no-op after a logout
        raise INVALID_REFRESH
    user = session.get(User, stored.user_id)
    if stored.expires_at <= now or user is None or not user.is_active:
        raise INVALID_REFRESH
    # Spend the token atomically: of two concurrent refreshes with the same token exactly one spends it; the
    # other takes the lost-response path below.
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1 and not _replace_unused_successor(session=session, spent=stored, now=now):
        revoke_family(session=session, family=stored.family, now=now)
        raise INVALID_REFRESH
    return issue_tokens(
        session=session, user=user, tokens=tokens, refresh_days=refresh_days, family=stored.family, now=now
    )


def _replace_unused_successor(*, session: Session, spent: RefreshToken, now: dt.datetime) -> bool:
    """Revoke the token `spent` was exchanged for if it is the family's newest and never used; return whether."""
    # The live chain's two newest: replaced successors (revoked) drop out, so a retry of a retry still matches.
    live = session.scalars(
        select(RefreshToken)
        .where(RefreshToken.family == spent.family, RefreshToken.revoked_at.is_(None))
        .order_by(RefreshToken.id.desc())
        .limit(2)
    ).all()
    if len(live) < 2 or live[1].id != spent.id:  # `spent` is the newest, or its successor was used already
        return False
    newest = live[0]
    replaced = session.execute(  # atomic, like spending: one of two concurrent retries wins
        update(RefreshToken)
        .where(RefreshToken.id == newest.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return replaced.rowcount == 1


def revoke_family(*, session: Session, family: str, now: dt.datetime | None = None) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    session.commit()


def logout(*, session: Session, refresh_token: str) -> None:
    """Revoke the sign-in that `refresh_token` belongs to (unknown tokens are ignored: logging out is idempotent)."""
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash(refresh_token)))
    if stored is not None:
        revoke_family(session=session, family=stored.family)


def logout_everywhere(*, session: Session, user: User) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()


def upgrade_guest(*, session: Session, user: User, password_hash: str, display_name: str | None) -> User:
    """Give a guest account a password, keeping its id and therefore its history; commits.

    The email comes with `account_tokens.request_email`: it signs in once confirmed.

    Raises:
        AccountError: 409 if the account is not a guest.
    """
    if not user.is_guest:
        raise AccountError(409, "Only guest accounts can be upgraded")
    user.password_hash, user.is_guest = password_hash, False
    if display_name:
        _rename(session, user, display_name)
    session.commit()
    return user


def update_user(
    *,
    session: Session,
    passwords: Passwords,
    user: User,
    display_name: str | None,
    email: str | None,
    new_password: str | None,
    current_password: str | None,
) -> User:
    """Change the display name, and (with the current password) the password; check the password for an email
    change, which the caller then asks for with `account_tokens.request_email`.

    Changing the password signs out every other device.

    Raises:
        AccountError: 400 for a guest changing credentials, 403 for a wrong current password.
    """
    changes_credentials = email is not None or new_password is not None
    if changes_credentials:
        if user.is_guest or user.password_hash is None:
            raise AccountError(400, "Set an email and password with /auth/upgrade first")
        session.commit()  # argon2 runs with no transaction open: no lock or connection is held meanwhile
        if current_password is None or not passwords.verify(user.password_hash, current_password):
            raise AccountError(403, "Current password is incorrect")
    new_hash = None if new_password is None else passwords.hash(new_password)
    if display_name is not None:
        _rename(session, user, display_name)
    if new_hash is not None:
        user.password_hash = new_hash
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.commit()
    return user


def _rename(session: Session, user: User, display_name: str) -> None:
    """The account's new display name, on its boards too (their cached pages then stop matching)."""
    if display_name != user.display_name:
        user.display_name = display_name
        leaderboards.rename_player(session=session, user_id=user.id, display_name=display_name)


def link_identity(*, session: Session, user: User, provider: str, subject: str, email: str | None) -> OAuthIdentity:
    identity = OAuthIdentity(user_id=user.id, provider=provider, subject=subject, email=email)
    session.add(identity)
    session.flush()
    return identity
