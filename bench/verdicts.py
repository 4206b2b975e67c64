"""The performance targets, checked against a run's figures. Speed is judged against the
``--against`` revision measured in the same run (a ratio from one run holds on a shared
machine, where absolute figures drift) and against Prism; read latency in milliseconds, under
the bench's default load of 16 connections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .phases import LABELS
from .results import PRISM, BenchRun, LoadResult

SMALL, STARTUP_SIZE, LARGE = 100, 10_000, 100_000
COMPARED_SIZES = (SMALL, LARGE)
"""The sizes at which this tree is compared with the revision and with Prism."""
SPEED_TARGETS = {"retrieve": 2.0, "list_first": 2.0, "create": 1.5, "update": 1.5}
"""Times the ``--against`` revision's req/s, by phase."""
READ_P99_LIMIT_MS = 10.0
P99_CONNECTIONS = 16
STARTUP_LIMIT_S = 2.0
PEAK_RSS_LIMIT_MB = 500.0
SIZES = " and ".join(f"{size:,}" for size in COMPARED_SIZES)

Pairs = dict[int, tuple[LoadResult | None, LoadResult | None]]
"""By size: (what this tree is compared with, this tree's result)."""


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None
    """None: this run did not measure it (a size left out, no --against, Prism missing)."""


def verdicts(run: BenchRun) -> list[Verdict]:
    return [
        *(_times_against(run, phase, times) for phase, times in SPEED_TARGETS.items()),
        _ahead_of_prism(run, "create"),
        _read_p99(run, "retrieve"),
        _read_p99(run, "list_first"),
        _startup(run),
        _peak_memory(run),
    ]


def _times_against(run: BenchRun, phase: str, times: float) -> Verdict:
    against = run.revision or "the --against revision"
    target = f"{LABELS[phase]} ≥ {times:g}x {against} at {SIZES}"
    if run.revision is None:
        return Verdict(target, "needs --against", None)
    return _over_sizes(
        target, {size: run.results_at(size, phase) for size in COMPARED_SIZES}, times
    )


def _ahead_of_prism(run: BenchRun, phase: str) -> Verdict:
    # Create only: Prism answers an update with an example and stores nothing.
    target = f"{LABELS[phase]} ahead of Prism at {SIZES} (update: Prism stores nothing)"
    prism = run.references.get(PRISM, {}).get(phase)
    if prism is None:
        return Verdict(target, f"Prism not measured ({run.skipped.get(PRISM)})", None)
    pairs: Pairs = {size: (prism, run.results_at(size, phase)[1]) for size in COMPARED_SIZES}
    return _over_sizes(target, pairs, 1.0, strictly=True)


def _over_sizes(target: str, pairs: Pairs, times: float, *, strictly: bool = False) -> Verdict:
    """Met when this tree's req/s over the other's reaches ``times`` (passes it, ``strictly``)
    at every size. A miss at one size is a miss even if the run left another out; a run that
    left one out cannot pass."""
    measured = {
        size: (tree.requests_per_s / base.requests_per_s, [base, tree])
        for size, (base, tree) in pairs.items()
        if base and tree and base.requests_per_s
    }
    met = all(ratio > times if strictly else ratio >= times for ratio, _ in measured.values())
    figures = [f"{ratio:.2f}x at {size:,}" for size, (ratio, _) in measured.items()]
    missing = [f"{size:,}" for size in pairs if size not in measured]
    if missing:
        figures.append(f"needs size {' and '.join(missing)}")
        if met:
            return Verdict(target, ", ".join(figures), None)
    results = [result for _, pair in measured.values() for result in pair]
    return _judged(target, ", ".join(figures), met, results)


def _read_p99(run: BenchRun, phase: str) -> Verdict:
    target = f"{LABELS[phase]} p99 ≤ {READ_P99_LIMIT_MS:g} ms with {P99_CONNECTIONS} connections"
    target += " at every size"
    connections = run.settings["connections"]
    if connections != P99_CONNECTIONS:
        return Verdict(target, f"needs --connections {P99_CONNECTIONS} (ran {connections})", None)
    measured = [(mock.phases[phase], mock.size) for mock in run.mocks if phase in mock.phases]
    if not measured:
        return Verdict(target, "not measured", None)
    worst, size = max(measured, key=lambda item: item[0].p99_ms)
    met = worst.p99_ms <= READ_P99_LIMIT_MS
    results = [result for result, _ in measured]
    return _judged(target, f"highest {worst.p99_ms:.1f} ms at {size:,}", met, results)


def _startup(run: BenchRun) -> Verdict:
    target = f"start-up < {STARTUP_LIMIT_S:g} s at {STARTUP_SIZE:,}"
    seconds = mock.startup_s if (mock := run.mock_at(STARTUP_SIZE)) else None
    if seconds is None:
        return Verdict(target, f"needs size {STARTUP_SIZE:,}", None)
    return Verdict(target, f"{seconds:.2f} s", seconds < STARTUP_LIMIT_S)


def _peak_memory(run: BenchRun) -> Verdict:
    target = f"peak RSS < {PEAK_RSS_LIMIT_MB:,.0f} MB at {LARGE:,}"
    peak = mock.memory_after_run.peak_rss_mb if (mock := run.mock_at(LARGE)) else None
    if peak is None:
        return Verdict(target, f"needs size {LARGE:,}", None)
    return Verdict(target, f"{peak:,.0f} MB", peak < PEAK_RSS_LIMIT_MB)


def _judged(target: str, measured: str, met: bool, results: Sequence[LoadResult]) -> Verdict:
    # Fast errors are no achievement: a figure from a phase with errors does not pass.
    if any(result.errors for result in results):
        return Verdict(target, f"{measured}, with errors", False)
    return Verdict(target, measured, met)
