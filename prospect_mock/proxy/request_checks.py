"""What the Prospect API's contract accepts, checked on a request as the client sent it:
the operation, the bearer key's presence, the parameters, the content type and the body.
The sentences are the mock's own wherever the mock says the same thing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from connexion.exceptions import BadRequestProblem
from jsonschema import Draft4Validator, ValidationError
from starlette.datastructures import Headers

from prospect_mock.contract.messages import (
    describe,
    no_resource,
    not_allowed,
    unknown_query_parameter,
)
from prospect_mock.contract.paths import allowed_methods, match_operation
from prospect_mock.contract.responses import operations
from prospect_mock.contract.validation import FORMAT_CHECKER, parse_json
from prospect_mock.proxy.schemas import body_findings
from prospect_mock.proxy.violations import Finding

__all__ = ["check_request"]

JSON = "application/json"


def check_request(
    method: str, path: str, query: str, headers: Headers, body: bytes
) -> tuple[str | None, list[Finding]]:
    """The operation the request is for (None if the contract has none there), and the
    ways the request breaks the contract."""
    found = match_operation(method, path)
    if found is None:
        methods = allowed_methods(path)
        if not methods:
            return None, [Finding("unknown-path", no_resource(path))]
        return None, [Finding("unknown-method", not_allowed(method, path, methods))]
    operation_id, path_values = found
    operation = operations()[operation_id]
    findings = [
        *_credential_findings(headers),
        *_parameter_findings(operation, path_values, query, headers),
        *_body_findings(operation, headers, body),
    ]
    return operation_id, findings


def _credential_findings(headers: Headers) -> Iterator[Finding]:
    # Every operation of the contract needs a bearer key; which keys are good is the
    # server's business, not the contract's.
    scheme, _, key = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        yield Finding(
            "credentials", 'The request has no bearer key; send "Authorization: Bearer KEY".'
        )


def _parameter_findings(
    operation: dict[str, Any], path_values: dict[str, str], query: str, headers: Headers
) -> Iterator[Finding]:
    sent = {
        "path": path_values,
        "query": dict(parse_qsl(query, keep_blank_values=True)),
        "header": headers,
    }
    declared = operation["parameters"]
    known = [p["name"] for p in declared if p["in"] == "query"]
    for name in sent["query"]:
        if name not in known:
            yield Finding("unknown-parameter", unknown_query_parameter(name, known))
    for parameter in declared:
        where, name = parameter["in"], parameter["name"]
        value = sent.get(where, {}).get(name)
        if value is None:
            if parameter.get("required"):
                yield Finding("missing-parameter", f"The {where} parameter '{name}' is required.")
            continue
        schema = parameter.get("schema", {})
        try:
            Draft4Validator(schema, format_checker=FORMAT_CHECKER).validate(_typed(value, schema))
        except ValidationError as error:
            yield Finding("parameter-schema", describe(error, subject=f"'{name}'"))


def _typed(value: str, schema: dict[str, Any]) -> Any:
    """The parameter's text as the value its schema describes, as Connexion reads it; text
    that is not such a value stays text, and the schema then says so."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "array":
        return [_typed(item, schema.get("items", {})) for item in value.split(",")]
    return value


def _body_findings(operation: dict[str, Any], headers: Headers, body: bytes) -> Iterator[Finding]:
    request_body = operation.get("requestBody")
    if request_body is None:
        return
    content_type = headers.get("content-type")
    if not body.strip():
        if request_body.get("required"):
            yield Finding("missing-body", "The request body is empty; send a JSON object.")
        return
    if content_type is None:
        yield Finding(
            "content-type",
            "The request has a body but no Content-Type; send it as application/json.",
        )
        return
    if content_type.partition(";")[0].strip().lower() != JSON:
        detail = f"The request body must be application/json, not {content_type[:80]!r}."
        yield Finding("content-type", detail)
        return
    try:
        value = parse_json(body)
    except BadRequestProblem as problem:
        yield Finding("body-not-json", str(problem.detail))
        return
    schema = request_body["content"][JSON]["schema"]
    yield from body_findings(value, schema, subject="The request body", response=False)
