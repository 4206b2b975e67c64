"""The fast path of validation (jsonschema-rs) never lets through what jsonschema refuses.

Every request's parameters and body are first checked by the contract's schemas compiled
with jsonschema-rs (:func:`prospect_mock.contract.validation.compiled_schema`); only a value it
refuses goes to jsonschema, for the verdict and its sentence. So a value the fast path
accepts must be one that jsonschema accepts too, or the mock would take what the contract
forbids. These properties hold that for every body and parameter schema of the contract,
on values near valid ones: each attribute of a documented example replaced, dropped or added.
"""

from __future__ import annotations

from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from prospect_mock.contract.responses import operations
from prospect_mock.contract.validation import FORMAT_CHECKER, compiled_schema

BODIES = {
    operation_id: operation["requestBody"]["content"]["application/json"]
    for operation_id, operation in operations().items()
    if "requestBody" in operation
}
PARAMETERS = {
    f"{operation_id}:{parameter['name']}": parameter["schema"]
    for operation_id, operation in operations().items()
    for parameter in operation["parameters"]
}

_DATE_LIKE = st.from_regex(
    r"\A-?\d{1,5}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:?\d{2})?)?\Z"
)
_EMAIL_LIKE = st.from_regex(r"\A[\w.+\"-]{0,12}@[\w.\[\]:-]{0,16}\Z")
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, -1.0, 2.5, 1e20]),
    st.text(max_size=200),
    _DATE_LIKE,
    _EMAIL_LIKE,
)
VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


def _examples(content: dict[str, Any]) -> list[Any]:
    examples = [example["value"] for example in content.get("examples", {}).values()]
    return examples + ([content["example"]] if "example" in content else [])


@st.composite
def _near(draw: st.DrawFn, example: Any) -> Any:
    """``example`` with some attributes replaced by any value, dropped, or added."""
    if not isinstance(example, dict) or draw(st.booleans()):
        return draw(st.one_of(st.just(example), VALUES))
    value = dict(example)
    for name in draw(st.lists(st.sampled_from(sorted(value) or [""]), max_size=3)):
        if draw(st.booleans()):
            value[name] = draw(VALUES)
        else:
            value.pop(name, None)
    value.update(draw(st.dictionaries(st.text(max_size=8), VALUES, max_size=2)))
    return value


@pytest.mark.parametrize("operation_id", sorted(BODIES))
def test_every_documented_request_example_takes_the_fast_path(operation_id: str) -> None:
    content = BODIES[operation_id]
    examples = _examples(content) or pytest.skip(f"{operation_id} documents no body example")
    assert all(compiled_schema(content["schema"]).is_valid(body) for body in examples)


@pytest.mark.parametrize("operation_id", sorted(BODIES))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_body_the_fast_path_accepts_jsonschema_accepts(
    operation_id: str, data: st.DataObject
) -> None:
    content = BODIES[operation_id]
    schema = content["schema"]
    seeds = _examples(content) or [{}]
    body = data.draw(st.sampled_from(seeds).flatmap(_near))
    if compiled_schema(schema).is_valid(body):
        errors = list(
            Draft4RequestValidator(schema, format_checker=FORMAT_CHECKER).iter_errors(body)
        )
        assert not errors, f"the fast path accepted {body!r}, which breaks: {errors[0].message}"


@pytest.mark.parametrize("parameter", sorted(PARAMETERS))
@settings(max_examples=200, deadline=None)
@given(value=VALUES)
def test_a_parameter_the_fast_path_accepts_jsonschema_accepts(parameter: str, value: Any) -> None:
    schema = PARAMETERS[parameter]
    if compiled_schema(schema).is_valid(value):
        errors = list(Draft4Validator(schema).iter_errors(value))
        assert not errors, f"the fast path accepted {value!r}, which breaks: {errors[0].message}"


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, 1.0),
        ({"type": "string", "format": "date"}, "2024-02-30"),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00"),
        ({"type": "string", "format": "email"}, "not an email"),
        ({"type": "string", "maxLength": 2}, "ab\N{GRINNING FACE}"),
        ({"type": "string", "nullable": True, "enum": ["a"]}, "b"),
    ],
    ids=["integral-float", "date", "date-time", "email", "length", "nullable-enum"],
)
def test_the_fast_path_refuses_what_draft_4_refuses(schema: dict[str, Any], value: Any) -> None:
    assert not compiled_schema(schema).is_valid(value)
    assert not Draft4RequestValidator(schema, format_checker=FORMAT_CHECKER).is_valid(value)
