"""Where one operation's time goes in prospect-mock, by package: the profile behind the
README's account of the targets the mock misses.

    python -m bench.profile --operation retrieve --size 10000

Starts the mock on a fresh database, drives the operation with wrk, samples the server's
main thread with py-spy meanwhile, and prints the share of samples whose innermost frame is
in each package: the HTTP server and event loop, Starlette, Connexion, JSON Schema
validation, the json module, prospect-mock itself, and the rest of the standard library.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import phases, servers, targets
from .load import run_wrk

PACKAGES = (
    ("prospect_mock/", "prospect-mock (records, storage, its middleware)"),
    ("connexion/", "Connexion (routing, security, validation, handler glue)"),
    ("jsonschema", "JSON Schema validation (jsonschema, referencing)"),
    ("starlette/", "Starlette (requests, responses, CORS, routing)"),
    ("uvicorn/", "uvicorn and the event loop"),
    ("asyncio/", "uvicorn and the event loop"),
    ("json/", "the json module (parsing, encoding)"),
)
OTHER = "the rest (standard library, werkzeug, typing, ...)"
CONNECTIONS = 16
PY_SPY = Path(sys.executable).with_name("py-spy")
"""Installed beside the bench's Python by the bench extra."""


@click.command()
@click.option("--operation", type=click.Choice(phases.PHASES[:-1]), default="retrieve")
@click.option("--size", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--seconds", default=10, show_default=True, type=click.IntRange(2))
def main(operation: str, size: int, seconds: int) -> None:
    """Profile one operation of prospect-mock under load."""
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as scratch:
        workdir = Path(scratch)
        database = workdir / "prospect-mock.json"
        servers.prepare_database(database, size)
        with servers.mock(database, workdir) as server:
            server.wait_until_ready(120)
            phase = phases.build(operation, targets.fetch(server.port), [])
            load = threading.Thread(
                target=run_wrk, args=(server.url, phase, seconds + 2, CONNECTIONS)
            )
            load.start()
            samples = _sample(server.process.pid, seconds, workdir / "profile.txt")
            load.join()
    table = Table(title=f"Where {operation} spends its time ({size:,} prospects, py-spy)")
    table.add_column("package of the innermost frame")
    table.add_column("share", justify="right")
    total = sum(samples.values())
    for package, count in samples.most_common():
        table.add_row(package, f"{count / total:.0%}")
    console.print(table)


def _sample(pid: int, seconds: int, output: Path) -> Counter[str]:
    """py-spy's samples of the main thread, counted by package."""
    command = [
        str(PY_SPY), "record", "--pid", str(pid), "--duration", str(seconds),
        "--rate", "500", "--format", "raw", "--threads", "--output", str(output),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    samples: Counter[str] = Counter()
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if "MainThread" in frames[0]:
            samples[_package(frames[-1])] += int(count)
    return samples


def _package(frame: str) -> str:
    return next((name for marker, name in PACKAGES if marker in frame), OTHER)


if __name__ == "__main__":
    main()
