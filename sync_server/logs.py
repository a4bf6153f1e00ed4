"""Structured logs: one JSON object per line on stderr, with the request id of the request being served.

A request only builds its log record and queues it; a background thread formats and writes the lines, so neither
JSON encoding nor a write to stderr sits on a request's path (an access line costs about 10 µs of the request's time
instead of about 50).
"""

from __future__ import annotations

import atexit
import contextvars
import datetime as dt
import json
import logging
import queue
import re
import sys
from logging.handlers import QueueHandler, QueueListener

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
        request_id = request_id_var.get() or record.__dict__.get("request_id")
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_") and key != "request_id":
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


class _ContextQueueHandler(QueueHandler):
    """Hands records to the log thread with what only the request's thread knows: its request id, its message."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        request_id = request_id_var.get()
        if request_id and "request_id" not in record.__dict__:
            record.request_id = request_id
        record.msg, record.args = record.getMessage(), None  # the arguments may change after this call returns
        return record  # exc_info kept: the formatter on the log thread renders the traceback


_listener: QueueListener | None = None


def _stop_listener() -> None:
    global _listener
    if _listener is not None:
        _listener.stop()  # writes what is still queued
        _listener = None


def flush() -> None:
    """Write every queued log line now (the writer thread is stopped, which drains the queue, and started again)."""
    if _listener is not None:
        _listener.stop()
        _listener.start()


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a line is written, not when the server started (a test's capture
    comes and goes; a daemon may redirect its streams)."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201 - a text stream
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str = "INFO", *, as_json: bool = True) -> None:
    """Route the server's and uvicorn's loggers through one queue to a stderr writer thread (idempotent)."""
    global _listener
    _stop_listener()
    stream = _StderrHandler()
    stream.setFormatter(
        ScrubbingFormatter(JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    )
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = QueueListener(records, stream)
    _listener.start()
    handler = _ContextQueueHandler(records)
    for name in (LOGGER_NAME, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # Requests are logged by our middleware with more detail; uvicorn's access log would double them.
    logging.getLogger("uvicorn.access").disabled = True


atexit.register(_stop_listener)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name}")
