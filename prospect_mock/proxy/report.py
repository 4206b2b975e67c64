"""What a proxy session saw, at its end: a coverage table and a violation summary on the
console, and the same as a JSON report or as JUnit XML (a test case per operation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table

from .coverage import Coverage
from .violations import MAX_KEPT, Violations

__all__ = ["print_summary", "write_json", "write_junit"]

_NO_OPERATION = "(no operation of the contract)"


def print_summary(coverage: Coverage, violations: Violations, console: Console) -> None:
    described = coverage.describe()
    table = Table(title="Contract coverage")
    for column in ("operation", "exchanges", "documented statuses", "undocumented"):
        table.add_column(column)
    for row in described["operations"]:
        statuses = "  ".join(f"{key}: {count}" for key, count in row["statuses"].items())
        undocumented = "  ".join(f"{key}: {count}" for key, count in row["undocumented"].items())
        table.add_row(row["operation"], str(row["exchanges"]), statuses, undocumented or "-")
    console.print(table)
    console.print(
        f"Covered {described['covered']} of {described['documented']} documented "
        f"(operation, status) pairs ({described['share']:.0%})."
    )
    summary = Table(title="Contract violations")
    for column in ("side", "operation", "rule", "count"):
        summary.add_column(column)
    for (side, operation, rule), count in sorted(
        violations.counts().items(), key=lambda item: (item[0][0], str(item[0][1]), item[0][2])
    ):
        summary.add_row(side, operation or _NO_OPERATION, rule, str(count))
    if violations.counts():
        console.print(summary)
    console.print(f"{len(violations)} contract violation(s).")


def write_json(path: Path, coverage: Coverage, violations: Violations) -> None:
    """The coverage document and the last violations, as ``GET /__admin/coverage`` and
    ``GET /__admin/violations`` answer them, with the counts of every violation."""
    kept, total = violations.newest(MAX_KEPT)
    report = {
        "coverage": coverage.describe(),
        "violations": {"data": [v.describe() for v in kept], "total": total},
        "violation_counts": [
            {"side": side, "operation": operation, "rule": rule, "count": count}
            for (side, operation, rule), count in sorted(
                violations.counts().items(), key=lambda item: str(item[0])
            )
        ],
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def write_junit(path: Path, coverage: Coverage, violations: Violations) -> None:
    """A test case per operation of the contract: failed where a violation was seen,
    skipped where no exchange exercised it; one more for requests to no operation, if any."""
    counts = violations.counts()
    cases: list[tuple[str, int, list[str]]] = [
        (row["operation"], row["exchanges"], _failures(counts, row["operation"]))
        for row in coverage.describe()["operations"]
    ]
    outside = _failures(counts, None)
    if outside:
        cases.append((_NO_OPERATION, 0, outside))
    suite = ElementTree.Element(
        "testsuite",
        name="prospect-mock proxy",
        tests=str(len(cases)),
        failures=str(sum(1 for _, _, failures in cases if failures)),
        skipped=str(sum(1 for _, exchanges, failures in cases if not exchanges and not failures)),
    )
    for name, exchanges, failures in cases:
        case = ElementTree.SubElement(suite, "testcase", classname="contract", name=name)
        if failures:
            failure = ElementTree.SubElement(
                case, "failure", message=f"{len(failures)} kind(s) of violation"
            )
            failure.text = "\n".join(failures)
        elif not exchanges:
            ElementTree.SubElement(case, "skipped", message="No exchange exercised it.")
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _failures(counts: Any, operation: str | None) -> list[str]:
    return [
        f"{count}x {side} {rule}"
        for (side, op, rule), count in sorted(counts.items(), key=lambda item: str(item[0]))
        if op == operation
    ]
