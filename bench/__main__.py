"""``python -m bench``: how fast prospect-mock is, next to what one plain Python server
process does on the same machine (docs/performance.md). Measures the references, then
prospect-mock at each size (bench/runner.py); prints the tables and the targets' verdicts and
writes them to bench/results/ (bench/report.py). Run it from the repository's root, in the
environment whose prospect-mock is to be measured."""

from __future__ import annotations

import importlib.util
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from . import revision
from .load import choose_client
from .report import print_report, write
from .runner import Settings, run
from .servers import ServerFailed

RESULTS = Path(__file__).with_name("results")
REPORT_WIDTH = 120
"""The throughput table needs about this many columns; narrower, Rich would cut numbers."""


def _sizes(_context: click.Context, _parameter: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(size) for size in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None
    if any(size < 0 for size in sizes):
        raise click.BadParameter("a size cannot be negative")
    return sizes


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


# fmt: off
@click.command(context_settings={"show_default": True})
@click.option("--sizes", default="100,10000,100000", callback=_sizes,
              help="Prospects in the mock's database, one run per size.")
@click.option("--duration", "duration_s", default=5, type=click.IntRange(1),
              help="Seconds of load per phase.")
@click.option("--warmup", "warmup_s", default=1, type=click.IntRange(0),
              help="Seconds of unrecorded load before each phase (0: none).")
@click.option("--connections", default=16, type=click.IntRange(1), help="Concurrent connections.")
@click.option("--client", type=click.Choice(["auto", "wrk", "python"]), default="auto",
              help="The load generator: wrk where installed (auto), or the asyncio client.")
@click.option("--prism/--no-prism", default=True, help="Also measure Prism, where Node is present.")
@click.option("--wiremock/--no-wiremock", default=True,
              help="Also measure WireMock, where Java (and npx, which fetches it) is present.")
@click.option("--against", metavar="REV",
              help="Also measure this git revision of the repository (installed in a venv of its"
              " own on first use), phase by phase in turn with the working tree.")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=RESULTS,
              show_default=False,
              help="Where latest.json, latest.md and latest.png go.  [default: bench/results]")
def main(output: Path, **options: Any) -> None:
    """Benchmark prospect-mock against a plain Starlette app, Prism and WireMock."""
    progress = Console(stderr=True)
    settings = Settings(**options)
    settings = replace(settings, client=choose_client(settings.client, progress))
    # SIGTERM (as from `timeout`) unwinds like Ctrl-C, so every server started is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        against = settings.against and revision.install(settings.against, progress)
        result = run(settings, progress, against or None)
    except (ServerFailed, revision.RevisionFailed) as failure:
        raise click.ClickException(str(failure)) from None
    except KeyboardInterrupt:
        progress.print("Interrupted; every server the bench started is stopped.")
        sys.exit(130)
    report = Console()
    report.width = max(report.width, REPORT_WIDTH)
    print_report(result, report)
    write(result, output)
    progress.print(f"Wrote {output / 'latest.json'} and latest.md")
    if importlib.util.find_spec("matplotlib") is None:
        progress.print("No chart: matplotlib is missing (pip install -e '.[bench]').", markup=False)
        return
    from .chart import write_chart  # only now: matplotlib takes a second to import

    write_chart(result, output / "latest.png")
    progress.print(f"Wrote {output / 'latest.png'}")
# fmt: on


if __name__ == "__main__":
    main()
