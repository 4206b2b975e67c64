"""What a new workspace costs, beside what resetting the default data to the same seed costs
in the same run (both write one snapshot of the same records):

    python -m bench.workspaces --sizes 35,10000 --rounds 20

For each size, starts the mock seeded with that many prospects (35: the fixtures; more:
``--seed-count``), then times ``PUT /__admin/workspaces/NAME`` (a new workspace, seeded),
``DELETE`` of it, and ``POST /__admin/reset`` of the default workspace, one at a time, and
measures the server's memory before and after holding ``--rounds`` new workspaces.
"""

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


@click.command()
@click.option("--sizes", default="35,10000", show_default=True, help="Seeded prospects.")
@click.option("--rounds", default=20, show_default=True, type=click.IntRange(1, 98))
def main(sizes: str, rounds: int) -> None:
    """Time creating a workspace against resetting the default data."""
    table = Table(title=f"A new workspace, median of {rounds} (one at a time)")
    for column in ("seeded prospects", "create", "delete", "reset default (baseline)"):
        table.add_column(column, justify="right")
    table.add_column("create / reset", justify="right")
    table.add_column("memory per workspace", justify="right")
    for size in (int(size) for size in sizes.split(",")):
        create, delete, reset, memory_mb = _measure(size, rounds)
        table.add_row(
            f"{size:,}",
            f"{create * 1000:.1f} ms",
            f"{delete * 1000:.1f} ms",
            f"{reset * 1000:.1f} ms",
            f"{create / reset:.2f}x",
            f"{memory_mb:.2f} MB",
        )
    Console().print(table)


def _measure(size: int, rounds: int) -> tuple[float, float, float, float]:
    options = () if size == FIXTURES else ("--seed-count", str(size), "--seed", "1")
    with tempfile.TemporaryDirectory(prefix="bench-workspaces-") as scratch:
        workdir = Path(scratch)
        with (
            servers.mock(workdir / "prospect-mock.json", workdir, *options) as server,
            httpx.Client(base_url=server.url, headers={"Authorization": api.AUTHORIZATION}) as http,
        ):
            server.wait_until_ready(300)
            _expect(http.put("/__admin/workspaces/warm-up"), 201)  # the seed is made once
            _expect(http.delete("/__admin/workspaces/warm-up"), 200)
            names = [f"bench-{n}" for n in range(rounds)]
            before = server.memory().rss_mb
            create = [_timed(http.put, f"/__admin/workspaces/{name}", 201) for name in names]
            per_workspace = (server.memory().rss_mb - before) / rounds
            delete = [_timed(http.delete, f"/__admin/workspaces/{name}", 200) for name in names]
            reset = [_timed(http.post, "/__admin/reset", 200) for _ in names]
            return (
                statistics.median(create),
                statistics.median(delete),
                statistics.median(reset),
                per_workspace,
            )


def _timed(send: Callable[[str], httpx.Response], path: str, status: int) -> float:
    started = time.perf_counter()
    _expect(send(path), status)
    return time.perf_counter() - started


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise click.ClickException(
            f"{response.request.url}: {response.status_code} {response.text}"
        )
    return response


if __name__ == "__main__":
    main()
