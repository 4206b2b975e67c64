"""The contract itself: valid, truthful examples and fixtures, and one handler per operation."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from connexion.json_schema import Draft4ResponseValidator, resolve_refs
from openapi_spec_validator import validate

from prospect_mock import handlers
from prospect_mock.contract.documents import load_admin_spec, load_spec
from prospect_mock.contract.validation import FORMAT_CHECKER
from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.domain.seeding import load_fixtures

SPEC = load_spec()
RESOLVED = resolve_refs(SPEC)
METHODS = {"get", "post", "patch", "delete", "put"}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in RESOLVED["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def check(instance: Any, schema: dict[str, Any]) -> None:
    Draft4ResponseValidator(schema, format_checker=FORMAT_CHECKER).validate(instance)


def test_the_spec_is_valid_openapi_3_0() -> None:
    validate(SPEC)
    assert SPEC["openapi"] == "3.0.3"


def test_all_15_operations_are_documented() -> None:
    found = [(path, method) for path, method, _ in operations()]
    assert len(found) == 15
    for _, _, operation in operations():
        assert operation["summary"] and operation["description"] and operation["tags"]
        assert "bearerAuth" in str(operation.get("security", SPEC["security"]))


def media_examples() -> Iterator[Any]:
    for path, method, operation in operations():
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, response) for status, response in operation["responses"].items()]
        for where, body in bodies:
            for media, content in body.get("content", {}).items():
                examples = [content["example"]] if "example" in content else []
                examples += [e["value"] for e in content.get("examples", {}).values()]
                for n, example in enumerate(examples):
                    label = f"{method.upper()} {path} {where} {media} #{n}"
                    yield pytest.param(example, content["schema"], id=label)


@pytest.mark.parametrize(("example", "schema"), list(media_examples()))
def test_every_example_matches_its_schema(example: Any, schema: dict[str, Any]) -> None:
    check(example, schema)


def test_every_error_response_is_a_problem() -> None:
    for _, _, operation in operations():
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"]


FIXTURES = load_fixtures()


@pytest.mark.parametrize("kind", RESOURCE_TYPES, ids=lambda kind: kind.name)
def test_every_fixture_matches_its_schema(kind: Any) -> None:
    schema = RESOLVED["components"]["schemas"][kind.schema]
    for record in FIXTURES[kind.name]:
        check(record, schema)
        assert record["id"].startswith(f"{kind.id_prefix}_")


def test_fixtures_are_consistent_and_rich() -> None:
    prospects = {p["id"] for p in FIXTURES["prospects"]}
    assert len(prospects) >= 30
    assert len({p["industry"] for p in FIXTURES["prospects"]}) >= 10
    assert len({p["territory"] for p in FIXTURES["prospects"]}) >= 10
    assert len({p["no_of_employees"] for p in FIXTURES["prospects"]}) == 6
    for kind in RESOURCE_TYPES[1:]:
        items = FIXTURES[kind.name]
        parents = Counter(item["prospect_id"] for item in items)
        assert set(parents) <= prospects
        assert len(parents) > len(prospects) / 2, f"most prospects have {kind.name}"
        for parent in parents:
            assert sorted(i["idx"] for i in items if i["prospect_id"] == parent) == list(
                range(1, parents[parent] + 1)
            )
    ids = [r["id"] for records in FIXTURES.values() for r in records]
    assert len(ids) == len(set(ids))


def path_parameter_examples() -> Iterator[Any]:
    for path, method, operation in operations():
        # The handlers' module is named after the resource, as its fixture file is.
        resource = operation["operationId"].partition(".")[0]
        parameters = RESOLVED["paths"][path].get("parameters", []) + operation.get("parameters", [])
        for parameter in parameters:
            if parameter["in"] == "path":
                label = f"{method.upper()} {path} {parameter['name']}"
                yield pytest.param(resource, parameter.get("example"), id=label)


@pytest.mark.parametrize(("resource", "example"), list(path_parameter_examples()))
def test_every_path_parameter_example_names_a_fixture_of_its_resource(
    resource: str, example: Any
) -> None:
    # Swagger UI and Postman prefill it: Try it out on a seeded mock then finds a record.
    assert example in {record["id"] for record in FIXTURES[resource]}


def handler_functions() -> set[str]:
    found = set()
    for module_info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"{handlers.__name__}.{module_info.name}")
        for name, value in vars(module).items():
            if not name.startswith("_") and callable(value) and not inspect.isclass(value):
                found.add(f"{module_info.name}.{name}")
    return found


def test_every_operation_has_a_handler_and_every_handler_an_operation() -> None:
    admin = load_admin_spec()["paths"].values()
    admin_ids = {op["operationId"] for item in admin for op in item.values() if "operationId" in op}
    operation_ids = {operation["operationId"] for _, _, operation in operations()}
    assert operation_ids | admin_ids == handler_functions()
    assert not operation_ids & admin_ids


def test_the_admin_spec_is_valid_and_self_contained() -> None:
    validate(load_admin_spec())
    assert "$ref" not in str(load_admin_spec())


def test_the_journal_filter_names_every_operation_of_the_prospect_api() -> None:
    """``operation`` filters are checked against this list, so a typo gets 400, not 0."""
    operation_filter = load_admin_spec()["paths"]["/requests/count"]["get"]["parameters"][0]
    assert operation_filter["name"] == "operation"
    assert operation_filter["schema"]["enum"] == [op["operationId"] for _, _, op in operations()]
