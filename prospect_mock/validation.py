"""Connexion's request validators, with strict JSON parsing and one-sentence errors.

The rules themselves all come from ``openapi.yaml``; what changes here is how a body is
read (bytes that are not UTF-8, NaN, numbers beyond a float and absurd nesting are refused
instead of crashing or being stored) and how a broken rule is reported (see
:mod:`prospect_mock.messages`).
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
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from .messages import describe

__all__ = ["FORMAT_CHECKER", "VALIDATOR_MAP", "parse_json"]


FORMAT_CHECKER = FormatChecker()
"""Every format jsonschema knows (Draft 4's own checker knows no "date"), with "email" as
strict as Schemathesis' (plain jsonschema accepts anything with an "@")."""

_EMAIL = jsonschema_rs.validator_for({"format": "email"}, validate_formats=True)


@FORMAT_CHECKER.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.is_valid(value)


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
        length = Headers(scope=scope).get("content-length", "")
        if length.strip() in ("", "0"):
            if self._required:
                raise BadRequestProblem(_EMPTY_BODY)
            if "transfer-encoding" not in Headers(scope=scope):
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
        return parse_json(raw) if raw.strip() else None

    def _validate(self, body: Any) -> dict[str, Any] | None:
        if body is None:
            raise BadRequestProblem(_EMPTY_BODY)
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
                takes = f"it takes {', '.join(known)}" if known else "it takes none"
                raise BadRequestProblem(
                    f"Unknown query parameter {sorted(unknown)[0][:60]!r}; {takes}."
                )
        super().validate_request(request)

    def validate_parameter(self, parameter_type, value, param, param_name=None):  # type: ignore[no-untyped-def]
        name = param_name or param["name"]
        if value is None:
            if param.get("required"):
                return f"The {parameter_type} parameter '{name}' is required."
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
