"""Schemathesis proves, in process, that every response the mock gives conforms to the
contract: every operation, valid and invalid data, every check, and stateful sequences
driven by the contract's links.

Checks and auth come from ``schemathesis.toml`` (every check is on; one is off for one
group of operations, with the reason written there). ``PROSPECT_MOCK_EXAMPLES`` scales the
number of generated cases: ``make test-deep`` sets it high.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from connexion import AsyncApp
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from prospect_mock import create_app
from tests.conftest import AUTH

if TYPE_CHECKING:
    # Schemathesis defines it for type checkers alone.
    from schemathesis.specs.openapi.schemas import OpenApiCase

EXAMPLES = int(os.environ.get("PROSPECT_MOCK_EXAMPLES", "25"))

contract_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def app(tmp_path: Path) -> AsyncApp:
    return create_app(tmp_path / "db.json")


@pytest.fixture
def contract(app: AsyncApp) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("contract")


@schema.parametrize()
@contract_settings
def test_every_operation_conforms_to_the_contract(case: OpenApiCase) -> None:
    case.call_and_validate()


def test_stateful_sequences_conform_to_the_contract(
    contract: schemathesis.schemas.BaseSchema, app: AsyncApp
) -> None:
    class FromTheFixtures(contract.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Every scenario starts from the same data, so that Hypothesis can replay it.
            TestClient(app, headers=AUTH).post("/__admin/reset")

    FromTheFixtures.run(
        settings=settings(
            max_examples=EXAMPLES * 2,
            stateful_step_count=8,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_the_documented_lifecycle_conforms_step_by_step(
    contract: schemathesis.schemas.BaseSchema,
) -> None:
    """The chain the links describe, walked on purpose so that every step surely happens:
    create a prospect, give it leads and opportunities, list, reorder, update and delete them,
    then delete the prospect and find its line items gone. Every response passes every check."""

    def call(method: str, path: str, expected: int, **parts: Any) -> dict[str, Any]:
        case = contract[path][method].Case(**parts)
        response = case.call_and_validate(headers=AUTH)
        assert response.status_code == expected, response.text
        answer: dict[str, Any] = response.json()
        return answer

    prospect = call("POST", "/api/crm/prospect", 201, body={"company": "Lifecycle Ltd"})
    pid = {"id": prospect["id"]}
    call("GET", "/api/crm/prospect/{id}", 200, path_parameters=pid)
    call("PATCH", "/api/crm/prospect/{id}", 200, path_parameters=pid, body={"territory": "Japan"})
    for path, first in [
        ("/api/crm/prospect-lead", {"lead": "L-1"}),
        ("/api/crm/prospect-opportunity", {}),
    ]:
        items = [
            call("POST", path, 201, body={"prospect_id": prospect["id"], **first})["id"]
            for _ in range(3)
        ]
        listing = call("GET", path, 200, query={"parent_id": prospect["id"], "limit": 2})
        assert listing["has_more"] is True and listing["total"] == 3
        order = [items[2], items[0], items[1]]
        reordered = call(
            "POST", f"{path}/reorder", 200, body={"parent_id": prospect["id"], "ids": order}
        )
        assert [item["id"] for item in reordered["data"]] == order
        call("POST", f"{path}/reorder", 409, body={"parent_id": prospect["id"], "ids": order[:2]})
        call("PATCH", f"{path}/{{id}}", 200, path_parameters={"id": items[0]}, body={})
        call("DELETE", f"{path}/{{id}}", 200, path_parameters={"id": items[0]})
        call("DELETE", f"{path}/{{id}}", 404, path_parameters={"id": items[0]})
    call("DELETE", "/api/crm/prospect/{id}", 200, path_parameters=pid)
    call("GET", "/api/crm/prospect/{id}", 404, path_parameters=pid)
    for path in ("/api/crm/prospect-lead", "/api/crm/prospect-opportunity"):
        call("GET", path, 404, query={"parent_id": prospect["id"]})
