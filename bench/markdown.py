"""The run as Markdown tables, for the README: req/s with the share of the ceiling for every
server, this tree beside the ``--against`` revision, the mock beside the same handlers without
Connexion (the prototype), the mock's latencies, its start-up and memory, and the targets'
verdicts."""

from __future__ import annotations

from pathlib import Path

from .phases import LABELS, PHASES
from .results import PROTOTYPE, BenchRun, LoadResult, percent
from .verdicts import verdicts


def write_markdown(run: BenchRun, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = [_throughput(run)]
    if run.against is not None:
        tables.append(_against(run, run.against.revision))
    if run.prototype:
        tables.append(_prototype(run))
    tables += [_latency(run), _memory(run), _targets(run)]
    path.write_text("\n\n".join(tables))


def _throughput(run: BenchRun) -> str:
    servers = [("ceiling", run.ceiling), ("Connexion alone", run.connexion)]
    if run.prism:
        servers.append(("Prism", run.prism))
    if run.wiremock:
        servers.append(("WireMock", run.wiremock))
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


def _against(run: BenchRun, revision: str) -> str:
    rows = [
        [
            f"req/s, this tree vs {revision}", "prospects", revision, "this tree",
            f"tree / {revision}", f"p99 ms, {revision}", "p99 ms, this tree",
        ]
    ]  # fmt: skip
    for phase in PHASES:
        for size, old, tree in run.against_rows(phase):
            ratio = run.times_against(size, phase)
            rows.append(
                [
                    LABELS[phase],
                    f"{size:,}",
                    _rate(run, phase, old, show_share=False),
                    _rate(run, phase, tree, show_share=False),
                    "" if ratio is None else f"{ratio:.2f}x",
                    f"{old.p99_ms:.1f}" if old else "",
                    f"{tree.p99_ms:.1f}" if tree else "",
                ]
            )
    return _table(rows)


def _prototype(run: BenchRun) -> str:
    """Laid out as the table against the revision: what the same handlers, store and rules
    serve without Connexion's request pipeline, with its ratio to the mock (and to the
    revision, when the run has one)."""
    revision = run.against.revision if run.against else None
    header = [f"req/s, the mock vs the same handlers {PROTOTYPE}", "prospects"]
    header += [*([revision] if revision else []), "mock", "prototype", "prototype / mock"]
    header += [*([f"prototype / {revision}"] if revision else [])]
    rows = [[*header, "p99 ms, mock", "p99 ms, prototype"]]
    for phase in PHASES:
        for size, old, tree, prototype in run.prototype_rows(phase):
            over_mock = run.prototype_times_mock(size, phase)
            over_old = run.prototype_times_against(size, phase)
            rows.append(
                [
                    LABELS[phase],
                    f"{size:,}",
                    *([_rate(run, phase, old, show_share=False)] if revision else []),
                    _rate(run, phase, tree, show_share=False),
                    _rate(run, phase, prototype, show_share=False),
                    _times(over_mock),
                    *([_times(over_old)] if revision else []),
                    f"{tree.p99_ms:.1f}" if tree else "",
                    f"{prototype.p99_ms:.1f}" if prototype else "",
                ]
            )
    return _table(rows)


def _times(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.2f}x"


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
    named = run.against is not None or bool(run.prototype)
    server = ["server"] if named else []
    rows = [[*server, "prospects", "start-up", "RSS at start", "RSS after the run", "peak RSS"]]
    for name, mock in run.every_mock():
        rows.append(
            [
                *([name] if server else []),
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
