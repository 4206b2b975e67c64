"""The servers under test as child processes: prospect-mock, the Starlette ceiling, Connexion
alone and Prism.

Each runs in its own session, so that stopping it reaches every process it started (npx
starts a shell and node) and Ctrl-C in the terminal reaches only the bench, whose cleanup
then stops them all.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from . import api
from .results import Memory

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "openapi.yaml"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PROSPECT_MOCK = Path(sys.executable).with_name("prospect-mock")
"""The console script of the environment the bench runs in."""
POLL_INTERVAL_S = 0.01
STOP_GRACE_S = 10.0
LOG_TAIL = 2000


class ServerFailed(RuntimeError):
    """A server exited, or did not answer in time; the message ends with its log."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    spawned_at: float
    """time.perf_counter() just before the process was spawned."""

    @property
    def url(self) -> str:
        return f"http://{api.HOST}:{self.port}"

    def wait_until_ready(self, timeout_s: float) -> float:
        """Poll until ``GET /api/crm/prospect?limit=1`` answers 200: seconds since spawning."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise self.failure(f"exited with status {self.process.returncode}")
            try:
                remaining = max(deadline - time.perf_counter(), POLL_INTERVAL_S)
                status, _ = api.get(self.port, api.READY_PATH, timeout=remaining)
            except (OSError, http.client.HTTPException):
                status = None
            if status == 200:
                return time.perf_counter() - self.spawned_at
            time.sleep(POLL_INTERVAL_S)
        raise self.failure(f"did not answer {api.READY_PATH} within {timeout_s:.0f} s")

    def failure(self, what: str) -> ServerFailed:
        log = self.log_path.read_text(errors="replace")[-LOG_TAIL:]
        return ServerFailed(f"{self.name} {what}. The end of its output:\n{log}")

    def memory(self) -> Memory:
        """VmRSS and VmHWM (the peak) of the server process."""
        fields = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        )
        return Memory(rss_mb=_megabytes(fields["VmRSS"]), peak_rss_mb=_megabytes(fields["VmHWM"]))


def prepare_database(path: Path, size: int) -> None:
    """A fresh database of ``size`` generated prospects with their line items (untimed)."""
    command = [PROSPECT_MOCK, "reset", "--db", path, "--seed-count", str(size), "--seed", "1"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise ServerFailed(f"prospect-mock reset failed:\n{completed.stdout}{completed.stderr}")


@contextmanager
def mock(database: Path, workdir: Path, *options: str) -> Iterator[Server]:
    port = free_port()
    command = [PROSPECT_MOCK, "serve", "--db", database, "--port", str(port), "--quiet", *options]
    with _running("prospect-mock", command, port, workdir) as server:
        yield server


@contextmanager
def proxy(upstream: str, workdir: Path) -> Iterator[Server]:
    """``prospect-mock proxy`` in front of ``upstream``, checking every exchange."""
    port = free_port()
    command = [PROSPECT_MOCK, "proxy", "--upstream", upstream, "--port", str(port)]
    with _running("proxy", command, port, workdir) as server:
        yield server


@contextmanager
def reference(name: str, app: str, workdir: Path) -> Iterator[Server]:
    """One of the bench's own apps (``module:attribute``), served by uvicorn as the mock is:
    default loop and HTTP parser, no access log."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", app, "--host", api.HOST, "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with _running(name, command, port, workdir, cwd=REPO) as server:
        yield server


def prism_missing() -> str | None:
    """Why Prism cannot run here, or None."""
    missing = [program for program in ("node", "npx") if shutil.which(program) is None]
    return f"{' and '.join(missing)} not found" if missing else None


@contextmanager
def prism(workdir: Path) -> Iterator[Server]:
    # -v error: no log line per request, as the mock runs with --quiet.
    port = free_port()
    command = ["npx", "--yes", PRISM_PACKAGE, "mock", SPEC, "-p", str(port), "-v", "error"]
    with _running("Prism", command, port, workdir) as server:
        yield server


def prism_version() -> str:
    command = ["npx", "--yes", PRISM_PACKAGE, "--version"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    return completed.stdout.strip() or "unknown"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((api.HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def _running(
    name: str,
    command: list[str | Path],
    port: int,
    workdir: Path,
    cwd: Path | None = None,
) -> Iterator[Server]:
    log_path = workdir / f"{name.replace(' ', '-')}-{port}.log"
    with log_path.open("wb") as log:
        spawned_at = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd or workdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield Server(name, process, port, log_path, spawned_at)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole process group (the mock finishes in-flight requests), then
    SIGKILL to whatever is left of it."""
    _signal_group(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(STOP_GRACE_S)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signal_number: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, signal_number)


def _megabytes(status_value: str) -> float:
    kilobytes = int(status_value.split()[0])
    return round(kilobytes / 1024, 1)
