"""The run as Markdown tables, for the README: req/s with the share of the ceiling for every
server, the mock's latencies, its start-up and memory, and the targets' verdicts."""

from __future__ import annotations

from pathlib import Path

from .phases import LABELS, PHASES
from .results import BenchRun, LoadResult, percent
from .verdicts import verdicts


def write_markdown(run: BenchRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join([_throughput(run), _latency(run), _memory(run), _targets(run)]))


def _throughput(run: BenchRun) -> str:
    servers = [("ceiling", run.ceiling), ("Connexion alone", run.connexion)]
    if run.prism:
        servers.append(("Prism", run.prism))
    servers += [(f"mock, {mock.size:,}", mock.phases) for mock in run.mocks]
    rows = [["req/s (share of the ceiling)", *(name for name, _ in servers)]]
    for phase in PHASES:
        cells = [LABELS[phase]]
        for name, results in servers:
            result = results.get(phase)
            cells.append(_rate(run, phase, result, show_share=name != "ceiling"))
        rows.append(cells)
    return _table(rows)


def _rate(run: BenchRun, phase: str, result: LoadResult | None, *, show_share: bool) -> str:
    if result is None:
        return ""
    share = run.share_of_ceiling(phase, result) if show_share else None
    errors = f", **{result.errors:,} errors**" if result.errors else ""
    return f"{result.requests_per_s:,.0f}" + (f" ({percent(share)})" if share else "") + errors


def _latency(run: BenchRun) -> str:
    rows = [["p50 / p99 ms", *(f"mock, {mock.size:,}" for mock in run.mocks)]]
    for phase in PHASES:
        cells = [LABELS[phase]]
        for mock in run.mocks:
            result = mock.phases.get(phase)
            cells.append(f"{result.p50_ms:.1f} / {result.p99_ms:.1f}" if result else "")
        rows.append(cells)
    return _table(rows)


def _memory(run: BenchRun) -> str:
    rows = [["prospects", "start-up", "RSS at start", "RSS after the run", "peak RSS"]]
    for mock in run.mocks:
        rows.append(
            [
                f"{mock.size:,}",
                f"{mock.startup_s:.2f} s",
                f"{mock.memory_after_start.rss_mb:,.0f} MB",
                f"{mock.memory_after_run.rss_mb:,.0f} MB",
                f"{mock.memory_after_run.peak_rss_mb:,.0f} MB",
            ]
        )
    return _table(rows)


def _targets(run: BenchRun) -> str:
    mark = {True: "met", False: "**missed**", None: "not measured"}
    rows = [["target", "measured", "verdict"]]
    rows += [[v.target, v.measured, mark[v.passed]] for v in verdicts(run)]
    return _table(rows)


def _table(rows: list[list[str]]) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)
