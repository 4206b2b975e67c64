"""What a bench run measured: one load test's figures, each server's phases, and the ratios
that make the figures comparable across machines (to the ceiling) and across revisions (to
the ``--against`` revision, measured in the same run), and that show what Connexion costs
(the prototype without it, bench/without_connexion.py, over the mock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROTOTYPE = "without Connexion (prototype)"
"""How the tables name bench/without_connexion.py's runs: never as the product."""


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

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "startup_s": round(self.startup_s, 3),
            "memory_after_start_mb": vars(self.memory_after_start),
            "memory_after_run_mb": vars(self.memory_after_run),
            "phases": {name: result.to_json() for name, result in self.phases.items()},
        }


@dataclass
class AgainstRun:
    """The ``--against`` revision, measured phase by phase in turn with the working tree."""

    revision: str
    """As given on the command line."""
    commit: str
    mocks: list[MockRun]

    def mock_at(self, size: int) -> MockRun | None:
        return next((mock for mock in self.mocks if mock.size == size), None)


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
    wiremock: dict[str, LoadResult]
    wiremock_skipped: str | None
    """Why WireMock was not measured (None when it was)."""
    mocks: list[MockRun]
    """This working tree's prospect-mock (the bench environment's), one run per size."""
    against: AgainstRun | None = None
    prototype: list[MockRun] = field(default_factory=list)
    """The mock's handlers and store without Connexion (bench/without_connexion.py), one run
    per size, in turns with the mock; empty with ``--no-prototype``. A measured prototype,
    not the product: no target is judged on it, only shown beside the mock's."""

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

    def times_against(self, size: int, phase: str) -> float | None:
        """This tree's req/s over the ``--against`` revision's, at one size and phase."""
        return _times(self.mock_at(size), self.old_at(size), phase)

    def prototype_times_mock(self, size: int, phase: str) -> float | None:
        """The prototype's req/s over this tree's mock's: what leaving Connexion out gains."""
        return _times(self.prototype_at(size), self.mock_at(size), phase)

    def prototype_times_against(self, size: int, phase: str) -> float | None:
        """The prototype's req/s over the ``--against`` revision's: how far the same handlers
        would reach toward the speed targets without Connexion."""
        return _times(self.prototype_at(size), self.old_at(size), phase)

    def mock_at(self, size: int) -> MockRun | None:
        return _at(self.mocks, size)

    def old_at(self, size: int) -> MockRun | None:
        """The ``--against`` revision's run at ``size``, if any."""
        return self.against.mock_at(size) if self.against else None

    def prototype_at(self, size: int) -> MockRun | None:
        return _at(self.prototype, size)

    def against_rows(self, phase: str) -> list[tuple[int, LoadResult | None, LoadResult | None]]:
        """(size, the revision's result, this tree's) at each size where either ran ``phase``."""
        rows = []
        for size in self.settings["sizes"]:
            old, tree = self.old_at(size), self.mock_at(size)
            old_result = old.phases.get(phase) if old else None
            tree_result = tree.phases.get(phase) if tree else None
            if old_result or tree_result:
                rows.append((size, old_result, tree_result))
        return rows

    def prototype_rows(
        self, phase: str
    ) -> list[tuple[int, LoadResult | None, LoadResult | None, LoadResult | None]]:
        """(size, the revision's result, this tree's, the prototype's) at each size where the
        prototype ran ``phase``."""
        rows = []
        for size in self.settings["sizes"]:
            prototype = self.prototype_at(size)
            if prototype is None or phase not in prototype.phases:
                continue
            old, tree = self.old_at(size), self.mock_at(size)
            rows.append(
                (
                    size,
                    old.phases.get(phase) if old else None,
                    tree.phases.get(phase) if tree else None,
                    prototype.phases[phase],
                )
            )
        return rows

    def every_mock(self) -> list[tuple[str, MockRun]]:
        """("this tree", its run) at each size, after the revision's run at that size and
        before the prototype's, where they ran."""
        runs = []
        for mock in self.mocks:
            old = self.old_at(mock.size)
            if self.against is not None and old is not None:
                runs.append((self.against.revision, old))
            runs.append(("this tree", mock))
            prototype = self.prototype_at(mock.size)
            if prototype is not None:
                runs.append((PROTOTYPE, prototype))
        return runs

    def to_json(self) -> dict[str, Any]:
        def phases(results: dict[str, LoadResult]) -> dict[str, Any]:
            return {name: result.to_json() for name, result in results.items()}

        def with_ratios(name: str, result: LoadResult, size: int | None = None) -> dict[str, Any]:
            share = self.share_of_ceiling(name, result)
            ratios = {
                "share_of_ceiling": None if share is None else round(share, 4),
                "times_prism": _rounded(self.times_prism(name, result)),
            }
            if size is not None and self.against is not None:
                ratios["times_against"] = _rounded(self.times_against(size, name))
            return result.to_json() | ratios

        def mock_with_ratios(mock: MockRun) -> dict[str, Any]:
            results = mock.phases.items()
            return mock.to_json() | {
                "phases": {name: with_ratios(name, result, mock.size) for name, result in results}
            }

        def prototype_with_ratios(prototype: MockRun) -> dict[str, Any]:
            def ratios(name: str, result: LoadResult) -> dict[str, Any]:
                share = self.share_of_ceiling(name, result)
                figures = result.to_json() | {
                    "share_of_ceiling": None if share is None else round(share, 4),
                    "times_mock": _rounded(self.prototype_times_mock(prototype.size, name)),
                }
                if self.against is not None:
                    times = self.prototype_times_against(prototype.size, name)
                    figures["times_against"] = _rounded(times)
                return figures

            results = prototype.phases.items()
            return prototype.to_json() | {
                "phases": {name: ratios(name, result) for name, result in results}
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
            "wiremock": phases(self.wiremock),
            "wiremock_skipped": self.wiremock_skipped,
            "mock": [mock_with_ratios(mock) for mock in self.mocks],
            "against": None
            if self.against is None
            else {
                "revision": self.against.revision,
                "commit": self.against.commit,
                "mock": [mock.to_json() for mock in self.against.mocks],
            },
            "prototype": [prototype_with_ratios(run) for run in self.prototype]
            if self.prototype
            else None,
        }


def _at(runs: list[MockRun], size: int) -> MockRun | None:
    return next((run for run in runs if run.size == size), None)


def _times(new: MockRun | None, old: MockRun | None, phase: str) -> float | None:
    """``new``'s req/s over ``old``'s at ``phase``, where both ran it (and ``old`` served any)."""
    if new is None or old is None or phase not in new.phases or phase not in old.phases:
        return None
    before = old.phases[phase].requests_per_s
    return new.phases[phase].requests_per_s / before if before else None


def _rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio, 3)
