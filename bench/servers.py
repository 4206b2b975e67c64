"""The servers under test as child processes: prospect-mock (this environment's, or another
revision's), its proxy, the ceiling, Connexion alone, Prism and WireMock. Each runs in its own
session, so that stopping it reaches every process it started (npx starts a shell and node),
and Ctrl-C in the terminal reaches only the bench, whose cleanup then stops them all."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from . import api, stubs
from .results import Memory

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "openapi.yaml"
PROSPECT_MOCK = Path(sys.executable).with_name("prospect-mock")
"""The console script of the environment the bench runs in."""
PRISM_PACKAGE = "@stoplight/prism-cli@5"
WIREMOCK_PACKAGE = "wiremock@3"
"""npm's package, which bundles WireMock's standalone jar."""
WIREMOCK_JOURNAL_ENTRIES = 500
"""WireMock keeps every request in its journal by default, in memory, so a long run would
measure its heap growing; the mock's journal keeps the last 500, so WireMock keeps as many."""
POLL_INTERVAL_S = 0.01
STOP_GRACE_S = 10.0
LOG_TAIL = 2000


class ServerFailed(RuntimeError):
    """A server exited, or did not answer in time; the message ends with its log."""


Running = AbstractContextManager["Server"]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    spawned_at: float

    @property
    def url(self) -> str:
        return f"http://{api.HOST}:{self.port}"

    def wait_until_ready(self, timeout_s: float) -> float:
        """Seconds from spawning to the first 200 to api.READY_PATH."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise self.failure(f"exited with status {self.process.returncode}")
            with suppress(OSError, http.client.HTTPException):
                remaining = max(deadline - time.perf_counter(), POLL_INTERVAL_S)
                if api.get(self.port, api.READY_PATH, timeout=remaining)[0] == 200:
                    return time.perf_counter() - self.spawned_at
            time.sleep(POLL_INTERVAL_S)
        raise self.failure(f"did not answer {api.READY_PATH} within {timeout_s:.0f} s")

    def failure(self, what: str) -> ServerFailed:
        log = self.log_path.read_text(errors="replace")[-LOG_TAIL:]
        return ServerFailed(f"{self.name} {what}. The end of its output:\n{log}")

    def memory(self) -> Memory:
        lines = Path(f"/proc/{self.process.pid}/status").read_text().splitlines()
        status = dict(line.split(":", 1) for line in lines)
        rss, peak = (round(int(status[key].split()[0]) / 1024, 1) for key in ("VmRSS", "VmHWM"))
        return Memory(rss, peak)  # VmHWM is the peak of VmRSS; both in kB


def mock(
    workdir: Path, size: int | None = None, *options: str, executable: Path = PROSPECT_MOCK,
    name: str = "prospect-mock",
) -> Running:  # fmt: skip
    """``executable`` serving ``workdir/prospect-mock.json``; with ``size``, on a database of
    that many generated prospects and their line items, made first (untimed) by the same
    executable, since the file's format may differ between revisions."""
    database = str(workdir / "prospect-mock.json")
    if size is not None:
        reset = [str(executable), "reset", "--db", database, "--seed-count", str(size)]
        completed = subprocess.run([*reset, "--seed", "1"], capture_output=True, text=True)
        if completed.returncode != 0:
            raise ServerFailed(f"{name} reset failed:\n{completed.stdout}{completed.stderr}")
    return running(name, [str(executable), "serve", "--db", database, "--quiet", *options], workdir)


def proxy(upstream: str, workdir: Path) -> Running:
    """``prospect-mock proxy`` in front of ``upstream``, checking every exchange."""
    return running("proxy", [str(PROSPECT_MOCK), "proxy", "--upstream", upstream], workdir)


def app(app: str) -> Callable[[Path], Running]:
    """How to start one of the bench's own apps (``module:attribute``, from the checkout),
    served by uvicorn as the mock is: default loop and HTTP parser, no access log."""
    uvicorn = [sys.executable, "-m", "uvicorn", app, "--host", api.HOST, "--log-level", "warning"]
    return lambda workdir: running(app, [*uvicorn, "--no-access-log"], workdir, cwd=REPO)


def prism(workdir: Path) -> Running:
    # -v error: no log line per request, as the mock runs with --quiet.
    command = ["npx", "--yes", PRISM_PACKAGE, "mock", str(SPEC), "-v", "error"]
    return running("Prism", command, workdir)


def prism_version() -> str:
    return _last_line(["npx", "--yes", PRISM_PACKAGE, "--version"])


def wiremock(workdir: Path) -> Running:
    root = workdir / "wiremock"
    stubs.write_mappings(root)
    command = [
        "java", "-jar", str(wiremock_jar()), "--bind-address", api.HOST,
        "--root-dir", str(root), "--max-request-journal-entries", str(WIREMOCK_JOURNAL_ENTRIES),
        # Quiet, as the mock runs with --quiet; a Content-Length, as every other server sends,
        # rather than WireMock's default chunked encoding.
        "--disable-banner", "--disable-request-logging", "--use-chunked-encoding", "never",
    ]  # fmt: skip
    return running("WireMock", command, workdir)


def wiremock_jar() -> Path:
    """The standalone jar of npm's package, fetched by npx into its cache. Run by ``java -jar``
    rather than by the package's Node wrapper, so that the server is one process."""
    command = ["npx", "--yes", "--package", WIREMOCK_PACKAGE, "--call", "command -v wiremock"]
    found = subprocess.run(command, capture_output=True, text=True).stdout.strip()
    # The command links to the package's index.js; the jar lies in the package's build/.
    jars = sorted((Path(found).resolve().parent / "build").glob("wiremock-standalone-*.jar"))
    if not found or not jars:
        raise ServerFailed(f"npx found no standalone jar in {WIREMOCK_PACKAGE} ({found!r})")
    return jars[-1]


def wiremock_version() -> str:
    return _last_line(["java", "-jar", str(wiremock_jar()), "--version"])


def missing(*programs: str) -> str | None:
    """Why a server needing ``programs`` cannot run here, or None."""
    absent = [program for program in programs if shutil.which(program) is None]
    return f"{' and '.join(absent)} not found" if absent else None


@contextmanager
def running(
    name: str, command: list[str], workdir: Path, cwd: Path | None = None
) -> Iterator[Server]:
    """``command --port PORT`` on a free port, its output to a log in ``workdir``; stopped on
    exit by SIGTERM to its process group (the mock finishes in-flight requests), then SIGKILL."""
    with socket.socket() as probe:
        probe.bind((api.HOST, 0))
        port = int(probe.getsockname()[1])
    log_path = workdir / f"{name.replace(' ', '-')}-{port}.log"
    with log_path.open("wb") as log:
        spawned_at = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=cwd or workdir, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield Server(name, process, port, log_path, spawned_at)
        finally:
            for signal_number in (signal.SIGTERM, signal.SIGKILL):
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal_number)
                with suppress(subprocess.TimeoutExpired):
                    process.wait(STOP_GRACE_S)


def _last_line(command: list[str]) -> str:
    lines = subprocess.run(command, capture_output=True, text=True).stdout.strip().splitlines()
    return lines[-1] if lines else "unknown"
