"""The pytest plugin as a user's suite runs it: pytest in a project of its own, in this
environment, serially and under pytest-xdist, with the server processes it starts watched
through /proc. tests/test_packaging.py runs it from a wheel in a fresh venv."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        not Path("/proc/self/cwd").exists(), reason="watches processes through /proc"
    ),
]

RUN_TIMEOUT_S = 300

SEEDED_AS_THE_SERVER_IS = """
from pathlib import Path


def test_sees_the_seed(prospect_mock):
    page = prospect_mock.http.get("/api/crm/prospect", params={"limit": 100}).json()
    Path(__file__).with_name("total").write_text(str(page["total"]))
"""

REPORTS_ITS_SERVER = """
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(4))
def test_reports_its_server(prospect_mock, n):
    assert prospect_mock.http.get("/api/crm/prospect").status_code == 200
    worker = os.environ["PYTEST_XDIST_WORKER"]
    Path(__file__).with_name(f"address-{n}").write_text(f"{worker} {prospect_mock.server.url}")


def test_crashes_its_worker():
    os._exit(1)
"""

WAITS_FOR_CTRL_C = """
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(2))
def test_waits(prospect_mock, n):
    Path(__file__).with_name(f"started-{n}").touch()
    time.sleep(120)
"""

USES_IT_OR_NOT = """
def test_uses_the_server(prospect_mock):
    pass


def test_does_not():
    pass
"""


def serve_processes(project: Path) -> set[int]:
    """The ids of the ``prospect_mock serve`` processes running in ``project``'s folder."""
    found = set()
    for process in Path("/proc").iterdir():
        try:
            args = (process / "cmdline").read_bytes().split(b"\0")
            folder = os.readlink(process / "cwd")
        except OSError:  # not a process, or gone, or not ours
            continue
        if b"prospect_mock" in args and b"serve" in args and folder == str(project):
            found.add(int(process.name))
    return found


@contextmanager
def serve_processes_seen(project: Path) -> Iterator[set[int]]:
    """Every ``prospect_mock serve`` process that runs in ``project``'s folder while the
    block runs: a server lives for a whole session, and /proc is read every 20 ms."""
    seen: set[int] = set()
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            seen.update(serve_processes(project))
            finished.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        finished.set()
        watcher.join()


def users_project(folder: Path, tests: str, ini: str = "") -> Path:
    """A project with one test module and a pytest.ini of its own (this repository's
    settings stay out of it)."""
    project = folder.resolve() / "users-project"
    project.mkdir()
    (project / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    (project / "test_app.py").write_text(tests)
    return project


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


def wait_until(condition: Callable[[], bool], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_command_line_serve_options_replace_the_ini_ones(tmp_path: Path) -> None:
    ini = "prospect_mock_serve_args = --seed-count 7 --seed 3"
    project = users_project(tmp_path, SEEDED_AS_THE_SERVER_IS, ini)
    with serve_processes_seen(project) as servers:
        result = run_pytest(project, "--prospect-mock-serve-args=--seed-count 5 --seed 2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "total").read_text() == "5"
    assert len(servers) == 1
    assert serve_processes(project) == set()


def test_under_xdist_one_server_outlives_a_crashed_worker_and_not_the_run(
    tmp_path: Path,
) -> None:
    project = users_project(tmp_path, REPORTS_ITS_SERVER)
    with serve_processes_seen(project) as servers:
        result = run_pytest(project, "-n", "2")
    assert "4 passed" in result.stdout, result.stdout + result.stderr
    assert "worker 'gw" in result.stdout and "crashed" in result.stdout
    reports = [path.read_text().split() for path in project.glob("address-*")]
    assert len({worker for worker, _ in reports}) > 1, "both workers ran tests"
    assert len({url for _, url in reports}) == 1, "and used the same server"
    assert len(servers) == 1
    assert serve_processes(project) == set(), "the server is gone with the run"


def test_ctrl_c_under_xdist_stops_the_server(tmp_path: Path) -> None:
    project = users_project(tmp_path, WAITS_FOR_CTRL_C)
    with serve_processes_seen(project) as servers:
        # A session of its own, so that the SIGINT below reaches it as a terminal's would:
        # every process of its group.
        # With Ctrl-C at its default, as a terminal starts it: a suite run in the background
        # (`make test &`) has SIGINT ignored, which a child would inherit. A handler set here
        # is the default again in the child once it executes.
        interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            run = subprocess.Popen(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"],
                cwd=project,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            signal.signal(signal.SIGINT, interrupt)
        try:
            wait_until(lambda: len(list(project.glob("started-*"))) == 2)
            os.killpg(run.pid, signal.SIGINT)
            run.wait(timeout=60)
        finally:
            run.kill()
    assert len(servers) == 1
    assert serve_processes(project) == set()


def test_a_server_that_cannot_start_errors_the_tests_that_use_it(tmp_path: Path) -> None:
    project = users_project(tmp_path, USES_IT_OR_NOT)
    result = run_pytest(project, "-n", "2", "--prospect-mock-serve-args=--seed-count none")
    assert "1 passed, 1 error" in result.stdout, result.stdout + result.stderr
    assert "prospect-mock did not start" in result.stdout
    assert "Invalid value for '--seed-count'" in result.stdout
    assert "INTERNALERROR" not in result.stdout + result.stderr


def test_collecting_under_xdist_starts_no_server(tmp_path: Path) -> None:
    project = users_project(tmp_path, USES_IT_OR_NOT)
    with serve_processes_seen(project) as servers:
        result = run_pytest(project, "-n", "2", "--collect-only")
    assert result.returncode == 0, result.stdout + result.stderr
    assert servers == set()
