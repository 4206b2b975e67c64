"""What a bench run measured: one load test's figures, each server's phases, and the ratios
to the ceiling that make the figures comparable across machines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def percent(share: float) -> str:
    """``42%``; two significant digits (``3.3%``, ``0.016%``) below 10%."""
    return f"{share:.0%}" if share >= 0.095 else f"{share * 100:.2g}%"


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
    """CPU time of the load generator over the phase's wall time: near 1.0, the generator
    (not the server) may have been the limit."""
    created_ids: list[str] = field(default_factory=list)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)

    @property
    def errors(self) -> int:
        return self.non_2xx + self.timeouts + self.socket_errors

    def describe_errors(self) -> str:
        """``404: 12, timeouts: 3``: what went wrong, for the notes under the table."""
        parts = [
            f"{status}: {count}"
            for status, count in sorted(self.statuses.items())
            if not 200 <= status < 300
        ]
        if self.timeouts:
            parts.append(f"timeouts: {self.timeouts}")
        if self.socket_errors:
            parts.append(f"socket errors: {self.socket_errors}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "duration_s": round(self.duration_s, 3),
            "requests_per_s": round(self.requests_per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "timeouts": self.timeouts,
            "socket_errors": self.socket_errors,
            "errors": self.errors,
            "client_cpu_share": round(self.client_cpu_share, 3),
        }


@dataclass
class Memory:
    """Resident memory of a server process, in MB (from /proc/<pid>/status)."""

    rss_mb: float
    peak_rss_mb: float


@dataclass
class MockRun:
    """prospect-mock on a fresh database of ``size`` generated prospects."""

    size: int
    startup_s: float
    memory_after_start: Memory
    memory_after_run: Memory
    phases: dict[str, LoadResult]


@dataclass
class BenchRun:
    machine: dict[str, Any]
    settings: dict[str, Any]
    ceiling: dict[str, LoadResult]
    connexion: dict[str, LoadResult]
    """Connexion alone on the same contract, with canned answers: the framework's own cost."""
    prism: dict[str, LoadResult]
    prism_skipped: str | None
    """Why Prism was not measured (None when it was)."""
    mocks: list[MockRun]

    def share_of_ceiling(self, phase: str, result: LoadResult) -> float | None:
        ceiling = self.ceiling.get(phase)
        if ceiling is None or ceiling.requests_per_s == 0:
            return None
        return result.requests_per_s / ceiling.requests_per_s

    def times_prism(self, phase: str, result: LoadResult) -> float | None:
        prism = self.prism.get(phase)
        if prism is None or prism.requests_per_s == 0:
            return None
        return result.requests_per_s / prism.requests_per_s

    def mock_at(self, size: int) -> MockRun | None:
        return next((mock for mock in self.mocks if mock.size == size), None)

    def to_json(self) -> dict[str, Any]:
        def phases(results: dict[str, LoadResult]) -> dict[str, Any]:
            return {name: result.to_json() for name, result in results.items()}

        def with_ratios(name: str, result: LoadResult) -> dict[str, Any]:
            share = self.share_of_ceiling(name, result)
            prism = self.times_prism(name, result)
            return result.to_json() | {
                "share_of_ceiling": None if share is None else round(share, 4),
                "times_prism": None if prism is None else round(prism, 3),
            }

        return {
            "machine": self.machine,
            "settings": self.settings,
            "ceiling": phases(self.ceiling),
            "connexion_alone": {
                name: with_ratios(name, result) for name, result in self.connexion.items()
            },
            "prism": phases(self.prism),
            "prism_skipped": self.prism_skipped,
            "mock": [
                {
                    "size": mock.size,
                    "startup_s": round(mock.startup_s, 3),
                    "memory_after_start_mb": vars(mock.memory_after_start),
                    "memory_after_run_mb": vars(mock.memory_after_run),
                    "phases": {
                        name: with_ratios(name, result) for name, result in mock.phases.items()
                    },
                }
                for mock in self.mocks
            ],
        }
