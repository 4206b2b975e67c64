"""Violations of the Prospect API's contract seen by the proxy: the last ones kept for the
admin API, and counts of every one since the start, for the summary at the end."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from prospect_mock.storage.clock import timestamp

__all__ = ["MAX_KEPT", "Finding", "Side", "Violation", "Violations"]

MAX_KEPT = 1000
"""How many violations the admin API can list; older ones are only counted."""

Side = Literal["request", "response"]


@dataclass(frozen=True)
class Finding:
    """A rule broken, before it is known in which exchange."""

    rule: str
    detail: str
    pointer: str | None = None


@dataclass(frozen=True)
class Violation:
    side: Side
    operation: str | None
    method: str
    path: str
    status: int | None
    rule: str
    pointer: str | None
    detail: str
    at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Violations:
    """Every violation seen: the last :data:`MAX_KEPT` in full, all of them counted."""

    def __init__(self) -> None:
        self._kept: deque[Violation] = deque(maxlen=MAX_KEPT)
        self._counts: Counter[tuple[Side, str | None, str]] = Counter()

    def add(
        self,
        side: Side,
        findings: Iterable[Finding],
        *,
        operation: str | None,
        method: str,
        path: str,
        status: int | None,
    ) -> list[Violation]:
        at = timestamp()
        added = [
            Violation(side, operation, method, path, status, f.rule, f.pointer, f.detail, at)
            for f in findings
        ]
        for violation in added:
            self._kept.append(violation)
            self._counts[side, operation, violation.rule] += 1
        return added

    def newest(
        self, limit: int, side: Side | None = None, operation: str | None = None
    ) -> tuple[list[Violation], int]:
        """The newest ``limit`` violations that match, and how many ever matched."""
        matching = [
            v
            for v in reversed(self._kept)
            if (side is None or v.side == side) and (operation is None or v.operation == operation)
        ]
        total = sum(
            count
            for (s, op, _), count in self._counts.items()
            if (side is None or s == side) and (operation is None or op == operation)
        )
        return matching[:limit], total

    def kept(self) -> list[Violation]:
        """The last :data:`MAX_KEPT` violations, oldest first."""
        return list(self._kept)

    def total(self, side: Side | None = None) -> int:
        """How many violations were seen since the start: on ``side``, or on either."""
        return sum(count for (s, _, _), count in self._counts.items() if side in (None, s))

    def counts(self) -> Counter[tuple[Side, str | None, str]]:
        """How many of each (side, operation, rule) were seen since the start."""
        return Counter(self._counts)

    def __len__(self) -> int:
        return self._counts.total()
