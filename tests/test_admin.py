"""The admin API, ``/__admin``: reset, export and load the data, read the request journal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from prospect_mock import create_app

from .conftest import LEADS, PROSPECTS, assert_problem, create_prospect

EXAMPLES = int(os.environ.get("PROSPECT_MOCK_EXAMPLES", "25"))
SEEDED = {"prospects": 35, "prospect_leads": 59, "prospect_opportunities": 46}


def test_reset_goes_back_to_the_fixtures_or_to_empty(client: TestClient) -> None:
    create_prospect(client)
    client.delete(f"{PROSPECTS}/prospect_abc123")
    assert client.post("/__admin/reset").json() == SEEDED
    assert client.get(f"{PROSPECTS}/prospect_abc123").status_code == 200
    empty = client.post("/__admin/reset", params={"empty": "true"}).json()
    assert empty == dict.fromkeys(SEEDED, 0)
    assert client.get(PROSPECTS).json() == {"data": [], "has_more": False, "total": 0}


def test_export_returns_every_record_as_the_api_does(client: TestClient) -> None:
    exported = client.get("/__admin/data").json()
    assert {name: len(records) for name, records in exported.items()} == SEEDED
    listed = client.get(PROSPECTS, params={"limit": 100}).json()["data"]
    assert sorted(exported["prospects"], key=lambda p: p["id"]) == sorted(
        listed, key=lambda p: p["id"]
    )
    leads = client.get(LEADS, params={"parent_id": "prospect_abc123"}).json()["data"]
    assert all(lead in exported["prospect_leads"] for lead in leads)


def test_the_journal_keeps_the_last_requests_newest_first(client: TestClient) -> None:
    client.delete("/__admin/requests")
    client.get(PROSPECTS, params={"limit": 1})
    client.post(PROSPECTS, json={"company": "Journal"})
    client.get(f"{PROSPECTS}/nope")
    journal = client.get("/__admin/requests", params={"limit": 2}).json()
    assert journal["total"] == 3
    newest, second = journal["data"]
    assert (newest["method"], newest["path"], newest["status"]) == ("GET", f"{PROSPECTS}/nope", 404)
    assert "No prospect has the id" in newest["response_body"]
    assert (second["method"], second["status"], second["request_body"]) == (
        "POST",
        201,
        '{"company":"Journal"}',
    )
    assert second["duration_ms"] >= 0 and second["at"].endswith("Z")
    assert client.delete("/__admin/requests").json() == {"deleted": 3}
    assert client.get("/__admin/requests").json() == {"data": [], "total": 0}


def test_admin_needs_a_key_and_keeps_out_of_the_public_contract(db_path: Path) -> None:
    anonymous = TestClient(create_app(db_path))
    for method, path in [
        ("POST", "/__admin/reset"),
        ("GET", "/__admin/data"),
        ("GET", "/__admin/requests"),
    ]:
        assert_problem(anonymous.request(method, path), 401)
    assert "/reset" not in anonymous.get("/openapi.json").text
    admin_spec = anonymous.get("/__admin/openapi.json").json()
    assert set(admin_spec["paths"]) == {"/reset", "/data", "/requests"}
    assert anonymous.get("/__admin/ui/").status_code == 200


@pytest.fixture
def admin_contract(tmp_path: Path) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/__admin/openapi.json", create_app(tmp_path / "db.json"))


admin_schema = schemathesis.pytest.from_fixture("admin_contract")


@admin_schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_admin_api_conforms_to_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()
