"""What a proxy session saw, at its end: a coverage table and a violation summary on the
console, and the same as a JSON report or as JUnit XML (a test case per operation)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from rich.console import Console
from rich.table import Table

from prospect_mock.contract.responses import operations
from prospect_mock.proxy.coverage import Coverage
from prospect_mock.proxy.violations import MAX_KEPT, Side, Violation, Violations

__all__ = ["print_summary", "write_json", "write_junit"]

_NO_OPERATION = "(no operation of the contract)"

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters that would break a report's line (CR, LF), or that XML 1.0 cannot hold at
all (other control characters, lone surrogates): a client's path can carry any of them."""


def print_summary(coverage: Coverage, violations: Violations, console: Console) -> None:
    described = coverage.to_json()
    console.print(_coverage_table(described["operations"]))
    console.print(
        f"Covered {described['covered']} of {described['documented']} documented "
        f"(operation, status) pairs ({described['share']:.0%})."
    )
    if violations.counts():
        console.print(_violations_table(violations))
    console.print(
        f"{len(violations)} contract violation(s): {violations.total('request')} in requests, "
        f"{violations.total('response')} in responses."
    )


def _coverage_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Contract coverage")
    _add_operation_column(table)
    for column in ("exchanges", "documented statuses", "undocumented"):
        table.add_column(column)
    for row in rows:
        statuses = "  ".join(f"{key}: {count}" for key, count in row["statuses"].items())
        undocumented = "  ".join(f"{key}: {count}" for key, count in row["undocumented"].items())
        table.add_row(row["operation"], str(row["exchanges"]), statuses, undocumented or "-")
    return table


def _violations_table(violations: Violations) -> Table:
    table = Table(title="Contract violations")
    table.add_column("side")
    _add_operation_column(table)
    for column in ("rule", "count"):
        table.add_column(column)
    for (side, operation, rule), count in sorted(
        violations.counts().items(), key=lambda item: (item[0][0], str(item[0][1]), item[0][2])
    ):
        table.add_row(side, operation or _NO_OPERATION, rule, str(count))
    return table


def _add_operation_column(table: Table) -> None:
    # Rich fits a table to the console, 80 columns wherever stdout is not a terminal (CI).
    # Left to itself it cuts the longest cells, the operations' names among them: unwrapped,
    # this column leaves the shrinking to the others, and its minimum width holds even where
    # they cannot shrink enough (the table is then wider than the console).
    longest = max(len(name) for name in (_NO_OPERATION, *operations()))
    table.add_column("operation", no_wrap=True, min_width=longest)


def write_json(path: Path, coverage: Coverage, violations: Violations) -> None:
    """The coverage document and the last violations, as ``GET /__admin/coverage`` and
    ``GET /__admin/violations`` answer them, with the counts of every violation."""
    kept, total = violations.newest(MAX_KEPT)
    report = {
        "coverage": coverage.to_json(),
        "violations": {"data": [v.to_json() for v in kept], "total": total},
        "violation_counts": [
            {"side": side, "operation": operation, "rule": rule, "count": count}
            for (side, operation, rule), count in sorted(
                violations.counts().items(), key=lambda item: str(item[0])
            )
        ],
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class _Case:
    """One operation's test case: its exchanges, how many of each (side, rule) broke it
    since the start, and those of its violations still kept, oldest first."""

    name: str
    exchanges: int
    counts: dict[tuple[Side, str], int]
    kept: list[Violation]


def write_junit(path: Path, coverage: Coverage, violations: Violations) -> None:
    """A test case per operation of the contract: failed where a violation was seen,
    skipped where no exchange exercised it; one more for requests to no operation, if any.
    A failure's message counts its violations by side and rule, and its text has a line
    for each violation kept: side, rule, method, path, status, pointer and sentence."""
    cases = _cases(coverage, violations)
    suite = ElementTree.Element(
        "testsuite",
        name="prospect-mock proxy",
        tests=str(len(cases)),
        failures=str(sum(1 for case in cases if case.counts)),
        skipped=str(sum(1 for case in cases if not case.exchanges and not case.counts)),
    )
    for case in cases:
        element = ElementTree.SubElement(suite, "testcase", classname="contract", name=case.name)
        if case.counts:
            failure = ElementTree.SubElement(element, "failure", message=_failure_message(case))
            failure.text = _failure_text(case)
        elif not case.exchanges:
            ElementTree.SubElement(element, "skipped", message="No exchange exercised it.")
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    ElementTree.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _cases(coverage: Coverage, violations: Violations) -> list[_Case]:
    counts: defaultdict[str | None, dict[tuple[Side, str], int]] = defaultdict(dict)
    for (side, operation, rule), count in sorted(
        violations.counts().items(), key=lambda item: str(item[0])
    ):
        counts[operation][side, rule] = count
    kept: defaultdict[str | None, list[Violation]] = defaultdict(list)
    for violation in violations.kept():
        kept[violation.operation].append(violation)
    cases = [
        _Case(row["operation"], row["exchanges"], counts[row["operation"]], kept[row["operation"]])
        for row in coverage.to_json()["operations"]
    ]
    if counts[None]:
        cases.append(_Case(_NO_OPERATION, 0, counts[None], kept[None]))
    return cases


def _failure_message(case: _Case) -> str:
    kinds = ", ".join(f"{count}x {side} {rule}" for (side, rule), count in case.counts.items())
    return f"{sum(case.counts.values())} violation(s): {kinds}"


def _failure_text(case: _Case) -> str:
    # The same violation seen again and again (the same call in every test) is one line.
    lines = [
        f"{line} ({count} times)" if count > 1 else line
        for line, count in Counter(_line(v) for v in case.kept).items()
    ]
    older = sum(case.counts.values()) - len(case.kept)
    if older:
        lines.append(f"and {older} older violation(s), beyond the last {MAX_KEPT} kept.")
    return "\n".join(lines)


def _line(violation: Violation) -> str:
    """``response body-schema, GET /path -> 200, at /pointer: The sentence.``"""
    exchange = f"{violation.method} {violation.path}"
    if violation.status is not None:
        exchange += f" -> {violation.status}"
    where = f", at {violation.pointer}" if violation.pointer else ""
    line = f"{violation.side} {violation.rule}, {exchange}{where}: {violation.detail}"
    return _UNPRINTABLE.sub(lambda char: f"U+{ord(char.group()):04X}", line)
