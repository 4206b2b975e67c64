"""What the contract-test proxy adds to an exchange, beside the mock alone in the same run:

    python -m bench.proxy --size 10000 --seconds 5

Starts the mock on a fresh database, then ``prospect-mock proxy`` in front of it, and drives
retrieve and update with wrk at each, one connection (the latency the proxy adds, p50 and
p99) and 16 (the throughput).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import phases, servers, targets
from .load import run_wrk
from .results import LoadResult

OPERATIONS = ("retrieve", "update")
CONNECTIONS = (1, 16)


@click.command()
@click.option("--size", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--seconds", default=5, show_default=True, type=click.IntRange(1))
def main(size: int, seconds: int) -> None:
    """Measure the proxy in front of the mock against the mock alone."""
    table = Table(title=f"The proxy in front of the mock ({size:,} prospects, wrk)")
    for column in ("operation", "connections", "mock p50 / p99", "proxy p50 / p99"):
        table.add_column(column, justify="right")
    for column in ("p50 added", "mock req/s", "proxy req/s", "proxy / mock"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as scratch:
        workdir = Path(scratch)
        database = workdir / "prospect-mock.json"
        servers.prepare_database(database, size)
        with servers.mock(database, workdir) as mock, servers.proxy(mock.url, workdir) as proxy:
            mock.wait_until_ready(120)
            proxy.wait_until_ready(60)
            aimed = targets.fetch(mock.port)
            for name in OPERATIONS:
                phase = phases.build(name, aimed, [])
                for connections in CONNECTIONS:
                    alone = _checked(run_wrk(mock.url, phase, seconds, connections))
                    through = _checked(run_wrk(proxy.url, phase, seconds, connections))
                    table.add_row(
                        name,
                        str(connections),
                        f"{alone.p50_ms:.2f} / {alone.p99_ms:.2f} ms",
                        f"{through.p50_ms:.2f} / {through.p99_ms:.2f} ms",
                        f"{through.p50_ms - alone.p50_ms:.2f} ms",
                        f"{alone.requests_per_s:,.0f}",
                        f"{through.requests_per_s:,.0f}",
                        f"{through.requests_per_s / alone.requests_per_s:.2f}x",
                    )
    Console().print(table)


def _checked(result: LoadResult) -> LoadResult:
    if result.errors:
        raise click.ClickException(f"{result.errors} requests failed: {result.describe_errors()}")
    return result


if __name__ == "__main__":
    main()
