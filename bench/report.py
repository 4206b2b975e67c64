"""A run's figures as Rich tables on the terminal, and as JSON for the record."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .phases import LABELS, PHASES
from .results import PROTOTYPE, AgainstRun, BenchRun, LoadResult, percent
from .verdicts import verdicts

CONNEXION_ALONE = "Connexion alone"
BUSY_CLIENT_SHARE = 0.85
"""A load generator busy this share of a phase may have been the limit, not the server."""


def print_report(run: BenchRun, console: Console) -> None:
    console.print(_throughput_table(run))
    if run.against is not None:
        console.print(_against_table(run, run.against))
    if run.prototype:
        console.print(_prototype_table(run))
    if run.mocks:
        console.print(_startup_table(run))
    console.print(_verdict_table(run))
    for note in _notes(run):
        console.print(note)


def write_json(run: BenchRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run.to_json(), indent=2) + "\n")


def _throughput_table(run: BenchRun) -> Table:
    table = Table(title=f"Throughput ({run.settings['client']}, {_load_shape(run)})")
    table.add_column("operation", no_wrap=True)
    table.add_column("server", no_wrap=True)
    for header in ("req/s", "p50 ms", "p99 ms", "of ceiling"):
        table.add_column(header, justify="right")
    if run.prism:
        table.add_column("vs Prism", justify="right")
    table.add_column("errors", justify="right")
    for phase in PHASES:
        rows: list[tuple[str, LoadResult | None, str]] = [
            ("ceiling", run.ceiling.get(phase), "dim"),
            (CONNEXION_ALONE, run.connexion.get(phase), "dim"),
        ]
        if phase in run.prism:
            rows.append(("Prism", run.prism[phase], "dim"))
        if phase in run.wiremock:
            rows.append(("WireMock", run.wiremock[phase], "dim"))
        rows += [(f"mock {mock.size:,}", mock.phases.get(phase), "") for mock in run.mocks]
        for number, (server, result, style) in enumerate(rows):
            operation = LABELS[phase] if number == 0 else ""
            cells = _figures(run, phase, result, server)
            table.add_row(
                operation, server, *cells, style=style, end_section=number == len(rows) - 1
            )
    return table


def _figures(run: BenchRun, phase: str, result: LoadResult | None, server: str) -> list[str]:
    blanks = 5 if run.prism else 4
    if result is None:
        return ["skipped", *[""] * blanks]
    share = None if server == "ceiling" else run.share_of_ceiling(phase, result)
    cells = [
        f"{result.requests_per_s:,.0f}",
        _milliseconds(result.p50_ms),
        _milliseconds(result.p99_ms),
        "" if share is None else percent(share),
    ]
    if run.prism:
        times = None if server in ("ceiling", "Prism") else run.times_prism(phase, result)
        cells.append("" if times is None else f"{times:.2f}x")
    cells.append(f"[bold red]{result.errors:,} ![/]" if result.errors else "0")
    return cells


def _milliseconds(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _against_table(run: BenchRun, against: AgainstRun) -> Table:
    """Both servers' figures side by side, size by size, with this tree's ratio."""
    revision = against.revision
    table = Table(title=f"req/s and p99 ms, this tree vs {revision} (in turns, in one run)")
    table.add_column("operation", no_wrap=True)
    table.add_column("prospects", justify="right")
    for header in (revision, "this tree", f"tree / {revision}", f"p99 {revision}", "p99 tree"):
        table.add_column(header, justify="right")
    for phase in PHASES:
        rows = run.against_rows(phase)
        for number, (size, old, tree) in enumerate(rows):
            ratio = run.times_against(size, phase)
            table.add_row(
                LABELS[phase] if number == 0 else "",
                f"{size:,}",
                _rate(old),
                _rate(tree),
                "" if ratio is None else f"[bold]{ratio:.2f}x",
                _milliseconds(old.p99_ms) if old else "",
                _milliseconds(tree.p99_ms) if tree else "",
                end_section=number == len(rows) - 1,
            )
    return table


def _prototype_table(run: BenchRun) -> Table:
    """The mock beside the same handlers without Connexion, size by size, with the
    prototype's ratio to it (and to the revision): what Connexion's pipeline costs."""
    revision = run.against.revision if run.against else None
    table = Table(title=f"req/s and p99 ms: the mock vs the same handlers {PROTOTYPE}")
    table.add_column("operation", no_wrap=True)
    table.add_column("prospects", justify="right", no_wrap=True)
    headers = [*([revision] if revision else []), "mock", "proto", "proto / mock"]
    headers += [*([f"proto / {revision}"] if revision else []), "p99 mock", "p99 proto"]
    for header in headers:
        table.add_column(header, justify="right")
    for phase in PHASES:
        rows = run.prototype_rows(phase)
        for number, (size, old, tree, prototype) in enumerate(rows):
            over_mock = run.prototype_times_mock(size, phase)
            over_old = run.prototype_times_against(size, phase)
            table.add_row(
                LABELS[phase] if number == 0 else "",
                f"{size:,}",
                *([_rate(old)] if revision else []),
                _rate(tree),
                _rate(prototype),
                _ratio(over_mock),
                *([_ratio(over_old)] if revision else []),
                _milliseconds(tree.p99_ms) if tree else "",
                _milliseconds(prototype.p99_ms) if prototype else "",
                end_section=number == len(rows) - 1,
            )
    return table


def _ratio(ratio: float | None) -> str:
    return "" if ratio is None else f"[bold]{ratio:.2f}x"


def _rate(result: LoadResult | None) -> str:
    if result is None:
        return "skipped"
    errors = f" [bold red]({result.errors:,} errors)[/]" if result.errors else ""
    return f"{result.requests_per_s:,.0f}{errors}"


def _startup_table(run: BenchRun) -> Table:
    table = Table(title="Start-up and memory of prospect-mock")
    named = run.against is not None or bool(run.prototype)
    if named:
        table.add_column("server", no_wrap=True)
    for header in ("prospects", "start-up s", "RSS at start MB", "RSS after run MB", "peak MB"):
        table.add_column(header, justify="right")
    for server, mock in run.every_mock():
        table.add_row(
            *([server] if named else []),
            f"{mock.size:,}",
            f"{mock.startup_s:.2f}",
            f"{mock.memory_after_start.rss_mb:,.0f}",
            f"{mock.memory_after_run.rss_mb:,.0f}",
            f"{mock.memory_after_run.peak_rss_mb:,.0f}",
        )
    return table


def _verdict_table(run: BenchRun) -> Table:
    table = Table(title="Targets")
    table.add_column("target")
    table.add_column("measured", justify="right")
    table.add_column("verdict", justify="center")
    for verdict in verdicts(run):
        mark = {True: "[bold green]PASS", False: "[bold red]MISS", None: "[dim]-"}
        table.add_row(verdict.target, verdict.measured, mark[verdict.passed])
    return table


def _notes(run: BenchRun) -> list[str]:
    servers = [("ceiling", run.ceiling), (CONNEXION_ALONE, run.connexion), ("Prism", run.prism)]
    servers += [("WireMock", run.wiremock)]
    servers += [(f"mock {mock.size:,}", mock.phases) for mock in run.mocks]
    if run.against is not None:
        name = run.against.revision
        servers += [(f"{name} {mock.size:,}", mock.phases) for mock in run.against.mocks]
    servers += [(f"{PROTOTYPE} {mock.size:,}", mock.phases) for mock in run.prototype]
    notes = []
    for server, results in servers:
        for phase, result in results.items():
            where = f"{server}, {LABELS[phase]}"
            if result.errors:
                notes.append(f"[red]Errors in {where}: {result.describe_errors()}.")
            if result.client_cpu_share > BUSY_CLIENT_SHARE:
                notes.append(
                    f"[yellow]The load generator was busy {result.client_cpu_share:.0%} of "
                    f"{where}: the server may be faster than measured."
                )
    if run.prism_skipped:
        notes.append(f"Prism was not measured: {run.prism_skipped}.")
    if run.wiremock_skipped:
        notes.append(f"WireMock was not measured: {run.wiremock_skipped}.")
    return notes


def _load_shape(run: BenchRun) -> str:
    settings = run.settings
    return (
        f"{settings['connections']} connections, {settings['duration_s']} s per phase "
        f"after {settings['warmup_s']} s of warm-up"
    )
