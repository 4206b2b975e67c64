"""Real ``prospect-mock serve`` processes on free ports, for tests that need real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CLI = str(Path(sys.executable).with_name("prospect-mock"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes] | subprocess.Popen[str]
    db: Path
    log: Path


def start(db: Path, *extra: str) -> Served:
    """Start ``prospect-mock serve`` on ``db`` and wait until it answers."""
    port, log = free_port(), db.with_suffix(".log")
    # The console goes to a file: an unread pipe fills up and blocks the server.
    with log.open("a") as console:
        process = subprocess.Popen(
            [CLI, "serve", "--port", str(port), "--db", str(db), *extra],
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", process, db, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited: {log.read_text()[-2000:]}"
        try:
            httpx.get(f"{served.base}/openapi.json", timeout=1)
            return served
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not start within 30 s")


@contextmanager
def running(db: Path, *extra: str) -> Iterator[Served]:
    served = start(db, *extra)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=60)
