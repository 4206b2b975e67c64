"""The admin API, ``/__admin``: reset, export and load the data, read the request journal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.contract.documents import attribute_names, load_admin_spec
from prospect_mock.domain.resources import RESOURCE_TYPES, ResourceType
from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem, create_prospect

if TYPE_CHECKING:
    # Schemathesis defines it for type checkers alone.
    from schemathesis.specs.openapi.schemas import OpenApiCase

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


def test_export_then_load_round_trips(client: TestClient) -> None:
    exported = client.get("/__admin/data").json()
    client.post("/__admin/reset", params={"empty": "true"})
    assert client.put("/__admin/data", json=exported).json() == SEEDED
    assert client.get("/__admin/data").json() == exported


def test_loaded_data_is_served_and_survives_a_restart(db_path: Path) -> None:
    prospect = {
        "id": "prospect_loaded",
        "created_at": "2025-05-01T08:00:00Z",
        "updated_at": "2025-05-01T08:00:00Z",
        "company": "Loaded Ltd",
    } | dict.fromkeys(attribute_names("Prospect")[3:-1])
    lead = {"id": "prospect-lead_loaded", "idx": 1, "prospect_id": "prospect_loaded", "lead": "L"}
    lead |= dict.fromkeys(["lead_name", "status", "email", "mobile_no", "lead_owner"])
    data = {"prospects": [prospect], "prospect_leads": [lead], "prospect_opportunities": []}
    with TestClient(create_app(db_path), headers=AUTH) as client:
        assert client.put("/__admin/data", json=data).status_code == 200
    with TestClient(create_app(db_path), headers=AUTH) as client:
        assert client.get(PROSPECTS).json()["data"] == [prospect]
        assert client.get(LEADS, params={"parent_id": "prospect_loaded"}).json()["data"] == [lead]


def with_change(exported: dict[str, Any], change: str) -> dict[str, Any]:
    data = {name: [dict(record) for record in records] for name, records in exported.items()}
    if change == "orphan":
        data["prospect_leads"][0]["prospect_id"] = "prospect_nobody"
    elif change == "duplicate":
        data["prospects"][1]["id"] = data["prospects"][0]["id"]
    elif change == "prefix":
        data["prospect_opportunities"][0]["id"] = "opportunity_1"
    elif change == "idx":
        data["prospect_leads"][0]["idx"] = 99
    return data


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ("orphan", "belongs to 'prospect_nobody', which is not in prospects"),
        ("duplicate", "as another record does"),
        ("prefix", "does not start with 'prospect-opportunity_'"),
        ("idx", "do not have idx 1.."),
    ],
)
def test_a_data_set_that_does_not_fit_together_is_409_and_changes_nothing(
    client: TestClient, change: str, fragment: str
) -> None:
    before = client.get("/__admin/data").json()
    assert_problem(client.put("/__admin/data", json=with_change(before, change)), 409, fragment)
    assert client.get("/__admin/data").json() == before


def test_a_data_set_that_breaks_a_schema_is_400_and_changes_nothing(client: TestClient) -> None:
    before = client.get("/__admin/data").json()
    broken = {**before, "prospects": [{**before["prospects"][0], "annual_revenue": "lots"}]}
    assert_problem(client.put("/__admin/data", json=broken), 400, "'prospects[0].annual_revenue'")
    missing_id = {
        **before,
        "prospects": [{k: v for k, v in before["prospects"][0].items() if k != "id"}],
    }
    assert_problem(client.put("/__admin/data", json=missing_id), 400, "'id' is required")
    assert_problem(client.put("/__admin/data", json={"prospects": []}), 400, "is required")
    assert client.get("/__admin/data").json() == before


@pytest.mark.parametrize("kind", RESOURCE_TYPES, ids=lambda kind: kind.name)
def test_stored_records_have_exactly_the_public_attributes(kind: ResourceType) -> None:
    stored = load_admin_spec()["components"]["schemas"][f"Stored{kind.schema}"]
    assert list(stored["properties"]) == list(attribute_names(kind.schema))


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
    assert set(admin_spec["paths"]) == {
        "/reset",
        "/data",
        "/requests",
        "/requests/count",
        "/requests/wait",
        "/scenarios",
        "/scenarios/{id}",
        "/workspaces",
        "/workspaces/{name}",
    }
    assert set(admin_spec["paths"]["/data"]) == {"get", "put"}
    assert anonymous.get("/__admin/ui/").status_code == 200
    wrong_method = anonymous.delete("/__admin/reset")
    assert_problem(wrong_method, 405, "use POST")
    assert wrong_method.headers["allow"] == "POST"
    assert anonymous.options("/__admin/data").headers["allow"] == "GET, HEAD, PUT"


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
def test_the_admin_api_conforms_to_its_contract(case: OpenApiCase) -> None:
    case.call_and_validate()
