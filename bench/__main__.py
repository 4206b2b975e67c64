"""``python -m bench``: how fast prospect-mock is, next to what one plain Python server
process does on the same machine.

    make bench                                        # sizes 100, 10,000 and 100,000
    make bench BENCH_ARGS="--against e908b52"         # beside that revision, in the same run
    python -m bench --sizes 100,10000 --duration 3    # a quicker look
    python -m bench --client python --no-prism --no-wiremock   # without wrk, Node or Java

Starts the Starlette ceiling (bench/ceiling.py), Connexion alone, Prism where Node is present,
WireMock where Java is, and prospect-mock on a fresh database of each size (with --against,
that revision's too, installed in a venv of its own: bench/revision.py), beside the same
handlers and store without Connexion (the prototype, bench/without_connexion.py; not with
--no-prototype); drives each through the same phases with wrk (or the Python client); prints
the figures with their ratio to the ceiling (and to the revision, and the prototype's to the
mock) and the performance targets' verdicts; writes
bench/results/latest.json, latest.md (the tables, for the README) and latest.png. Run it from
the repository's root, in the environment whose prospect-mock is to be measured.
"""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path
from types import FrameType

import click
from rich.console import Console

from . import revision
from .load import wrk_path
from .markdown import write_markdown
from .report import print_report, write_json
from .runner import Settings, run
from .servers import ServerFailed

RESULTS = Path(__file__).with_name("results")
REPORT_WIDTH = 100


def _sizes(_context: click.Context, _parameter: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(size) for size in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None
    if any(size < 0 for size in sizes):
        raise click.BadParameter("a size cannot be negative")
    return sizes


def _interrupt(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command()
@click.option(
    "--sizes",
    default="100,10000,100000",
    show_default=True,
    callback=_sizes,
    help="Prospects in the mock's database, one run per size.",
)
@click.option(
    "--duration",
    default=5,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds of load per phase.",
)
@click.option(
    "--warmup",
    default=1,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds of unrecorded load before each phase (0: none).",
)
@click.option(
    "--connections",
    default=16,
    show_default=True,
    type=click.IntRange(1),
    help="Concurrent connections.",
)
@click.option(
    "--client",
    type=click.Choice(["auto", "wrk", "python"]),
    default="auto",
    show_default=True,
    help="The load generator: wrk where installed (auto), or the asyncio client.",
)
@click.option("--prism/--no-prism", default=True, help="Also measure Prism, where Node is present.")
@click.option(
    "--wiremock/--no-wiremock",
    default=True,
    help="Also measure WireMock, where Java (and npx, which fetches it) is present.",
)
@click.option(
    "--against",
    metavar="REV",
    help="Also measure this git revision of the repository (installed in a venv of its own "
    "on first use), phase by phase in turn with the working tree.",
)
@click.option(
    "--prototype/--no-prototype",
    default=True,
    help="Also measure the mock's handlers without Connexion (bench/without_connexion.py) at "
    "each size, in turns with the mock: what Connexion's request pipeline costs.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=RESULTS,
    help="Where latest.json, latest.md and latest.png go.  [default: bench/results]",
)
def main(
    sizes: tuple[int, ...],
    duration: int,
    warmup: int,
    connections: int,
    client: str,
    prism: bool,
    wiremock: bool,
    against: str | None,
    prototype: bool,
    output: Path,
) -> None:
    """Benchmark prospect-mock against a plain Starlette app, Prism and WireMock."""
    progress = Console(stderr=True)
    if client == "auto":
        client = "wrk" if wrk_path() else "python"
        if client == "python":
            progress.print("[yellow]wrk not found: using the Python client (apt-get install wrk).")
    elif client == "wrk" and not wrk_path():
        raise click.UsageError("wrk is not installed (apt-get install wrk); try --client python")
    settings = Settings(
        sizes, duration, warmup, connections, client, prism, wiremock, against, prototype
    )
    # SIGTERM (as from `timeout`) unwinds like Ctrl-C, so every server started is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        installed = None if against is None else revision.install(against, progress)
        result = run(settings, progress, installed)
    except (ServerFailed, revision.RevisionFailed) as failure:
        raise click.ClickException(str(failure)) from None
    except KeyboardInterrupt:
        progress.print("Interrupted; every server the bench started is stopped.")
        sys.exit(130)
    # The throughput table needs about 100 columns; narrower, Rich would cut numbers short.
    report = Console()
    report.width = max(report.width, REPORT_WIDTH)
    print_report(result, report)
    write_json(result, output / "latest.json")
    progress.print(f"Wrote {output / 'latest.json'}")
    write_markdown(result, output / "latest.md")
    progress.print(f"Wrote {output / 'latest.md'}")
    if importlib.util.find_spec("matplotlib") is None:
        missing = "No chart: matplotlib is missing (pip install -e '.[bench]')."
        progress.print(missing, style="yellow", markup=False)
        return
    from .chart import write_chart

    write_chart(result, output / "latest.png")
    progress.print(f"Wrote {output / 'latest.png'}")


if __name__ == "__main__":
    main()
