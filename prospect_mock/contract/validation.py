"""Connexion's request validators, with strict JSON parsing and one-sentence errors.

The rules themselves all come from ``openapi.yaml``; what changes here is how a body is
read (bytes that are not UTF-8, NaN, numbers beyond a float and absurd nesting are refused
instead of crashing or being stored) and how a broken rule is reported (see
:mod:`prospect_mock.contract.messages`).
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import AsyncGenerator
from typing import Any

import jsonschema_rs
from connexion.exceptions import BadRequestProblem, UnsupportedMediaTypeProblem
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator, resolve_refs
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from prospect_mock.contract.documents import load_spec
from prospect_mock.contract.messages import describe, unknown_query_parameter

__all__ = [
    "FORMAT_CHECKER",
    "PARSED",
    "VALIDATOR_MAP",
    "Parsed",
    "compiled_schema",
    "parse_json",
    "record_mismatch",
]

PARSED = "prospect_mock.parsed"
"""The scope extension holding what validation parsed of a request (:class:`Parsed`)."""


class Parsed:
    """A request's parameters and JSON body as validation parsed them, handed on to the
    handler so that it does not parse them again (:mod:`prospect_mock.web.connexion_app`)."""

    def __init__(self) -> None:
        self.path: dict[str, Any] | None = None
        self.query: dict[str, Any] | None = None
        self.has_body = False
        self.body: Any = None

    @classmethod
    def of(cls, scope: Scope) -> Parsed:
        """The request's, made empty the first time it is asked for."""
        extensions = scope.setdefault("extensions", {})
        parsed: Parsed = extensions.setdefault(PARSED, cls())
        return parsed

    def parameters(self, path: dict[str, Any], query: dict[str, Any]) -> None:
        self.path, self.query = path, query

    def json_body(self, body: Any) -> None:
        self.has_body, self.body = True, body


FORMAT_CHECKER = FormatChecker()
"""Every format jsonschema knows (Draft 4's own checker knows no "date"), with "email" as
strict as Schemathesis' (plain jsonschema accepts anything with an "@")."""

_EMAIL = jsonschema_rs.validator_for({"format": "email"}, validate_formats=True)


@FORMAT_CHECKER.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.is_valid(value)


_compiled_schemas: dict[int, tuple[dict[str, Any], Any]] = {}


def compiled_schema(schema: dict[str, Any]) -> Any:
    """``schema`` compiled by jsonschema-rs, once, to say quickly whether a value keeps it.

    Most values do, and jsonschema-rs says so about twenty times faster than jsonschema,
    which is then asked only for the sentence about a value that does not. A value it finds
    valid, jsonschema does too (``tests/contract/test_validation_fast_path.py`` checks this): it
    follows Draft 4 as jsonschema does (``1.0`` is not an integer), ``nullable`` becomes a
    ``null`` type as Connexion allows it, and it checks every format the contract uses.
    Where the two differ, jsonschema-rs is the stricter (a ``$`` in a pattern does not
    match before a final line break), and jsonschema has the last word.
    """
    compiled = _compiled_schemas.get(id(schema))
    if compiled is None or compiled[0] is not schema:
        validator = jsonschema_rs.Draft4Validator(_json_schema(schema), validate_formats=True)
        compiled = _compiled_schemas[id(schema)] = (schema, validator)
    return compiled[1]


def _json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema: ``nullable: true`` admits ``null``."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    plain = {key: _json_schema(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable"):
        if "type" in plain:
            plain["type"] = [plain["type"], "null"]
        if "enum" in plain:
            plain["enum"] = [*plain["enum"], None]
    return plain


_MAX_FLOAT_DIGITS = len(str(int(sys.float_info.max)))


class _NotPlainJSON(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise _NotPlainJSON(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotPlainJSON(f"the number {text[:40]} is too large")
    return number


def _bounded_int(text: str) -> int:
    # Checked by length first: Python refuses to convert integers of thousands of digits.
    number = int(text) if len(text.lstrip("-")) <= _MAX_FLOAT_DIGITS else math.inf
    if abs(number) > sys.float_info.max:
        raise _NotPlainJSON(f"the number {text[:40]}… is too large")
    return int(number)


def parse_json(raw: bytes) -> Any:
    """Parse a request body as strict JSON, raising a 400 problem that says what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestProblem("The request body is not valid UTF-8 text.") from None
    try:
        return json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as error:
        raise BadRequestProblem(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}."
        ) from None
    except (_NotPlainJSON, ValueError) as error:
        raise BadRequestProblem(f"The request body is not valid JSON: {error}.") from None
    except RecursionError:
        raise BadRequestProblem("The request body is nested too deeply.") from None


_EMPTY_BODY = "The request body is empty; send a JSON object."


class JSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        # A chunked body has its length by now (the request plan read it: web/body_limit.py).
        length = Headers(scope=scope).get("content-length", "")
        if length.strip() in ("", "0"):
            if self._required:
                raise BadRequestProblem(_EMPTY_BODY)
            return receive, scope  # an optional body left out: nothing to check
        wrapped: tuple[Receive, Scope] = await super().wrap_receive(receive, scope=scope)
        return wrapped

    @functools.cached_property
    def _validator(self) -> Draft4Validator:
        validator: Draft4Validator = Draft4RequestValidator(
            self._schema, format_checker=FORMAT_CHECKER
        )
        return validator

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        if "content-type" not in Headers(scope=scope):
            raise UnsupportedMediaTypeProblem()
        raw = b"".join([chunk async for chunk in stream])
        body = parse_json(raw) if raw.strip() else None
        Parsed.of(scope).json_body(body)
        return body

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            raise BadRequestProblem(_EMPTY_BODY)
        if compiled_schema(self._schema).is_valid(body):
            return None
        try:
            self._validator.validate(body)  # returns None; Connexion ignores the result
        except ValidationError as error:
            raise BadRequestProblem(describe(error)) from None
        return None


class SentenceParameterValidator(ParameterValidator):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: dict[str, Draft4Validator] = {}

    def _schema_validator(self, param: dict[str, Any]) -> Draft4Validator:
        # Compiled at the first use: one validator object lives as long as its operation.
        key = f"{param['in']}:{param['name']}"
        if key not in self._compiled:
            self._compiled[key] = Draft4Validator(param.get("schema", param))
        return self._compiled[key]

    def validate_request(self, request):  # type: ignore[no-untyped-def]
        if self.strict_validation:
            unknown = self.validate_query_parameter_list(request, self.security_query_params)
            if unknown:
                known = [param["name"] for param in self.parameters.get("query", [])]
                raise BadRequestProblem(unknown_query_parameter(sorted(unknown)[0], known))
        super().validate_request(request)

    def validate_parameter(self, parameter_type, value, param, param_name=None):  # type: ignore[no-untyped-def]
        name = param_name or param["name"]
        if value is None:
            if param.get("required"):
                return f"The {parameter_type} parameter '{name}' is required."
            return None
        schema = param.get("schema", param)
        if compiled_schema(schema).is_valid(value):
            return None
        try:
            self._schema_validator(param).validate(value)
        except ValidationError as error:
            return describe(error, subject=f"'{name}'")
        return None


VALIDATOR_MAP = {
    "body": {"application/json": JSONBodyValidator},
    "parameter": SentenceParameterValidator,
}


def record_mismatch(schema: str, record: Any) -> str | None:
    """How ``record`` breaks the contract's schema ``schema``, as a sentence about "It";
    None if it fits."""
    mismatch = best_match(_record_validator(schema).iter_errors(record))
    return describe(mismatch, subject="It") if mismatch is not None else None


@functools.cache
def _record_validator(schema: str) -> Draft4ResponseValidator:
    resolved = resolve_refs(load_spec())["components"]["schemas"][schema]
    return Draft4ResponseValidator(resolved, format_checker=FORMAT_CHECKER)
