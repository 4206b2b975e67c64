"""What a bench run measured, and the ratios that make it comparable across machines (to the
ceiling) and across revisions (to the ``--against`` revision, measured in the same run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CEILING = "ceiling"
PRISM = "Prism"


@dataclass
class LoadResult:
    """One phase driven at one server for a fixed time (or until its requests ran out)."""

    requests: int
    duration_s: float
    statuses: dict[int, int]
    timeouts: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    client_cpu_share: float
    """The load generator's CPU time over the phase's: near 1, it may have been the limit."""
    created_ids: list[str] = field(default_factory=list)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def errors(self) -> int:
        return sum(self._failed().values()) + self.timeouts + self.socket_errors

    def describe_errors(self) -> str:
        """``404: 12, timeouts: 3``."""
        parts = [f"{status}: {count}" for status, count in sorted(self._failed().items())]
        parts += [f"timeouts: {self.timeouts}"] if self.timeouts else []
        parts += [f"socket errors: {self.socket_errors}"] if self.socket_errors else []
        return ", ".join(parts)

    def _failed(self) -> dict[int, int]:
        return {status: n for status, n in self.statuses.items() if not 200 <= status < 300}

    def to_json(self) -> dict[str, Any]:
        figures = asdict(self)
        del figures["created_ids"]  # hundreds of ids, of no use once the phase is over
        return figures | {"requests_per_s": round(self.requests_per_s, 1), "errors": self.errors}


@dataclass
class Memory:
    """Resident memory of a server process, in MB."""

    rss_mb: float
    peak_rss_mb: float


@dataclass
class MockRun:
    """A prospect-mock on a fresh database of ``size`` generated prospects."""

    size: int
    startup_s: float
    memory_after_start: Memory
    memory_after_run: Memory
    phases: dict[str, LoadResult]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"phases": _json(self.phases)}


@dataclass
class BenchRun:
    machine: dict[str, Any]
    settings: dict[str, Any]
    references: dict[str, dict[str, LoadResult]]
    """Servers on canned answers by name, in the order measured, phases by name."""
    skipped: dict[str, str]
    """Why a reference was not measured, by name."""
    mocks: list[MockRun]
    """This working tree's prospect-mock, one run per size."""
    revision: str | None = None
    """The ``--against`` revision, as given."""
    against: list[MockRun] = field(default_factory=list)
    """That revision's prospect-mock, one run per size, in turns with this tree's."""

    def share_of_ceiling(self, phase: str, result: LoadResult) -> float | None:
        return _ratio(result, self.references[CEILING].get(phase))

    def mock_at(self, size: int, *, old: bool = False) -> MockRun | None:
        return next(
            (run for run in (self.against if old else self.mocks) if run.size == size), None
        )

    def results_at(self, size: int, phase: str) -> tuple[LoadResult | None, LoadResult | None]:
        """(the revision's result, this tree's) for ``phase`` at ``size``."""
        old, tree = self.mock_at(size, old=True), self.mock_at(size)
        return (old.phases.get(phase) if old else None, tree.phases.get(phase) if tree else None)

    def times_against(self, size: int, phase: str) -> float | None:
        old, tree = self.results_at(size, phase)
        return None if tree is None else _ratio(tree, old)

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "settings": self.settings,
            "references": {name: _json(phases) for name, phases in self.references.items()},
            "skipped": self.skipped,
            "mock": [mock.to_json() for mock in self.mocks],
            "against": [mock.to_json() for mock in self.against] if self.revision else None,
        }


def _json(phases: dict[str, LoadResult]) -> dict[str, Any]:
    return {name: result.to_json() for name, result in phases.items()}


def _ratio(result: LoadResult, base: LoadResult | None) -> float | None:
    if base is None or base.requests_per_s == 0:
        return None
    return result.requests_per_s / base.requests_per_s
