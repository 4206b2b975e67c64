"""One human sentence for each way a value can break the contract.

Connexion reports a broken schema with jsonschema's own text, which can hold the whole
sub-schema and the whole (possibly huge) value over several lines. These sentences name the
attribute and the rule, and never repeat the value at length.
"""

from __future__ import annotations

from typing import Any, cast

from jsonschema import ValidationError

__all__ = ["describe", "no_resource", "not_allowed", "unknown_query_parameter"]

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}
_WANTED = {
    "object": "a JSON object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
}
_FORMATS = {
    "date": "a date such as 2024-03-31",
    "date-time": "an ISO 8601 timestamp such as 2024-01-15T09:30:00.000Z",
    "email": "an email address",
}


def describe(error: ValidationError, subject: str = "The request body") -> str:
    """A sentence for ``error``; ``subject`` names the value when the error is at its root."""
    if error.path:
        subject = "'" + "".join(_step(step) for step in error.path).lstrip(".") + "'"
    # jsonschema's stubs allow an "unset" sentinel here, which an error it raised never holds.
    rule = error.validator
    limit: Any = error.validator_value
    value: Any = error.instance
    if rule in ("anyOf", "oneOf") and error.context:
        return _alternatives(error, subject)
    if rule == "not" and isinstance(limit, dict) and "required" in limit:
        return f"{subject} may not have {' and '.join(limit['required'])} together."
    if rule == "type":
        wanted = " or ".join(
            _WANTED.get(t, t) for t in ([limit] if isinstance(limit, str) else limit)
        )
        return f"{subject} must be {wanted}, not {_JSON_TYPES.get(type(value), 'that')}."
    if rule == "additionalProperties":
        allowed = list(cast("dict[str, Any]", error.schema).get("properties", {}))
        unknown = next(name for name in value if name not in allowed)
        return (
            f"Unknown attribute {_short(unknown)}; the attributes that can be set here are: "
            f"{', '.join(allowed)}."
        )
    if rule == "required":
        missing = next(name for name in limit if name not in value)
        return f"'{missing}' is required."
    if rule == "enum":
        return f"{subject} must be one of: {', '.join(str(v) for v in limit if v is not None)}."
    if rule == "minLength":
        return (
            f"{subject} must not be empty."
            if limit == 1
            else f"{subject} must have at least {limit} characters."
        )
    if rule == "maxLength":
        return f"{subject} must have at most {limit} characters, not {len(value)}."
    if rule == "minimum":
        return f"{subject} must be at least {limit}."
    if rule == "maximum":
        return f"{subject} must be at most {limit}."
    if rule == "uniqueItems":
        return f"{subject} lists {_short(_first_repeated(value))} more than once."
    if rule == "pattern":
        return f"{subject} must match the pattern {limit}."
    if rule == "format":
        return f"{subject} must be {_FORMATS.get(limit, limit)}."
    return f"{subject} does not satisfy the rule {rule!r} of the contract."


def no_resource(path: str) -> str:
    return f"There is no resource at {path[:200]}."


def not_allowed(method: str, path: str, allowed: list[str]) -> str:
    return f"{method} is not allowed on {path[:200]}; use {', '.join(allowed)}."


def unknown_query_parameter(name: str, known: list[str]) -> str:
    takes = f"it takes {', '.join(known)}" if known else "it takes none"
    return f"Unknown query parameter {name[:60]!r}; {takes}."


def _alternatives(error: ValidationError, subject: str) -> str:
    """None of the schemas matched: name what each of them requires, if that is all they
    missed, or else the error deepest in the value (about a value that is there)."""
    errors = error.context or []
    if all(e.validator == "required" and not e.relative_path for e in errors):
        names = [
            next(n for n in cast(Any, e.validator_value) if n not in cast(Any, e.instance))
            for e in errors
        ]
        return f"{subject} needs one of: {', '.join(names)}."
    return describe(max(errors, key=lambda e: len(e.relative_path)), subject)


def _first_repeated(values: list[object]) -> object:
    seen: list[object] = []  # a list, not a set: the items may be unhashable
    for value in values:
        if value in seen:
            return value
        seen.append(value)
    raise ValueError("no value is repeated")


def _step(step: str | int) -> str:
    return f"[{step}]" if isinstance(step, int) else f".{step}"


def _short(name: object) -> str:
    text = str(name)
    return repr(text if len(text) <= 60 else text[:60] + "…")
