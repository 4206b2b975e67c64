"""What the Prospect API's contract documents each operation answers: its statuses, their
examples and schemas. Forced answers (``Prefer``) and scenarios answer only from here, so a
test can make the mock say only what the contract allows."""

from __future__ import annotations

from functools import cache
from typing import Any

from connexion.json_schema import resolve_refs

from prospect_mock.contract.documents import load_spec
from prospect_mock.contract.problems import problem_document

__all__ = [
    "Documented",
    "describe_statuses",
    "documented",
    "documented_statuses",
    "exact_responses",
    "operations",
]


@cache
def operations() -> dict[str, dict[str, Any]]:
    """Every operation of the Prospect API by operationId, ``$ref`` resolved, with the
    parameters its path declares for all its operations among its own."""
    spec = resolve_refs(load_spec())
    return {
        operation["operationId"]: {
            **operation,
            "parameters": [*item.get("parameters", []), *operation.get("parameters", [])],
        }
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


class Documented:
    """The response an operation documents for one status: its own, or that of a range
    (``5XX``) covering it."""

    def __init__(self, status: int, response: dict[str, Any], *, in_range: bool) -> None:
        self.status, self.in_range = status, in_range
        self.media_type, content = next(iter(response["content"].items()))
        self.schema: dict[str, Any] = content["schema"]
        examples = [(name, e["value"]) for name, e in content.get("examples", {}).items()]
        if "example" in content:
            examples.insert(0, (None, content["example"]))
        # A range's examples are problems of some of its statuses: only this status's are
        # its own, so that an answer never says another status than it has.
        self.examples = [
            (name, value)
            for name, value in examples
            if not in_range or value.get("status") == status
        ]

    @property
    def example_names(self) -> list[str]:
        return [name for name, _ in self.examples if name]

    def example(self, name: str | None = None) -> Any:
        """The example called ``name``; without a name, the first, or for a range without
        one of this status, a problem document made for it. KeyError if there is none."""
        for example, value in self.examples:
            if name is None or example == name:
                return value
        if name is None and self.in_range:
            return problem_document(self.status, "The server could not do it; nothing was changed.")
        raise KeyError(name)


@cache
def documented(operation_id: str, status: int) -> Documented | None:
    """The response ``operation_id`` documents for ``status`` (a range like ``5XX`` counts),
    or None."""
    responses = operations()[operation_id]["responses"]
    if str(status) in responses:
        return Documented(status, responses[str(status)], in_range=False)
    covering = f"{str(status)[0]}XX"
    if covering in responses:
        return Documented(status, responses[covering], in_range=True)
    return None


@cache
def exact_responses(operation_id: str) -> dict[str, Documented]:
    """Each status the operation documents on its own (not as a range), sorted."""
    responses = operations()[operation_id]["responses"]
    return {
        status: Documented(int(status), responses[status], in_range=False)
        for status in sorted(responses)
        if status.isdigit()
    }


def documented_statuses(operation_id: str) -> list[str]:
    """``["200", "401", "404", "5XX"]``: what an answer's status must be one of."""
    return sorted(operations()[operation_id]["responses"])


def describe_statuses(operation_id: str) -> str:
    """``200, 401, 404 and any 5XX``: the documented statuses, as a sentence names them."""
    names = [s if s.isdigit() else f"any {s}" for s in documented_statuses(operation_id)]
    return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
