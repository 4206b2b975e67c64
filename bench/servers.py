"""The servers under test as child processes: prospect-mock (this environment's, or another
revision's), its prototype without Connexion, the Starlette ceiling, Connexion alone, Prism
and WireMock.

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

from . import api, stubs
from .results import Memory

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "openapi.yaml"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
WIREMOCK_PACKAGE = "wiremock@3"
"""npm's package, which bundles WireMock's standalone jar."""
WIREMOCK_JOURNAL_ENTRIES = 500
"""WireMock's request journal keeps every request by default, in memory and unbounded, so a
long run would measure its heap growing. The mock's journal keeps the last 500
(prospect_mock/journal.py): WireMock keeps as many, so both do the same bookkeeping."""
PROSPECT_MOCK = Path(sys.executable).with_name("prospect-mock")
"""The console script of the environment the bench runs in."""
PROTOTYPE_NAME = "prototype without Connexion"
"""The prototype's server name, in its log's file name and in its failures."""
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


def prepare_database(path: Path, size: int, executable: Path = PROSPECT_MOCK) -> None:
    """A fresh database of ``size`` generated prospects with their line items (untimed), made
    by ``executable`` (the prospect-mock that will serve it: the file's format may differ
    between revisions)."""
    command = [executable, "reset", "--db", path, "--seed-count", str(size), "--seed", "1"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise ServerFailed(f"{executable} reset failed:\n{completed.stdout}{completed.stderr}")


@contextmanager
def mock(
    database: Path,
    workdir: Path,
    *options: str,
    executable: Path = PROSPECT_MOCK,
    name: str = "prospect-mock",
) -> Iterator[Server]:
    port = free_port()
    command = [executable, "serve", "--db", database, "--port", str(port), "--quiet", *options]
    with _running(name, command, port, workdir) as server:
        yield server


@contextmanager
def without_connexion(database: Path, workdir: Path) -> Iterator[Server]:
    """The mock's handlers and store without Connexion (bench/without_connexion.py), on
    ``database``. Run as a module from the repository's root, where ``bench`` is importable,
    by this environment's Python: the prototype is this tree's code, like the mock beside it."""
    port = free_port()
    command: list[str | Path] = [
        sys.executable, "-m", "bench.without_connexion", "--db", database, "--port", str(port),
    ]  # fmt: skip
    with _running(PROTOTYPE_NAME, command, port, workdir, cwd=REPO) as server:
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


def wiremock_missing() -> str | None:
    """Why WireMock cannot run here, or None (npx fetches its jar, java runs it)."""
    missing = [program for program in ("java", "npx") if shutil.which(program) is None]
    return f"{' and '.join(missing)} not found" if missing else None


@contextmanager
def wiremock(workdir: Path) -> Iterator[Server]:
    """WireMock's standalone jar serving the bench's stubs from ``workdir/wiremock``."""
    root = workdir / "wiremock"
    stubs.write_mappings(root)
    port = free_port()
    command: list[str | Path] = [
        "java", "-jar", wiremock_jar(), "--port", str(port), "--bind-address", api.HOST,
        "--root-dir", root, "--max-request-journal-entries", str(WIREMOCK_JOURNAL_ENTRIES),
        # Quiet, as the mock runs with --quiet; a Content-Length, as every other server sends,
        # rather than WireMock's default chunked encoding.
        "--disable-banner", "--disable-request-logging", "--use-chunked-encoding", "never",
    ]  # fmt: skip
    with _running("WireMock", command, port, workdir) as server:
        yield server


def wiremock_jar() -> Path:
    """The standalone jar that npm's package bundles, fetched by npx into its cache.

    Run by ``java -jar`` rather than through the package's Node wrapper, which spawns java
    and pipes its output through Node: the server is then one process."""
    command = ["npx", "--yes", "--package", WIREMOCK_PACKAGE, "--call", "command -v wiremock"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    found = completed.stdout.strip()
    if completed.returncode != 0 or not found:
        raise ServerFailed(f"npx could not fetch {WIREMOCK_PACKAGE}:\n{completed.stderr}")
    # The command links to the package's index.js; the jar lies in the package's build/.
    jars = sorted((Path(found).resolve().parent / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        raise ServerFailed(f"{WIREMOCK_PACKAGE} holds no standalone jar beside {found}")
    return jars[-1]


def wiremock_version() -> str:
    command = ["java", "-jar", str(wiremock_jar()), "--version"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = completed.stdout.strip().splitlines()
    return lines[-1] if lines else "unknown"


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
