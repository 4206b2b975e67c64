"""The load generator where wrk is missing (or with ``--client python``): asyncio over raw
HTTP/1.1, one keep-alive connection per simulated client, with the same phases and the same
result fields as bench/lua/phase.lua. It shares the machine's cores with the server and
tops out far below wrk, so its figures for fast servers (the ceiling above all) are low."""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from . import api
from .load import REQUEST_TIMEOUT_S
from .phases import Phase, Request
from .results import LoadResult

_CREATED_ID = re.compile(rb'"id"\s*:\s*"([^"]+)"')
"""The first "id" of a created record is its own (as in phase.lua)."""


def run_python(url: str, phase: Phase, seconds: int, connections: int) -> LoadResult:
    """Send ``phase``'s requests in turn over ``connections`` keep-alive connections."""
    address = urlsplit(url)
    host, port = address.hostname or api.HOST, address.port or 80
    cpu_before = _own_cpu_s()
    started = time.perf_counter()
    with asyncio.Runner(loop_factory=_fastest_loop()) as runner:
        result = runner.run(_Load(host, port, phase).run(seconds, connections))
    result.client_cpu_share = (_own_cpu_s() - cpu_before) / (time.perf_counter() - started)
    return result


def _fastest_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (as uvicorn picks it for the servers), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


class _Load:
    def __init__(self, host: str, port: int, phase: Phase) -> None:
        self.host, self.port = host, port
        encoded = [_encode(request, f"{host}:{port}") for request in phase.requests]
        self.pending: Iterator[bytes] = iter(encoded) if phase.once else itertools.cycle(encoded)
        self.latencies_us: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.created_ids: list[str] = []
        self.timeouts = 0
        self.socket_errors = 0
        self.ran_out = False
        self.last_response = 0.0
        self.deadline = 0.0

    async def run(self, seconds: int, connections: int) -> LoadResult:
        started = time.perf_counter()
        self.deadline = started + seconds
        clients = [asyncio.create_task(self._client()) for _ in range(connections)]
        # Like wrk, stop at the deadline and leave what is still in flight uncounted.
        _, in_flight = await asyncio.wait(clients, timeout=seconds)
        for client in in_flight:
            client.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        ended = (self.ran_out and self.last_response) or time.perf_counter()
        latencies = sorted(self.latencies_us)
        return LoadResult(
            requests=sum(self.statuses.values()),
            duration_s=ended - started,
            statuses=dict(self.statuses),
            timeouts=self.timeouts,
            socket_errors=self.socket_errors,
            p50_ms=_percentile(latencies, 0.50) / 1000,
            p99_ms=_percentile(latencies, 0.99) / 1000,
            client_cpu_share=0.0,
            created_ids=self.created_ids,
        )

    async def _client(self) -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            # The deadline is checked here too, not only left to cancellation: a response
            # that completes just as the task is cancelled can swallow the cancellation.
            while time.perf_counter() < self.deadline:
                request = next(self.pending, None)
                if request is None:
                    self.ran_out = True
                    return
                try:
                    connection = connection or await asyncio.open_connection(self.host, self.port)
                    sent = time.perf_counter()
                    async with asyncio.timeout(REQUEST_TIMEOUT_S):
                        status, body = await _exchange(*connection, request)
                except TimeoutError:
                    self.timeouts += 1
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    self.socket_errors += 1
                else:
                    self._record(sent, status, body)
                    continue
                # A connection that failed or timed out may be mid-response: start a new one.
                _close(connection)
                connection = None
        finally:
            _close(connection)

    def _record(self, sent: float, status: int, body: bytes) -> None:
        self.last_response = time.perf_counter()
        self.latencies_us.append((self.last_response - sent) * 1e6)
        self.statuses[status] += 1
        created = _CREATED_ID.search(body) if status == 201 else None
        if created:
            self.created_ids.append(created[1].decode())


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    if "content-length" not in headers:
        # The servers benched here always send it; anything else counts as a socket error.
        raise ValueError("a response without Content-Length")
    body = await reader.readexactly(int(headers["content-length"]))
    return status, body


def _close(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if connection is not None:
        connection[1].close()


def _encode(request: Request, host: str) -> bytes:
    lines = [
        f"{request.method} {request.path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: {api.AUTHORIZATION}",
    ]
    body = (request.body or "").encode()
    if request.body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[max(math.ceil(share * len(sorted_values)) - 1, 0)]


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
