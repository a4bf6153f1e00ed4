"""A small threaded HTTP file server on loopback for download tests: Range requests, cut connections, 404s.

    with FileServer({"/data/a.tar.gz": payload}, cut_after={"/data/a.tar.gz": 1000}) as server:
        url = server.url("/data/a.tar.gz")

`cut_after[path] = n` sends the full headers, then only n body bytes, then closes the socket; `cuts` says for
how many requests (default: every one). Every request's path and Range header is recorded in `requests`.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    path: str
    range: str | None


class FileServer:
    def __init__(
        self,
        files: dict[str, bytes],
        *,
        cut_after: dict[str, int] | None = None,
        cuts: int | None = None,
        honour_range: bool = True,
    ) -> None:
        self.files = dict(files)
        self.cut_after = dict(cut_after or {})
        self.cuts_left = cuts
        self.honour_range = honour_range
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def should_cut(self, path: str) -> int | None:
        """Body bytes to send before cutting this request's connection, or None to send them all."""
        with self._lock:
            if path not in self.cut_after or self.cuts_left == 0:
                return None
            if self.cuts_left is not None:
                self.cuts_left -= 1
            return self.cut_after[path]


def _handler_for(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            server.requests.append(Request(self.path, self.headers.get("Range")))
            body = server.files.get(self.path)
            if body is None:
                self._send(404, b"not found", {"Content-Type": "text/plain"})
                return
            start = _range_start(self.headers.get("Range")) if server.honour_range else None
            if start is not None and start >= len(body):
                self._send(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                return
            status, headers = 200, {"Accept-Ranges": "bytes"}
            if start is not None:
                status = 206
                headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                body = body[start:]
            self._send(status, body, headers, cut=server.should_cut(self.path))

        def _send(self, status: int, body: bytes, headers: dict[str, str], cut: int | None = None) -> None:
            self.send_response(status)
            for key, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(key, value)
            self.end_headers()
            if cut is None:
                self.wfile.write(body)
                return
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # the client sees the body end early
            self.close_connection = True

    return Handler


def _range_start(value: str | None) -> int | None:
    """N of 'bytes=N-' (the only form a resuming client sends), else None."""
    if not value or not value.startswith("bytes=") or not value.endswith("-"):
        return None
    try:
        return int(value[len("bytes=") : -1])
    except ValueError:
        return None


def refused_url(path: str = "/") -> str:
    """A loopback URL on which nothing listens: connecting is refused, as when offline."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
