"""The one error type the services raise for a request they refuse; the API turns it into a short HTTP answer."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the server's rules refuse; `status` is the HTTP status, `detail` the short message shown."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
