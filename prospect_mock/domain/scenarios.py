"""Scenarios: what a test makes the server answer next, in its workspace.

A scenario names an operation of the Prospect API, optionally what a request must look like
(``match``), and what happens then: a documented answer (``respond``), a network fault
(``fault``), or the real answer, late (``delay_ms`` alone). Every answer is held to the
contract: its status must be one the operation documents (the ``5XX`` every operation
documents counts), a body given must keep that response's schema, and headers given must be
ones HTTP allows and the server does not set itself. Scenarios live in memory: a reset of
the workspace, or a restart, forgets them.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator

from prospect_mock.contract.messages import describe
from prospect_mock.contract.responses import Documented, documented, documented_statuses, operations
from prospect_mock.contract.validation import FORMAT_CHECKER
from prospect_mock.domain.records import NotFound
from prospect_mock.storage.clock import timestamp

__all__ = [
    "FAULTS",
    "MAX_HEADER_NAME_CHARS",
    "MAX_MATCH_BODY_BYTES",
    "MAX_SCENARIOS",
    "Scenario",
    "ScenarioRefused",
    "Scenarios",
]

FAULTS = ("connection_reset", "empty_response", "malformed_body", "timeout")
MAX_SCENARIOS = 100
"""Per workspace: a test sets up a few; hundreds mean scenarios that nobody removes."""
MAX_MATCH_BODY_BYTES = 64 * 1024
"""As compact UTF-8 JSON: far more than any request a test matches on. Held as Python objects,
a body takes up to 25 times that (a list of empty objects), so 100 of them stay under 200 MB."""
MAX_HEADER_NAME_CHARS = 100
"""The longest registered header name has 40-odd characters."""

_NOT_A_TOKEN_CHAR = re.compile(r"[^-!#$%&'*+.^_`|~0-9A-Za-z]")
"""Anything but RFC 9110's tchar: a header name is a token, one or more of them."""
_NOT_A_VALUE_CHAR = re.compile(r"[^\t -~]")
"""Anything but RFC 9110's field-vchar (visible ASCII: obs-text is obsolete), SP and HTAB."""
_HEADERS_THE_SERVER_SETS = {
    "content-type": "the contract decides it",
    "content-length": "the server frames the body it sends",
    "transfer-encoding": "the server frames the body it sends",
    "x-mock-scenario": "the server sets it to the scenario's id",
    **dict.fromkeys(
        ("connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"),
        "it is about the connection, not the answer (hop-by-hop)",
    ),
}


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

    def to_json(self) -> dict[str, Any]:
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
    """``headers`` if HTTP allows each of them and the server sets none of them itself: one
    that breaks HTTP's grammar would fail the matching request, not this one."""
    for name, value in headers.items():
        _check_header_name(name)
        if name.lower() in _HEADERS_THE_SERVER_SETS:
            raise ScenarioRefused(
                f"respond.headers may not set {name}: {_HEADERS_THE_SERVER_SETS[name.lower()]}."
            )
        _check_header_value(name, value)
    return dict(headers)


def _check_header_name(name: str) -> None:
    if not name:
        why = "it is empty"
    elif len(name) > MAX_HEADER_NAME_CHARS:
        why = f"it has {len(name)} characters"
    elif bad := _NOT_A_TOKEN_CHAR.search(name):
        why = f"it holds {_code_point(bad.group())}"
    else:
        return
    raise ScenarioRefused(
        f"respond.headers {_quoted(name)} is not a header name HTTP allows ({why}); a name is "
        f"an RFC 9110 token: 1 to {MAX_HEADER_NAME_CHARS} letters, digits and !#$%&'*+-.^_`|~."
    )


def _check_header_value(name: str, value: str) -> None:
    # The name is a token by now: it can be written as it is.
    if bad := _NOT_A_VALUE_CHAR.search(value):
        why = f"it holds {_code_point(bad.group())}"
    elif value[:1] in (" ", "\t"):
        why = "it starts with a space or tab"
    elif value[-1:] in (" ", "\t"):
        why = "it ends with a space or tab"
    else:
        return
    raise ScenarioRefused(
        f"respond.headers {name} has a value HTTP does not allow ({why}); a value is visible "
        f"ASCII characters, with spaces and tabs only between them."
    )


def _code_point(char: str) -> str:
    """A character named by its code point, so that a control character never reaches the
    message itself."""
    return f"U+{ord(char):04X}"


def _quoted(text: str) -> str:
    """``text`` quoted with every control and non-ASCII character escaped, as Python does."""
    return ascii(text[:60])


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
    if "body" in match:
        _check_match_body(operation, match["body"])


def _check_match_body(operation: str, body: Any) -> None:
    if "requestBody" not in operations()[operation]:
        raise ScenarioRefused(f"{operation} takes no request body to match.")
    # Measured as the smallest request that could carry it: no whitespace, characters as
    # UTF-8 rather than escapes (a lone surrogate, which only an escape can carry, as three).
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_MATCH_BODY_BYTES:
        raise ScenarioRefused(
            f"match.body is {size:,} bytes as compact JSON; it may be at most "
            f"{MAX_MATCH_BODY_BYTES:,} bytes (64 KiB)."
        )


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
