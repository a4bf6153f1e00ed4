"""Passwords (argon2id), access tokens (short-lived JWT) and opaque secrets stored only as their SHA-256."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sync_server.errors import ServiceError
from sync_server.settings import Argon2Params

T = TypeVar("T")
HASHING_NICENESS = 10  # CPU weight of a hashing thread: about a tenth of a request thread's (Linux CFS)
JWT_ALGORITHM = "HS256"
ACCESS_AUDIENCE = "eyevsai-api"
VERIFIED_TOKENS = 20_000  # access tokens remembered as verified (about 12 MB)


class InvalidTokenError(Exception):
    """An access token that is malformed, forged, expired or of the wrong kind."""


class PasswordHashingBusy(ServiceError):
    """Every hashing slot is taken and the queue is full (or the wait ran out): answered 503 with Retry-After."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(503, "The server is busy; retry in a moment")
        self.retry_after_s = retry_after_s


class Passwords:
    """argon2id hashing with a constant-time failure path for unknown accounts, in a bounded pool of threads.

    Each hash holds `memory_cost_kib` of memory and the CPU for about a quarter of a second, so hashes run on at
    most `max_concurrent` threads of their own, at a lower CPU priority than the threads answering requests (a
    flood of sign-ins then slows sign-ins, not uploads or boards). Up to `max_waiting` more hashes queue, each
    caller waiting at most `wait_s`; past that `PasswordHashingBusy` (503 with Retry-After) is raised at once.
    Callers hash outside any database transaction, so no lock or connection is held meanwhile (see api/deps.py
    `hash_outside_transaction`).
    """

    def __init__(self, params: Argon2Params) -> None:
        self._hasher = PasswordHasher(
            time_cost=params.time_cost, memory_cost=params.memory_cost_kib, parallelism=params.parallelism
        )
        self._pool = ThreadPoolExecutor(
            params.max_concurrent, thread_name_prefix="argon2", initializer=_lower_this_threads_priority
        )
        self._admitted, self._admit_limit = 0, params.max_concurrent + params.max_waiting
        self._admit_lock = threading.Lock()
        self._wait_s = params.wait_s
        # Verifying against this when the account does not exist costs the same as a wrong password, so the
        # response time does not tell whether an email is registered.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def _run(self, work: Callable[[], T]) -> T:
        with self._admit_lock:
            if self._admitted >= self._admit_limit:
                raise PasswordHashingBusy(retry_after_s=1)
            self._admitted += 1
        try:
            future = self._pool.submit(work)
            try:
                return future.result(timeout=self._wait_s)
            except FutureTimeout:
                future.cancel()  # still queued: never runs; already running: its answer is dropped
                raise PasswordHashingBusy(retry_after_s=max(1, math.ceil(self._wait_s))) from None
        finally:
            with self._admit_lock:
                self._admitted -= 1

    def hash(self, password: str) -> str:
        """The argon2id hash of `password`.

        Raises:
            PasswordHashingBusy: too many hashes in flight.
        """
        return self._run(lambda: self._hasher.hash(password))

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when `password` matches; `stored_hash=None` (no such account) runs a dummy check and is False.

        Raises:
            PasswordHashingBusy: too many hashes in flight.
        """
        return self._run(lambda: self._verify(stored_hash, password))

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            if stored_hash is None:
                self._hasher.verify(self._dummy_hash, password)
                return False
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def _lower_this_threads_priority() -> None:
    """Nice the calling thread (Linux: per thread; argon2's lane threads inherit it); elsewhere do nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    except (AttributeError, OSError):
        pass


@dataclass(frozen=True)
class AccessTokens:
    """Signs and checks the JWT access tokens (HS256, audience-bound, expiring).

    A token that verified once is remembered (its subject and expiry, up to VERIFIED_TOKENS of them): a client
    sends the same token with every request for minutes, and checking its signature and claims again cost more
    than a board read. Only the exact token string hits; its expiry is still checked on every use.
    """

    secret: str
    minutes: int
    issuer: str
    _verified: dict[str, tuple[str, float]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def issue(self, user_public_id: str, *, now: dt.datetime | None = None) -> tuple[str, int]:
        """A signed token for the user and its lifetime in seconds."""
        now = now or dt.datetime.now(dt.UTC)
        lifetime = self.minutes * 60
        claims = {
            "sub": user_public_id,
            "iat": now,
            "exp": now + dt.timedelta(seconds=lifetime),
            "iss": self.issuer,
            "aud": ACCESS_AUDIENCE,
            "typ": "access",
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.secret, algorithm=JWT_ALGORITHM), lifetime

    def subject(self, token: str, *, now: dt.datetime | None = None) -> str:
        """The user's public id from a valid token.

        Args:
            now: the server's clock (expiry is checked against it, so tests can move time).

        Raises:
            InvalidTokenError: the token does not verify, has expired, or is not an access token.
        """
        found = self._verified.get(token)
        if found is None:
            found = self._verify(token)
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.clear()  # rarely: a cache of this size holds every active player's token
            self._verified[token] = found
        subject, expires = found
        if expires <= (now or dt.datetime.now(dt.UTC)).timestamp():
            raise InvalidTokenError("expired")
        return subject

    def _verify(self, token: str) -> tuple[str, float]:
        """(subject, expiry as a Unix time) of a token whose signature and claims check out; expiry not checked."""
        try:
            # Expiry is checked by the caller against the server's clock rather than PyJWT's wall clock.
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[JWT_ALGORITHM],
                audience=ACCESS_AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iat"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            raise InvalidTokenError("not an access token")
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise InvalidTokenError("expired")
        return claims["sub"], exp


def new_opaque_token() -> str:
    """A 256-bit URL-safe random token (refresh tokens, OAuth grants, states)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of an opaque token: a stolen database yields no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def s256_challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA-256(verifier)) without padding (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
