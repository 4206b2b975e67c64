"""The performance issue's targets, checked against a run's figures."""

from __future__ import annotations

from dataclasses import dataclass

from .phases import LABELS
from .results import BenchRun, LoadResult, percent

SMALL, STARTUP_SIZE, LARGE = 100, 10_000, 100_000
KEEPS_RATE = 0.70
RETRIEVE_SHARE, WRITE_AND_LIST_SHARE = 0.35, 0.25
TIMES_PRISM = 3.0
STARTUP_LIMIT_S = 2.0
PEAK_RSS_LIMIT_MB = 500.0


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None
    """None: this run did not measure it (a size left out, Prism missing)."""


def verdicts(run: BenchRun) -> list[Verdict]:
    return [
        _keeps_rate(run, "retrieve"),
        _keeps_rate(run, "create"),
        _share_of_ceiling(run, "retrieve", RETRIEVE_SHARE),
        _times_prism(run, "retrieve"),
        _share_of_ceiling(run, "list_first", WRITE_AND_LIST_SHARE),
        _share_of_ceiling(run, "create", WRITE_AND_LIST_SHARE),
        _share_of_ceiling(run, "update", WRITE_AND_LIST_SHARE),
        _startup(run),
        _peak_memory(run),
    ]


def _keeps_rate(run: BenchRun, phase: str) -> Verdict:
    target = f"{LABELS[phase]} at {LARGE:,} keeps ≥ {KEEPS_RATE:.0%} of its req/s at {SMALL:,}"
    small, large = run.mock_at(SMALL), run.mock_at(LARGE)
    if small is None or large is None or phase not in small.phases or phase not in large.phases:
        return Verdict(target, f"needs sizes {SMALL:,} and {LARGE:,}", None)
    before, after = small.phases[phase], large.phases[phase]
    kept = after.requests_per_s / before.requests_per_s if before.requests_per_s else 0.0
    measured = f"{percent(kept)} ({after.requests_per_s:,.0f} vs {before.requests_per_s:,.0f})"
    return _judged(target, measured, kept >= KEEPS_RATE, [before, after])


def _share_of_ceiling(run: BenchRun, phase: str, share: float) -> Verdict:
    target = f"{LABELS[phase]} ≥ {share:.0%} of the ceiling at every size"
    measured = [
        (run.share_of_ceiling(phase, mock.phases[phase]), mock.size, mock.phases[phase])
        for mock in run.mocks
        if phase in mock.phases
    ]
    known = [(ratio, size, result) for ratio, size, result in measured if ratio is not None]
    if not known:
        return Verdict(target, "not measured", None)
    worst, size, _ = min(known, key=lambda item: item[0])
    results = [run.ceiling[phase]] + [result for _, _, result in known]
    return _judged(target, f"lowest {percent(worst)} at {size:,}", worst >= share, results)


def _times_prism(run: BenchRun, phase: str) -> Verdict:
    target = f"{LABELS[phase]} ≥ {TIMES_PRISM:g}x Prism at every size"
    if phase not in run.prism:
        return Verdict(target, f"Prism not measured ({run.prism_skipped})", None)
    measured = [
        (run.times_prism(phase, mock.phases[phase]) or 0.0, mock.size, mock.phases[phase])
        for mock in run.mocks
        if phase in mock.phases
    ]
    if not measured:
        return Verdict(target, "not measured", None)
    worst, size, _ = min(measured, key=lambda item: item[0])
    results = [run.prism[phase]] + [result for _, _, result in measured]
    return _judged(target, f"lowest {worst:.2f}x at {size:,}", worst >= TIMES_PRISM, results)


def _startup(run: BenchRun) -> Verdict:
    target = f"start-up < {STARTUP_LIMIT_S:g} s at {STARTUP_SIZE:,}"
    mock = run.mock_at(STARTUP_SIZE)
    if mock is None:
        return Verdict(target, f"needs size {STARTUP_SIZE:,}", None)
    return Verdict(target, f"{mock.startup_s:.2f} s", mock.startup_s < STARTUP_LIMIT_S)


def _peak_memory(run: BenchRun) -> Verdict:
    target = f"peak RSS < {PEAK_RSS_LIMIT_MB:,.0f} MB at {LARGE:,}"
    mock = run.mock_at(LARGE)
    if mock is None:
        return Verdict(target, f"needs size {LARGE:,}", None)
    peak = mock.memory_after_run.peak_rss_mb
    return Verdict(target, f"{peak:,.0f} MB", peak < PEAK_RSS_LIMIT_MB)


def _judged(target: str, measured: str, met: bool, results: list[LoadResult]) -> Verdict:
    # Fast errors are no achievement: a figure from a phase with errors does not pass.
    if any(result.errors for result in results):
        return Verdict(target, f"{measured}, with errors", False)
    return Verdict(target, measured, met)
