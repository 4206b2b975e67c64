"""What the Prospect API's contract documents an operation answers, checked on a
response: a documented status (``5XX`` documents 500-599), its content type, its headers
and its body's schema (for errors, a problem document)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft4Validator, ValidationError
from starlette.datastructures import Headers

from prospect_mock.contract.messages import describe
from prospect_mock.contract.responses import documented_statuses, operations
from prospect_mock.contract.validation import FORMAT_CHECKER
from prospect_mock.proxy.coverage import documented_key
from prospect_mock.proxy.schemas import body_findings
from prospect_mock.proxy.violations import Finding

__all__ = ["check_response"]


def check_response(
    operation: str, status: int, headers: Headers, body: bytes, method: str = "GET"
) -> list[Finding]:
    """The ways the answer ``status``, ``headers``, ``body`` to ``operation`` breaks the
    contract; ``body`` is decoded (no ``Content-Encoding``). A HEAD answer has no body."""
    key = documented_key(operation, status)
    if key is None:
        documented = ", ".join(documented_statuses(operation))
        detail = f"{operation} does not document the status {status}; it documents {documented}."
        return [Finding("undocumented-status", detail)]
    response = operations()[operation]["responses"][key]
    findings = list(_header_findings(response, headers))
    if method != "HEAD":
        findings += _content_findings(response, headers, body)
    return findings


def _header_findings(response: dict[str, Any], headers: Headers) -> Iterator[Finding]:
    for name, header in response.get("headers", {}).items():
        value = headers.get(name)
        if value is None:
            if header.get("required"):
                yield Finding("missing-header", f"The response has no {name} header.")
            continue
        try:
            Draft4Validator(header.get("schema", {}), format_checker=FORMAT_CHECKER).validate(value)
        except ValidationError as error:
            yield Finding("header-schema", describe(error, subject=f"The {name} header"))


def _content_findings(response: dict[str, Any], headers: Headers, body: bytes) -> Iterator[Finding]:
    content = response.get("content")
    if not content:
        return
    media_type, media = next(iter(content.items()))
    sent = headers.get("content-type", "")
    if sent.partition(";")[0].strip().lower() != media_type:
        got = repr(sent[:80]) if sent else "none"
        yield Finding("content-type", f"The response must be {media_type}, not {got}.")
        return
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "it is not UTF-8"
        yield Finding("body-not-json", f"The response body is not valid JSON: {reason}.")
        return
    yield from body_findings(value, media["schema"], subject="The response body", response=True)
