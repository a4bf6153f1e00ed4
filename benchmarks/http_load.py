"""A lean load generator for the server benchmark: raw HTTP/1.1 keep-alive over asyncio sockets, closed loop.

An httpx client costs about 4 ms of CPU per request (STACK.md), more than the server's reads; on a shared
2-core machine that would measure the client. Here a request is one `write` and one header parse, on uvloop when
it is installed. The CPU time of both sides is measured (this process, and every process of the server's
process group from /proc), so the figures say what each side cost.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


class HttpError(Exception):
    """The server answered something this client does not parse (it expects Content-Length bodies)."""


class Connection:
    """One keep-alive HTTP/1.1 connection; requests on it run one after another."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, host)

    async def request(
        self, method: str, path: str, *, token: str | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status, length = int(raw[9:12]), None
        for line in raw.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length is None:
            raise HttpError(f"{method} {path}: no Content-Length in {raw[:200]!r}")
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        self.writer.close()


@dataclass
class Recorder:
    """Latencies (s) per request kind; an unexpected status counts as failed and keeps the first few bodies."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems: list[str] = field(default_factory=list)

    async def call(
        self, kind: str, connection: Connection, method: str, path: str, *, expect: int = 200, **kwargs: object
    ) -> bytes | None:
        began = time.perf_counter()
        status, body = await connection.request(method, path, **kwargs)  # type: ignore[arg-type]
        self.samples[kind].append(time.perf_counter() - began)
        if status != expect:
            self.failed[kind] += 1
            if len(self.problems) < 5:
                self.problems.append(f"{kind}: HTTP {status} {body[:200]!r}")
            return None
        return body


Job = Callable[[Connection, int], Awaitable[None]]  # (connection, the job's running number)


async def _closed_loop(host: str, port: int, job: Job, concurrency: int, seconds: float) -> float:
    connections = [await Connection.open(host, port) for _ in range(concurrency)]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    counter = iter(range(10**9))

    async def worker(connection: Connection) -> None:
        while loop.time() < deadline:
            await job(connection, next(counter))

    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return time.perf_counter() - began


def run_closed_loop(host: str, port: int, job: Job, *, concurrency: int, seconds: float) -> float:
    """`concurrency` connections each run `job` back to back for `seconds`; returns the wall time."""
    try:
        import uvloop  # lazy: optional (the server extra installs it)

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(_closed_loop(host, port, job, concurrency, seconds))


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _processes() -> Iterator[tuple[str, list[str]]]:
    """(command name, the stat fields after it) of every live process: pgrp is field 2, utime 11, stime 12."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        yield text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()


def _cpu_s(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / _TICK


def group_cpu_s(group: int) -> float:
    """User + system CPU seconds of every live process in a process group (the server and its workers)."""
    return sum(_cpu_s(fields) for _command, fields in _processes() if int(fields[2]) == group)


def named_cpu_s(name: str) -> float:
    """User + system CPU seconds of every live process called `name` (a local database server's backends)."""
    return sum(_cpu_s(fields) for command, fields in _processes() if command == name)
