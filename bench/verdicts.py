"""The performance targets, checked against a run's figures.

Speed is judged against the ``--against`` revision measured in the same run (a ratio from
one run holds on a shared machine, where absolute figures drift), and against Prism; read
latency in milliseconds, under the bench's default load of 16 connections.

Every verdict judges the mock. Where the run measured both the revision and the prototype
without Connexion (bench/without_connexion.py), the speed targets get a second line each,
labelled as the prototype's: how far the same handlers reach without Connexion's pipeline,
shown beside the product's verdict, never in place of it nor feeding it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .phases import LABELS
from .results import BenchRun, LoadResult

PROTOTYPE_LABEL = "(prototype without Connexion)"
SMALL, STARTUP_SIZE, LARGE = 100, 10_000, 100_000
COMPARED_SIZES = (SMALL, LARGE)
"""The sizes at which this tree is compared with the revision and with Prism."""
READ_TIMES_AGAINST = 2.0
WRITE_TIMES_AGAINST = 1.5
READ_P99_LIMIT_MS = 10.0
P99_CONNECTIONS = 16
STARTUP_LIMIT_S = 2.0
PEAK_RSS_LIMIT_MB = 500.0


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None
    """None: this run did not measure it (a size left out, no --against, Prism missing)."""


SPEED_TARGETS = (
    ("retrieve", READ_TIMES_AGAINST),
    ("list_first", READ_TIMES_AGAINST),
    ("create", WRITE_TIMES_AGAINST),
    ("update", WRITE_TIMES_AGAINST),
)


def verdicts(run: BenchRun) -> list[Verdict]:
    speed = [_times_against(run, phase, times) for phase, times in SPEED_TARGETS]
    if run.against is not None and run.prototype:
        speed += [
            _times_against(run, phase, times, prototype=True) for phase, times in SPEED_TARGETS
        ]
    return [
        *speed,
        _ahead_of_prism(run, "create"),
        _read_p99(run, "retrieve"),
        _read_p99(run, "list_first"),
        _startup(run),
        _peak_memory(run),
    ]


def _times_against(run: BenchRun, phase: str, times: float, *, prototype: bool = False) -> Verdict:
    """This tree's mock over the revision, or (``prototype``) the prototype without
    Connexion over the same revision, judged the same way under its own label."""
    revision = run.against.revision if run.against else "the --against revision"
    target = f"{LABELS[phase]} ≥ {times:g}x {revision} at {_sizes()}"
    if prototype:
        target += f" {PROTOTYPE_LABEL}"
    if run.against is None:
        return Verdict(target, "needs --against", None)
    times_against = run.prototype_times_against if prototype else run.times_against
    new_at = run.prototype_at if prototype else run.mock_at
    ratios: dict[int, float] = {}
    results: list[LoadResult] = []
    for size in COMPARED_SIZES:
        ratio = times_against(size, phase)
        if ratio is not None:
            ratios[size] = ratio
            both = (new_at(size), run.against.mock_at(size))
            results += [mock.phases[phase] for mock in both if mock is not None]
    return _over_sizes(target, ratios, times, results)


def _ahead_of_prism(run: BenchRun, phase: str) -> Verdict:
    # Create only: Prism answers an update with an example and stores nothing, so there is no
    # update of Prism's to be ahead of.
    target = f"{LABELS[phase]} ahead of Prism at {_sizes()} (update: Prism stores nothing)"
    if phase not in run.prism:
        return Verdict(target, f"Prism not measured ({run.prism_skipped})", None)
    ratios: dict[int, float] = {}
    results = [run.prism[phase]]
    for size in COMPARED_SIZES:
        mock = run.mock_at(size)
        if mock is not None and phase in mock.phases:
            ratios[size] = run.times_prism(phase, mock.phases[phase]) or 0.0
            results.append(mock.phases[phase])
    return _over_sizes(target, ratios, 1.0, results, strictly=True)


def _read_p99(run: BenchRun, phase: str) -> Verdict:
    target = (
        f"{LABELS[phase]} p99 ≤ {READ_P99_LIMIT_MS:g} ms with {P99_CONNECTIONS} connections "
        "at every size"
    )
    connections = run.settings["connections"]
    if connections != P99_CONNECTIONS:
        return Verdict(target, f"needs --connections {P99_CONNECTIONS} (ran {connections})", None)
    measured = [(mock.phases[phase], mock.size) for mock in run.mocks if phase in mock.phases]
    if not measured:
        return Verdict(target, "not measured", None)
    worst, size = max(measured, key=lambda item: item[0].p99_ms)
    return _judged(
        target,
        f"highest {worst.p99_ms:.1f} ms at {size:,}",
        worst.p99_ms <= READ_P99_LIMIT_MS,
        [result for result, _ in measured],
    )


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


def _sizes() -> str:
    return " and ".join(f"{size:,}" for size in COMPARED_SIZES)


def _over_sizes(
    target: str,
    ratios: dict[int, float],
    times: float,
    results: list[LoadResult],
    *,
    strictly: bool = False,
) -> Verdict:
    """Met when the ratio reaches ``times`` (passes it, ``strictly``) at every one of
    COMPARED_SIZES. A miss at one size is a miss even if the run left another out; a run
    that left one out cannot pass."""
    met = [ratio > times if strictly else ratio >= times for ratio in ratios.values()]
    parts = [f"{ratio:.2f}x at {size:,}" for size, ratio in ratios.items()]
    missing = [f"{size:,}" for size in COMPARED_SIZES if size not in ratios]
    if missing:
        parts.append(f"needs size {' and '.join(missing)}")
    measured = ", ".join(parts)
    if not all(met):
        return _judged(target, measured, False, results)
    if missing:
        return Verdict(target, measured, None)
    return _judged(target, measured, True, results)


def _judged(target: str, measured: str, met: bool, results: list[LoadResult]) -> Verdict:
    # Fast errors are no achievement: a figure from a phase with errors does not pass.
    if any(result.errors for result in results):
        return Verdict(target, f"{measured}, with errors", False)
    return Verdict(target, measured, met)
