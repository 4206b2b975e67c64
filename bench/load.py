"""Drive one phase at a server and read back its figures: with wrk (bench/lua/phase.lua) where
it is installed, else with an asyncio client over raw HTTP/1.1 that sends the same requests
and reads the same figures. The asyncio client shares the machine's cores with the server and
tops out far below wrk, so its figures for fast servers (the ceiling above all) are low."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import click
from rich.console import Console

from . import api
from .phases import Phase, Request
from .results import LoadResult

LoadGenerator = Callable[[str, Phase, int, int], LoadResult]
"""(server URL, phase, seconds, connections) to the phase's figures."""
LUA_SCRIPT = Path(__file__).with_name("lua") / "phase.lua"
RESULT_PREFIX = "bench-result "
_CREATED_ID = re.compile(rb'"id"\s*:\s*"([^"]+)"')
"""The first "id" of a created record is its own (as in phase.lua)."""
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def choose_client(client: str, progress: Console) -> str:
    """``wrk`` or ``python``: ``auto`` takes wrk where it is installed."""
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
        if client == "python":
            progress.print("[yellow]wrk not found: using the Python client (apt-get install wrk).")
    elif client == "wrk" and not shutil.which("wrk"):
        raise click.UsageError("wrk is not installed (apt-get install wrk); try --client python")
    return client


def generator(client: str) -> LoadGenerator:
    return run_wrk if client == "wrk" else run_python


def wrk_version() -> str:
    # `wrk -v` prints its version line, then its usage, and exits 1.
    completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return (completed.stdout or completed.stderr).splitlines()[0].strip()


def run_wrk(url: str, phase: Phase, seconds: int, connections: int) -> LoadResult:
    """Send ``phase``'s requests in turn over ``connections`` keep-alive connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="bench-") as requests_file:
        for request in phase.requests:
            requests_file.write(f"{request.method}\t{request.path}\t{request.body or ''}\n")
        requests_file.flush()
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
            "--timeout", f"{api.REQUEST_TIMEOUT_S}s",
            "-H", f"Authorization: {api.AUTHORIZATION}",
            "-s", str(LUA_SCRIPT), url,
            "--", requests_file.name, "once" if phase.once else "cycle",
        ]  # fmt: skip
        cpu_before = _cpu_s(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        cpu_s = _cpu_s(resource.RUSAGE_CHILDREN) - cpu_before
    lines = [line for line in completed.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"wrk failed on {phase.name} (exit {completed.returncode}):\n"
            f"{completed.stdout}{completed.stderr}"
        )
    fields = json.loads(lines[0].removeprefix(RESULT_PREFIX))
    return LoadResult(
        requests=fields["requests"],
        duration_s=fields["duration_us"] / 1e6,
        statuses={int(status): count for status, count in fields["statuses"].items()},
        timeouts=fields["timeouts"],
        socket_errors=fields["socket_errors"],
        p50_ms=fields["p50_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        client_cpu_share=cpu_s / seconds,
        created_ids=fields["created_ids"],
    )


def run_python(url: str, phase: Phase, seconds: int, connections: int) -> LoadResult:
    """As run_wrk, with the asyncio client: one task per connection."""
    address = urlsplit(url)
    load = _Load(address.hostname or api.HOST, address.port or 80, phase)
    cpu_before, started = _cpu_s(resource.RUSAGE_SELF), time.perf_counter()
    try:  # uvloop where installed, as uvicorn picks it for the servers
        from uvloop import new_event_loop as loop_factory
    except ImportError:
        loop_factory = None  # type: ignore[assignment]
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(load.run(seconds, connections))
    cpu_s = _cpu_s(resource.RUSAGE_SELF) - cpu_before
    result.client_cpu_share = cpu_s / (time.perf_counter() - started)
    return result


class _Load:
    def __init__(self, host: str, port: int, phase: Phase) -> None:
        self.host, self.port = host, port
        encoded = [_encode(request, f"{host}:{port}") for request in phase.requests]
        self.pending: Iterator[bytes] = iter(encoded) if phase.once else itertools.cycle(encoded)
        self.latencies_us: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.created_ids: list[str] = []
        self.timeouts = self.socket_errors = 0
        self.ran_out = False
        self.last_response = self.deadline = 0.0

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
        p50_us, p99_us = (_percentile(latencies, share) for share in (0.50, 0.99))
        return LoadResult(
            requests=sum(self.statuses.values()),
            duration_s=ended - started,
            statuses=dict(self.statuses),
            timeouts=self.timeouts,
            socket_errors=self.socket_errors,
            p50_ms=p50_us / 1000,
            p99_ms=p99_us / 1000,
            client_cpu_share=0.0,
            created_ids=self.created_ids,
        )

    async def _client(self) -> None:
        connection: Connection | None = None
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
                    async with asyncio.timeout(api.REQUEST_TIMEOUT_S):
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
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
    if "content-length" not in headers:
        # The servers benched here always send it; anything else counts as a socket error.
        raise ValueError("a response without Content-Length")
    return int(head[0].split(" ", 2)[1]), await reader.readexactly(int(headers["content-length"]))


def _close(connection: Connection | None) -> None:
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


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime
