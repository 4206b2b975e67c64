"""Which operations of the Prospect API, and which of the statuses each documents, the
traffic through the proxy exercised."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from prospect_mock.contract.responses import documented_statuses, operations

__all__ = ["Coverage", "documented_key"]


def documented_key(operation: str, status: int) -> str | None:
    """The key under which ``operation`` documents ``status`` (``"404"``, or a range such
    as ``"5XX"``), or None if it does not."""
    statuses = documented_statuses(operation)
    for key in (str(status), f"{str(status)[0]}XX"):
        if key in statuses:
            return key
    return None


class Coverage:
    def __init__(self) -> None:
        self._documented: dict[str, Counter[str]] = defaultdict(Counter)
        self._undocumented: dict[str, Counter[str]] = defaultdict(Counter)

    def count(self, operation: str, status: int) -> None:
        """One exchange of ``operation`` answered with ``status``."""
        key = documented_key(operation, status)
        if key is None:
            self._undocumented[operation][str(status)] += 1
        else:
            self._documented[operation][key] += 1

    def to_json(self) -> dict[str, Any]:
        """The coverage document of ``GET /__admin/coverage``, operations in the contract's
        order."""
        rows, covered, documented = [], 0, 0
        for operation in operations():
            statuses = {
                key: self._documented[operation][key] for key in documented_statuses(operation)
            }
            undocumented = dict(sorted(self._undocumented[operation].items()))
            covered += sum(1 for count in statuses.values() if count)
            documented += len(statuses)
            rows.append(
                {
                    "operation": operation,
                    "exchanges": sum(statuses.values()) + sum(undocumented.values()),
                    "statuses": statuses,
                    "undocumented": undocumented,
                }
            )
        share = round(covered / documented, 4) if documented else 0.0
        return {"operations": rows, "covered": covered, "documented": documented, "share": share}
