"""What the contract-test proxy adds to an exchange, beside the mock alone in the same run:

    python -m bench.proxy --size 10000 --seconds 5

Starts the mock on a fresh database, then ``prospect-mock proxy`` in front of it, and drives
retrieve and update at each with wrk (or the asyncio client, without wrk), with one connection
(the latency the proxy adds, p50 and p99) and with 16 (the throughput)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import phases, servers
from .load import choose_client, generator

OPERATIONS = ("retrieve", "update")
CONNECTIONS = (1, 16)
COLUMNS = (
    "operation", "connections", "mock p50 / p99", "proxy p50 / p99", "p50 added",
    "mock req/s", "proxy req/s", "proxy / mock",
)  # fmt: skip


@click.command()
@click.option("--size", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--seconds", default=5, show_default=True, type=click.IntRange(1))
def main(size: int, seconds: int) -> None:
    """Measure the proxy in front of the mock against the mock alone."""
    console = Console()
    client = choose_client("auto", console)
    generate_load = generator(client)
    table = Table(title=f"The proxy in front of the mock ({size:,} prospects, {client})")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as scratch:
        workdir = Path(scratch)
        with servers.mock(workdir, size) as mock, servers.proxy(mock.url, workdir) as proxy:
            mock.wait_until_ready(120)
            proxy.wait_until_ready(60)
            targets = phases.sample(mock.port)
            for name in OPERATIONS:
                phase = phases.build(name, targets, [])
                for connections in CONNECTIONS:
                    alone, through = (
                        generate_load(server.url, phase, seconds, connections)
                        for server in (mock, proxy)
                    )
                    if alone.errors or through.errors:
                        errors = f"{alone.describe_errors()}; {through.describe_errors()}"
                        raise click.ClickException(f"{name} failed (mock; proxy): {errors}")
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
    console.print(table)


if __name__ == "__main__":
    main()
