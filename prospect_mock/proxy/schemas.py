"""JSON Schema checks shared by the request and response checks: the project's validators
(Draft 4, OpenAPI's ``nullable``, :data:`~prospect_mock.contract.validation.FORMAT_CHECKER`) and its
one-sentence messages (:func:`~prospect_mock.contract.messages.describe`), so that the proxy says
what the mock says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from jsonschema import ValidationError

from prospect_mock.contract.messages import describe
from prospect_mock.contract.validation import FORMAT_CHECKER, compiled_schema
from prospect_mock.proxy.violations import Finding

__all__ = ["MAX_FINDINGS", "body_findings", "pointer"]

MAX_FINDINGS = 20
"""At most this many schema violations per body: a body wrong everywhere is one problem."""


def body_findings(
    body: Any, schema: dict[str, Any], *, subject: str, response: bool
) -> Iterator[Finding]:
    """A ``body-schema`` finding for each way ``body`` breaks ``schema``."""
    if compiled_schema(schema).is_valid(body):
        return
    kind = Draft4ResponseValidator if response else Draft4RequestValidator
    validator = kind(schema, format_checker=FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors[:MAX_FINDINGS]:
        yield Finding("body-schema", describe(error, subject=subject), pointer(error))


def pointer(error: ValidationError) -> str:
    """The JSON pointer (RFC 6901) to the value that broke the rule; for a missing
    attribute, to where it should be."""
    steps = list(error.absolute_path)
    if error.validator == "required":
        required: Any = error.validator_value
        value: Any = error.instance
        steps += [next(name for name in required if name not in value)]
    return "".join("/" + str(step).replace("~", "~0").replace("/", "~1") for step in steps)
