"""ASGI middleware: request ids and access logs, request body size limit, per-IP rate limit, the client IP."""

from __future__ import annotations

import ipaddress
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from sync_server.logs import get_logger, request_id_var
from sync_server.ratelimit import RateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DATABASE_UNAVAILABLE = "Database unavailable; retry in a moment"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_access_log = get_logger("access")
# Generated ids: a random per-process prefix and a counter (16 hex digits). Unique across workers and hosts in
# practice, and unlike a fresh `secrets.token_hex` per request it costs no getrandom call on the hot path.
_ID_PREFIX = secrets.token_hex(4)
_id_counter = itertools.count()


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter) & 0xFFFFFFFF:08x}"


async def send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def client_ip(scope: Scope) -> str:
    """The client's address as the rate limits key it: an IPv4 address, or an IPv6 /64 network.

    `scope["client"]` is the peer, or, behind a proxy listed in FORWARDED_ALLOW_IPS, the client that proxy saw
    (uvicorn's ProxyHeadersMiddleware, added in main.py, rewrites it; nobody else's X-Forwarded-For counts). One
    IPv6 host usually holds a whole /64, so its addresses share one budget. Anything unparsable is "unknown".
    """
    client = scope.get("client")
    if not client:
        return "unknown"
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RequestContextMiddleware:
    """Gives each request an id (the caller's X-Request-ID when sane), echoes it, and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope.get("headers") or () if name == b"x-request-id"), b"")
        given_id = given.decode("latin-1")
        request_id = given_id if _REQUEST_ID.match(given_id) else _new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if _access_log.isEnabledFor(logging.INFO):  # the line is written by the log thread (logs.py)
                _access_log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "client": client_ip(scope),
                    },
                )
            request_id_var.reset(token)


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413 before the app parses anything.

    The body is read here (at most `max_bytes`) and replayed to the app, so a lying or missing Content-Length
    cannot get a larger body through.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        too_large = {"detail": f"Request body too large (limit {self.max_bytes} bytes)"}
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await send_json(send, 413, too_large)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class IpRateLimitMiddleware:
    """Counts every API request against the client IP's budget; over it, 429 with Retry-After.

    The counters are shared through the database; a hit that has to write there runs in a worker thread, and a
    database that cannot count answers 503 (the request would fail on it anyway).
    """

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, limit: int, window_s: int, exempt: tuple[str, ...] = ("/health",)
    ) -> None:
        self.app, self.limiter, self.limit, self.window_s, self.exempt = app, limiter, limit, window_s, exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        # An exemption ending in "/" covers everything under it (the download files); others are exact paths.
        exempt = any(path == e or (e.endswith("/") and path.startswith(e)) for e in self.exempt)
        if scope["type"] == "http" and not exempt:
            key = f"ip:{client_ip(scope)}"
            try:
                wait = await self.limiter.hit_from_loop(key, self.limit, self.window_s)
            except SQLAlchemyError:
                await send_json(send, 503, {"detail": DATABASE_UNAVAILABLE}, [(b"retry-after", b"5")])
                return
            if wait is not None:
                await send_json(
                    send, 429, {"detail": "Too many requests"}, [(b"retry-after", str(int(wait + 0.999)).encode())]
                )
                return
        await self.app(scope, receive, send)
