"""What a new workspace costs, beside what resetting the default data to the same seed costs
in the same run (both write one snapshot of the same records):

    python -m bench.workspaces --sizes 35,10000 --rounds 20

For each size, starts the mock seeded with that many prospects (35: the fixtures; more:
``--seed-count``), then times ``PUT /__admin/workspaces/NAME`` (a new workspace, seeded),
``DELETE`` of it, and ``POST /__admin/reset`` of the default workspace, one at a time, and
measures the server's memory before and after holding ``--rounds`` new workspaces."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click
import httpx
from rich.console import Console
from rich.table import Table

from . import api, servers

FIXTURES = 35
COLUMNS = ("seeded prospects", "create", "delete", "reset default (baseline)", "create / reset")


@click.command()
@click.option("--sizes", default="35,10000", show_default=True, help="Seeded prospects.")
@click.option("--rounds", default=20, show_default=True, type=click.IntRange(1, 98))
def main(sizes: str, rounds: int) -> None:
    """Time creating a workspace against resetting the default data."""
    table = Table(title=f"A new workspace, median of {rounds} (one at a time)")
    for column in (*COLUMNS, "memory per workspace"):
        table.add_column(column, justify="right")
    for size in (int(size) for size in sizes.split(",")):
        (create, delete, reset), memory_mb = _measure(size, rounds)
        times = (f"{seconds * 1000:.1f} ms" for seconds in (create, delete, reset))
        table.add_row(f"{size:,}", *times, f"{create / reset:.2f}x", f"{memory_mb:.2f} MB")
    Console().print(table)


def _measure(size: int, rounds: int) -> tuple[list[float], float]:
    options = () if size == FIXTURES else ("--seed-count", str(size), "--seed", "1")
    headers = {"Authorization": api.AUTHORIZATION}
    with (
        tempfile.TemporaryDirectory(prefix="bench-workspaces-") as scratch,
        servers.mock(Path(scratch), None, *options) as server,
        httpx.Client(base_url=server.url, headers=headers) as http,
    ):
        server.wait_until_ready(300)
        _timed(http.put, "/__admin/workspaces/warm-up", 201)  # the seed is made once
        _timed(http.delete, "/__admin/workspaces/warm-up", 200)
        paths = [f"/__admin/workspaces/bench-{n}" for n in range(rounds)]
        before = server.memory().rss_mb
        create = [_timed(http.put, path, 201) for path in paths]
        per_workspace = (server.memory().rss_mb - before) / rounds
        delete = [_timed(http.delete, path, 200) for path in paths]
        reset = [_timed(http.post, "/__admin/reset", 200) for _ in paths]
    return [statistics.median(times) for times in (create, delete, reset)], per_workspace


def _timed(send: Callable[[str], httpx.Response], path: str, status: int) -> float:
    started = time.perf_counter()
    response = send(path)
    if response.status_code != status:
        raise click.ClickException(f"{path}: {response.status_code} {response.text}")
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
