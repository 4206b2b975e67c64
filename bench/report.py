"""A run's figures as tables, the same rows on the terminal (Rich) and in Markdown for the
performance page (latest.md), and as JSON for the record (latest.json)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .phases import LABELS, PHASES
from .results import CEILING, BenchRun, LoadResult
from .verdicts import verdicts

Rows = list[list[str]]
"""A table: its header, then its rows."""
BUSY_CLIENT_SHARE = 0.85
"""A load generator busy this share of a phase may have been the limit, not the server."""


def print_report(run: BenchRun, console: Console) -> None:
    for title, (header, *rows) in _tables(run):
        table = Table(title=title)
        for number, column in enumerate(header):
            table.add_column(column, justify="left" if number == 0 else "right")
        for row in rows:
            # Markdown's bold as Rich's.
            table.add_row(*(re.sub(r"\*\*(.+?)\*\*", r"[bold]\1[/bold]", escape(c)) for c in row))
        console.print(table)
    for note in _notes(run):
        console.print(note, markup=False)


def write(run: BenchRun, output: Path) -> None:
    """latest.json and latest.md in ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    (output / "latest.json").write_text(json.dumps(run.to_json(), indent=2) + "\n")
    (output / "latest.md").write_text("\n\n".join(_markdown(rows) for _, rows in _tables(run)))


def _tables(run: BenchRun) -> list[tuple[str, Rows]]:
    settings, revision = run.settings, run.revision
    shape = f"{settings['connections']} connections, {settings['duration_s']} s a phase"
    shape += f" after {settings['warmup_s']} s of warm-up"
    title = f"This tree vs {revision}, in turns in one run"
    against = [] if revision is None else [(title, _against(run, revision))]
    return [
        (f"Throughput ({settings['client']}, {shape})", _throughput(run)),
        *against,
        (f"Latency under load ({settings['connections']} connections)", _latency(run)),
        ("Start-up and memory of prospect-mock", _memory(run)),
        ("Targets", _targets(run)),
    ]


def _by_phase(run: BenchRun, corner: str, cell: Callable[[str, str, LoadResult], str]) -> Rows:
    """A row per phase, a column per server: ``cell(server, phase, result)``."""
    servers = [*run.references.items(), *((f"mock, {m.size:,}", m.phases) for m in run.mocks)]
    rows = [[corner, *(name for name, _ in servers)]]
    for phase in PHASES:
        results = [(name, results.get(phase)) for name, results in servers]
        rows.append([LABELS[phase], *(cell(name, phase, r) if r else "" for name, r in results)])
    return rows


def _throughput(run: BenchRun) -> Rows:
    def cell(server: str, phase: str, result: LoadResult) -> str:
        share = run.share_of_ceiling(phase, result) if server != CEILING else None
        return _rate(result) + (f" ({_percent(share)})" if share else "") + _errors(result)

    return _by_phase(run, "req/s (share of the ceiling)", cell)


def _latency(run: BenchRun) -> Rows:
    return _by_phase(run, "p50 / p99 ms", lambda _, __, r: f"{r.p50_ms:.1f} / {r.p99_ms:.1f}")


def _against(run: BenchRun, revision: str) -> Rows:
    rows = [
        [
            f"req/s, this tree vs {revision}", "prospects", revision, "this tree",
            f"tree / {revision}", f"p99 ms, {revision}", "p99 ms, this tree",
        ]
    ]  # fmt: skip
    for phase in PHASES:
        for size in run.settings["sizes"]:
            old, tree = run.results_at(size, phase)
            if old is None and tree is None:
                continue
            ratio = run.times_against(size, phase)
            rows.append(
                [
                    LABELS[phase],
                    f"{size:,}",
                    _rate(old) + _errors(old) if old else "",
                    _rate(tree) + _errors(tree) if tree else "",
                    "" if ratio is None else f"{ratio:.2f}x",
                    f"{old.p99_ms:.1f}" if old else "",
                    f"{tree.p99_ms:.1f}" if tree else "",
                ]
            )
    return rows


def _memory(run: BenchRun) -> Rows:
    rows = [["server", "prospects", "start-up", "RSS at start", "RSS after the run", "peak RSS"]]
    for mock in run.mocks:
        old = run.mock_at(mock.size, old=True)
        for server, each in [*([(run.revision, old)] if old else []), ("this tree", mock)]:
            rows.append(
                [
                    str(server),
                    f"{each.size:,}",
                    f"{each.startup_s:.2f} s",
                    f"{each.memory_after_start.rss_mb:,.0f} MB",
                    f"{each.memory_after_run.rss_mb:,.0f} MB",
                    f"{each.memory_after_run.peak_rss_mb:,.0f} MB",
                ]
            )
    return rows


def _targets(run: BenchRun) -> Rows:
    mark = {True: "met", False: "**missed**", None: "not measured"}
    rows = [[verdict.target, verdict.measured, mark[verdict.passed]] for verdict in verdicts(run)]
    return [["target", "measured", "verdict"], *rows]


def _notes(run: BenchRun) -> list[str]:
    servers = [*run.references.items(), *((f"mock, {m.size:,}", m.phases) for m in run.mocks)]
    servers += [(f"{run.revision} {mock.size:,}", mock.phases) for mock in run.against]
    notes = []
    for server, results in servers:
        for phase, result in results.items():
            where = f"{server}, {LABELS[phase]}"
            if result.errors:
                notes.append(f"Errors in {where}: {result.describe_errors()}.")
            if result.client_cpu_share > BUSY_CLIENT_SHARE:
                notes.append(
                    f"The load generator was busy {result.client_cpu_share:.0%} of {where}: "
                    "the server may be faster than measured."
                )
    return notes + [f"{name} was not measured: {why}." for name, why in run.skipped.items()]


def _rate(result: LoadResult) -> str:
    return f"{result.requests_per_s:,.0f}"


def _errors(result: LoadResult) -> str:
    return f", **{result.errors:,} errors**" if result.errors else ""


def _percent(share: float) -> str:
    """``42%``; two significant digits (``3.3%``, ``0.016%``) below 10%."""
    return f"{share:.0%}" if share >= 0.095 else f"{share * 100:.2g}%"


def _markdown(rows: Rows) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])
