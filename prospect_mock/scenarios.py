"""Scenarios: what a test makes the server answer next, in its workspace.

A scenario names an operation of the Prospect API, optionally what a request must look like
(``match``), and what happens then: a documented answer (``respond``), a network fault
(``fault``), or the real answer, late (``delay_ms`` alone). Every answer is held to the
contract: its status must be one the operation documents (the ``5XX`` every operation
documents counts), and a body given must keep that response's schema. Scenarios live in
memory: a reset of the workspace, or a restart, forgets them.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator

from .clock import timestamp
from .messages import describe
from .records import NotFound
from .responses import Documented, documented, documented_statuses, operations
from .validation import FORMAT_CHECKER

__all__ = ["FAULTS", "MAX_SCENARIOS", "Scenario", "ScenarioRefused", "Scenarios"]

FAULTS = ("connection_reset", "empty_response", "malformed_body", "timeout")
MAX_SCENARIOS = 100
"""Per workspace: a test sets up a few; hundreds mean scenarios that nobody removes."""
_HEADERS_THE_CONTRACT_SETS = {"content-type", "content-length", "transfer-encoding"}


class ScenarioRefused(ValueError):
    """A scenario the contract does not allow; the message says which rule it breaks."""


@dataclass
class Scenario:
    operation: str
    match: dict[str, Any]
    answer: Documented | None
    body: Any
    headers: dict[str, str]
    fault: str | None
    delay_ms: int | None
    times: int | None
    id: str = field(default_factory=lambda: f"scenario_{secrets.token_hex(8)}")
    created_at: str = field(default_factory=timestamp)
    matched: int = 0
    definition: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Scenario:
        """The scenario ``definition`` describes, as ``POST /__admin/scenarios`` takes it
        (already checked against its schema), or :class:`ScenarioRefused`."""
        operation = definition["operation"]
        match = definition.get("match", {})
        _check_match(operation, match)
        respond = definition.get("respond")
        answer = body = None
        headers: dict[str, str] = {}
        if respond is not None:
            answer, body = _documented_answer(operation, respond)
            headers = _allowed_headers(respond.get("headers", {}))
        return cls(
            operation,
            match,
            answer,
            body,
            headers,
            definition.get("fault"),
            definition.get("delay_ms"),
            definition.get("times"),
            definition=dict(definition),
        )

    @property
    def used_up(self) -> bool:
        return self.times is not None and self.matched >= self.times

    def matches(self, path: Mapping[str, Any], query: Mapping[str, str], body: Any) -> bool:
        return (
            _all_equal(self.match.get("path", {}), path)
            and _all_equal(self.match.get("query", {}), query)
            and ("body" not in self.match or _is_subset(self.match["body"], body))
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.definition,
            "matched": self.matched,
            "created_at": self.created_at,
        }


class Scenarios:
    """One workspace's scenarios, newest last. Thread-safe."""

    def __init__(self) -> None:
        self._scenarios: list[Scenario] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._scenarios)

    def add(self, scenario: Scenario) -> None:
        with self._lock:
            if len(self._scenarios) >= MAX_SCENARIOS:
                raise ScenarioRefused(
                    f"This workspace holds its maximum of {MAX_SCENARIOS} scenarios; delete "
                    f"some (DELETE /__admin/scenarios) first."
                )
            self._scenarios.append(scenario)

    def wants_body(self, operation: str) -> bool:
        """Whether a scenario of ``operation`` matches on the request body."""
        return any(s.operation == operation and "body" in s.match for s in self._scenarios)

    def take(
        self, operation: str, path: Mapping[str, Any], query: Mapping[str, str], body: Any
    ) -> Scenario | None:
        """The newest scenario that matches the request, counted as used once more (and
        removed once used up), or None."""
        with self._lock:
            for scenario in reversed(self._scenarios):
                if scenario.operation == operation and scenario.matches(path, query, body):
                    scenario.matched += 1
                    if scenario.used_up:
                        self._scenarios.remove(scenario)
                    return scenario
        return None

    def __iter__(self) -> Iterator[Scenario]:
        """Every scenario, oldest first."""
        with self._lock:
            return iter(list(self._scenarios))

    def remove(self, scenario_id: str) -> None:
        with self._lock:
            for scenario in self._scenarios:
                if scenario.id == scenario_id:
                    self._scenarios.remove(scenario)
                    return
        raise NotFound(f"There is no scenario {scenario_id[:60]!r} in this workspace.")

    def clear(self) -> int:
        with self._lock:
            count = len(self._scenarios)
            self._scenarios.clear()
            return count


def _documented_answer(operation: str, respond: Mapping[str, Any]) -> tuple[Documented, Any]:
    status = respond["status"]
    answer = documented(operation, status)
    if answer is None:
        raise ScenarioRefused(
            f"{operation} does not document the status {status}; it documents "
            f"{', '.join(documented_statuses(operation))}."
        )
    if "body" not in respond:
        try:
            return answer, answer.example(respond.get("example"))
        except KeyError:
            names = ", ".join(answer.example_names) or "none"
            raise ScenarioRefused(
                f"The {status} response of {operation} has no example "
                f"{respond['example'][:40]!r}; its named examples are: {names}."
            ) from None
    error = next(_validator(answer.schema).iter_errors(respond["body"]), None)
    if error is not None:
        raise ScenarioRefused(
            f"respond.body breaks the contract of the {status} response of {operation}: "
            f"{describe(error, 'The body')}"
        )
    return answer, respond["body"]


def _validator(schema: dict[str, Any]) -> Draft4Validator:
    return Draft4Validator(schema, format_checker=FORMAT_CHECKER)


def _allowed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    for name in headers:
        if name.lower() in _HEADERS_THE_CONTRACT_SETS:
            raise ScenarioRefused(
                f"respond.headers may not set {name}: the contract and the server decide it."
            )
    return dict(headers)


def _check_match(operation: str, match: Mapping[str, Any]) -> None:
    """Refuse a match on a parameter or a body the operation does not have: it could never
    match, and the test would wait for nothing."""
    parameters = operations()[operation].get("parameters", [])
    for where in ("path", "query"):
        known = {p["name"] for p in parameters if p["in"] == where}
        for name in match.get(where, {}):
            if name not in known:
                has = ", ".join(sorted(known)) or "none"
                raise ScenarioRefused(
                    f"{operation} has no {where} parameter {name[:40]!r}; it has: {has}."
                )
    if "body" in match and "requestBody" not in operations()[operation]:
        raise ScenarioRefused(f"{operation} takes no request body to match.")


def _all_equal(wanted: Mapping[str, Any], actual: Mapping[str, Any]) -> bool:
    return all(name in actual and _text(actual[name]) == _text(v) for name, v in wanted.items())


def _text(value: Any) -> str:
    """How a parameter's value reads in a URL: ``true``, ``5``, ``Acme``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _is_subset(wanted: Any, actual: Any) -> bool:
    """Whether ``actual`` holds everything ``wanted`` does: objects key by key (recursively),
    anything else equal."""
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            name in actual and _is_subset(value, actual[name]) for name, value in wanted.items()
        )
    equal: bool = wanted == actual
    return equal
