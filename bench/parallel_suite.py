"""What pytest-xdist buys a suite that uses the pytest plugin, and how many servers it costs:

    python -m bench.parallel_suite --tests 40 --delay-ms 1000 --workers 4

Writes a suite of ``--tests`` tests, each waiting ``--delay-ms`` on a slow answer in its own
workspace (a ``delay_ms`` scenario, as a test of a spinner does), and runs it with this
environment's pytest, serially and then with ``-n WORKERS``, counting the ``prospect-mock
serve`` processes working in the suite's folder (seen in /proc every 20 ms; a server lives for
a whole run). Target: the parallel run at least 2x faster, with one server. Beside them, what
starting the workers costs here: one empty test with ``-n WORKERS``, without the plugin. That
cost is xdist's, and bounds the ratio: with 500 ms waits it is half the parallel run here
(1.84-1.99x measured), with the default 1 s waits a third (2.6x)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
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
EMPTY = "def test_nothing():\n    pass\n"
TARGET_SPEED_UP = 2.0
WATCH_INTERVAL_S = 0.02
RUN_TIMEOUT_S = 900


@click.command()
@click.option("--tests", default=40, show_default=True, type=click.IntRange(1))
@click.option("--delay-ms", default=1000, show_default=True, type=click.IntRange(0, 30000))
@click.option("--workers", default=4, show_default=True, type=click.IntRange(2))
def main(tests: int, delay_ms: int, workers: int) -> None:
    """Time a suite using the plugin's fixtures serially and under pytest-xdist."""
    on_workers = f"-n {workers}"
    with tempfile.TemporaryDirectory(prefix="bench-parallel-suite-") as scratch:
        suite = _suite(Path(scratch) / "suite", SUITE.format(tests=tests, delay_ms=delay_ms))
        empty = _suite(Path(scratch) / "empty", EMPTY)
        runs = {
            "serial": _run(suite),
            on_workers: _run(suite, "-n", str(workers)),
            f"{on_workers}: one empty test, no plugin": _run(
                empty, "-n", str(workers), "-p", "no:prospect_mock"
            ),
        }
    table = Table(title=f"{tests} tests, each waiting {delay_ms} ms on a slow answer")
    for column in ("run", "wall time", "prospect-mock servers started"):
        table.add_column(column, justify="right")
    for name, (wall_s, servers) in runs.items():
        table.add_row(name, f"{wall_s:.1f} s", str(servers))
    console = Console()
    console.print(table)
    speed_up, servers = runs["serial"][0] / runs[on_workers][0], runs[on_workers][1]
    met = speed_up >= TARGET_SPEED_UP and servers == 1
    console.print(
        f"speed-up with {on_workers}: {speed_up:.2f}x, with {servers} server(s) "
        f"(target: at least {TARGET_SPEED_UP:.0f}x, one server): {'met' if met else 'NOT met'}"
    )


def _suite(folder: Path, tests: str) -> Path:
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")  # this repository's settings stay out
    (folder / "test_suite.py").write_text(tests)
    return folder.resolve()


def _run(suite: Path, *args: str) -> tuple[float, int]:
    """The run's wall time, and how many servers it started."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    seen: set[int] = set()
    with (suite / "output.txt").open("w+") as output:  # a file: a pipe could fill and block
        started = time.perf_counter()
        pytest = subprocess.Popen(command, cwd=suite, stdout=output, stderr=subprocess.STDOUT)
        while pytest.poll() is None and time.perf_counter() - started < RUN_TIMEOUT_S:
            seen |= _serve_processes(suite)
            time.sleep(WATCH_INTERVAL_S)
        wall_s = time.perf_counter() - started
        if pytest.poll() != 0:
            pytest.kill()
            output.seek(0)
            raise click.ClickException(f"pytest {' '.join(args)} failed:\n{output.read()}")
    return wall_s, len(seen)


def _serve_processes(folder: Path) -> set[int]:
    """The ids of the ``prospect_mock serve`` processes working in ``folder``."""
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
