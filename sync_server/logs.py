"""Structured logs: one JSON object per line on stderr, with the request id of the request being served."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
LOGGER_NAME = "sync_server"
# Standard record attributes, and uvicorn's `color_message` (the message again, with terminal colour codes).
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "request_id", ...extra fields}` per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


# What must never reach a log line, even inside a traceback or a driver's error text: email addresses (the local
# part may be JSON-escaped) and password hashes. SQL parameters are kept out at the source (hide_parameters).
_EMAIL = re.compile(r"[^\s\"'<>()\[\]{},;:@\\]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PASSWORD_HASH = re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9+/=,$.-]+")


def scrub(text: str) -> str:
    """`text` with email addresses and argon2 hashes replaced by placeholders."""
    return _PASSWORD_HASH.sub("[password hash]", _EMAIL.sub("[email]", text))


class ScrubbingFormatter(logging.Formatter):
    """Wraps a formatter and scrubs its whole output (message, extra fields, traceback)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return scrub(self.inner.format(record))


def configure_logging(level: str = "INFO", *, as_json: bool = True) -> None:
    """Route the server's and uvicorn's loggers to one stderr handler (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        ScrubbingFormatter(JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    )
    for name in (LOGGER_NAME, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # Requests are logged by our middleware with more detail; uvicorn's access log would double them.
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
