"""What pytest-xdist buys a suite that uses the pytest plugin, and how many servers it costs:

    python -m bench.parallel_suite --tests 40 --delay-ms 1000 --workers 4

Writes a suite of ``--tests`` tests in a temporary folder, each waiting ``--delay-ms`` on a
slow answer in its own workspace (a ``delay_ms`` scenario, as a test of a spinner does), and
runs it with this environment's pytest, serially and then with ``-n WORKERS``. For each run,
prints its wall time and how many ``prospect-mock serve`` processes it started: those whose
working folder is the suite's, seen in /proc every 20 ms (a server lives for a whole run).
Target: the parallel run at least 2x faster, with one server. Beside them, what starting the
workers costs on this machine: one empty test with ``-n WORKERS``, without the plugin. That
cost is xdist's, and bounds the ratio: with 500 ms waits it is half the parallel run here
(1.84-1.99x measured), with the default 1 s waits a third (2.6x).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

SUITE = """
import pytest


@pytest.mark.parametrize("n", range({tests}))
def test_waits_for_a_slow_answer(prospect_mock, n):
    prospect_mock.scenario("prospects.list", delay_ms={delay_ms})
    assert prospect_mock.http.get("/api/crm/prospect").status_code == 200
"""
EMPTY = """
def test_nothing():
    pass
"""
TARGET_SPEED_UP = 2.0
WATCH_INTERVAL_S = 0.02
RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class Run:
    name: str
    wall_s: float
    servers: int


@click.command()
@click.option("--tests", default=40, show_default=True, type=click.IntRange(1))
@click.option("--delay-ms", default=1000, show_default=True, type=click.IntRange(0, 30000))
@click.option("--workers", default=4, show_default=True, type=click.IntRange(2))
def main(tests: int, delay_ms: int, workers: int) -> None:
    """Time a suite using the plugin's fixtures serially and under pytest-xdist."""
    on_workers = ("-n", str(workers))
    with tempfile.TemporaryDirectory(prefix="bench-parallel-suite-") as scratch:
        suite = _suite(Path(scratch) / "suite", SUITE.format(tests=tests, delay_ms=delay_ms))
        empty = _suite(Path(scratch) / "empty", EMPTY)
        serial = _run("serial", suite)
        parallel = _run(f"-n {workers}", suite, *on_workers)
        workers_start = _run(
            f"-n {workers}: one empty test, no plugin", empty, *on_workers, "-p", "no:prospect_mock"
        )
    speed_up = serial.wall_s / parallel.wall_s
    table = Table(title=f"{tests} tests, each waiting {delay_ms} ms on a slow answer")
    for column in ("run", "wall time", "prospect-mock servers started"):
        table.add_column(column, justify="right")
    for run in (serial, parallel, workers_start):
        table.add_row(run.name, f"{run.wall_s:.1f} s", str(run.servers))
    console = Console()
    console.print(table)
    met = speed_up >= TARGET_SPEED_UP and parallel.servers == 1
    console.print(
        f"speed-up with -n {workers}: {speed_up:.2f}x, with {parallel.servers} server(s) "
        f"(target: at least {TARGET_SPEED_UP:.0f}x, one server): {'met' if met else 'NOT met'}"
    )


def _suite(folder: Path, tests: str) -> Path:
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")  # this repository's settings stay out
    (folder / "test_suite.py").write_text(tests)
    return folder.resolve()


def _run(name: str, suite: Path, *args: str) -> Run:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    with _serve_processes_seen(suite) as servers:
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=suite, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
        )
        wall_s = time.perf_counter() - started
    if result.returncode != 0:
        raise click.ClickException(f"the {name} run failed:\n{result.stdout}{result.stderr}")
    return Run(name, wall_s, len(servers))


@contextmanager
def _serve_processes_seen(folder: Path) -> Iterator[set[int]]:
    """The ids of every ``prospect_mock serve`` process seen working in ``folder`` while the
    block runs."""
    seen: set[int] = set()
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            seen.update(_serve_processes(folder))
            finished.wait(WATCH_INTERVAL_S)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        finished.set()
        watcher.join()


def _serve_processes(folder: Path) -> set[int]:
    found = set()
    for process in Path("/proc").iterdir():
        try:
            args = (process / "cmdline").read_bytes().split(b"\0")
            working_folder = os.readlink(process / "cwd")
        except OSError:  # not a process, gone, or another user's
            continue
        if b"prospect_mock" in args and b"serve" in args and working_folder == str(folder):
            found.add(int(process.name))
    return found


if __name__ == "__main__":
    main()
