"""What can go wrong talking to the sync server, as errors the UI shows in plain words."""

from __future__ import annotations

from classifiers.errors import EyeVsAIError


class OnlineError(EyeVsAIError):
    """A server call that did not succeed; `is_transient` says whether trying again later may help."""

    is_transient = False


class ServerUnreachable(OnlineError):
    """No answer (network down, DNS, timeout), or the server is overloaded or failing (5xx, 429)."""

    is_transient = True

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class SignInRequired(OnlineError):
    """No sign-in on this computer, or the server no longer accepts it (expired, revoked)."""


class ServerRefused(OnlineError):
    """The server answered with a 4xx: the request itself is wrong or not allowed; retrying will not help."""

    def __init__(self, status: int, detail: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.extra: dict = {}  # other fields of the answer (a 409 of a ranked start names the open session)


class SignInFailed(OnlineError):
    """A browser sign-in that did not finish: cancelled, timed out, refused by the provider, or tampered with."""
