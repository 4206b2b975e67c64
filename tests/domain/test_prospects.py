from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from prospect_mock.contract.documents import attribute_names
from tests.conftest import LEADS, OPPORTUNITIES, PROSPECTS, assert_problem, create_prospect

PROSPECT_ATTRIBUTES = set(attribute_names("Prospect"))


def all_ids(client: TestClient) -> list[str]:
    ids, offset = [], 0
    while True:
        page = client.get(PROSPECTS, params={"limit": 100, "offset": offset}).json()
        ids += [p["id"] for p in page["data"]]
        offset += 100
        if not page["has_more"]:
            return ids


def test_seeded_list_is_a_full_first_page_newest_first(client: TestClient) -> None:
    page = client.get(PROSPECTS).json()
    assert len(page["data"]) == 20
    assert page["total"] >= 30
    assert page["has_more"] is True
    created = [datetime.fromisoformat(p["created_at"]) for p in page["data"]]
    assert created == sorted(created, reverse=True)
    assert all(set(p) == PROSPECT_ATTRIBUTES for p in page["data"])


@pytest.mark.parametrize(
    ("limit", "offset", "expected_count", "has_more"),
    [(1, 0, 1, True), (100, 0, 5, False), (2, 4, 1, False), (5, 5, 0, False), (5, 500, 0, False)],
)
def test_pagination_edges(
    empty_client: TestClient, limit: int, offset: int, expected_count: int, has_more: bool
) -> None:
    for n in range(5):
        create_prospect(empty_client, company_name=f"Company {n}")
    page = empty_client.get(PROSPECTS, params={"limit": limit, "offset": offset}).json()
    assert len(page["data"]) == expected_count
    assert page["has_more"] is has_more
    assert page["total"] == 5


def test_pages_cover_every_prospect_once(client: TestClient) -> None:
    ids = all_ids(client)
    assert len(ids) == len(set(ids)) == client.get(PROSPECTS).json()["total"]


def test_new_prospects_come_first_latest_first(client: TestClient) -> None:
    first = create_prospect(client)["id"]
    second = create_prospect(client)["id"]
    assert [p["id"] for p in client.get(PROSPECTS, params={"limit": 2}).json()["data"]] == [
        second,
        first,
    ]


def test_an_offset_past_the_end_is_an_empty_page(client: TestClient) -> None:
    page = client.get(PROSPECTS, params={"offset": 10**30}).json()
    assert page["data"] == [] and page["has_more"] is False and page["total"] >= 30


def test_default_limit_is_20_and_offset_0(client: TestClient) -> None:
    assert (
        client.get(PROSPECTS).json()
        == client.get(PROSPECTS, params={"limit": 20, "offset": 0}).json()
    )


def test_create_fills_every_attribute_and_sets_read_only_ones(empty_client: TestClient) -> None:
    prospect = create_prospect(empty_client, industry="Software", annual_revenue=1.5e6)
    assert set(prospect) == PROSPECT_ATTRIBUTES
    assert prospect["id"].startswith("prospect_") and len(prospect["id"]) > len("prospect_")
    assert prospect["created_at"] == prospect["updated_at"]
    assert prospect["created_at"].endswith("Z")
    assert (prospect["company"], prospect["industry"], prospect["annual_revenue"]) == (
        "Acme Ltd",
        "Software",
        1.5e6,
    )
    assert prospect["website"] is None
    assert empty_client.get(f"{PROSPECTS}/{prospect['id']}").json() == prospect


def test_ids_are_unique(empty_client: TestClient) -> None:
    ids = {create_prospect(empty_client)["id"] for _ in range(50)}
    assert len(ids) == 50


def test_partial_update_changes_only_what_is_given_and_moves_updated_at(
    client: TestClient,
) -> None:
    before = client.get(f"{PROSPECTS}/prospect_abc123").json()
    response = client.patch(
        f"{PROSPECTS}/prospect_abc123", json={"industry": "Fintech", "website": None}
    )
    assert response.status_code == 200
    after = response.json()
    assert after["industry"] == "Fintech" and after["website"] is None
    unchanged = PROSPECT_ATTRIBUTES - {"industry", "website", "updated_at"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(
        before["updated_at"]
    )
    assert client.get(f"{PROSPECTS}/prospect_abc123").json() == after


def test_empty_update_changes_nothing(client: TestClient) -> None:
    before = client.get(f"{PROSPECTS}/prospect_abc123").json()
    assert client.patch(f"{PROSPECTS}/prospect_abc123", json={}).json() == before


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"company": ""}, "'company' must not be empty"),
        ({"company": None}, "'company' must be a string, not null"),
        ({"id": "prospect_x"}, "Unknown attribute 'id'"),
        ({"updated_at": "2024-01-01T00:00:00Z"}, "Unknown attribute 'updated_at'"),
        ({"no_of_employees": "12"}, "'no_of_employees' must be one of"),
        ({"annual_revenue": "lots"}, "'annual_revenue' must be a number"),
        ({"website": "x" * 141}, "at most 140 characters"),
    ],
)
def test_invalid_update_is_refused_and_changes_nothing(
    client: TestClient, body: dict[str, Any], fragment: str
) -> None:
    before = client.get(f"{PROSPECTS}/prospect_abc123").json()
    assert_problem(client.patch(f"{PROSPECTS}/prospect_abc123", json=body), 400, fragment)
    assert client.get(f"{PROSPECTS}/prospect_abc123").json() == before


def test_update_and_delete_of_unknown_prospect_is_404(client: TestClient) -> None:
    assert_problem(client.patch(f"{PROSPECTS}/prospect_nope", json={}), 404, "'prospect_nope'")
    assert_problem(client.delete(f"{PROSPECTS}/prospect_nope"), 404, "'prospect_nope'")
    assert_problem(client.get(f"{PROSPECTS}/prospect_nope"), 404, "No prospect has the id")


def test_delete_confirms_and_later_reads_are_404(client: TestClient) -> None:
    prospect_id = create_prospect(client)["id"]
    total = client.get(PROSPECTS).json()["total"]
    response = client.delete(f"{PROSPECTS}/{prospect_id}")
    assert response.status_code == 200
    assert response.json() == {"id": prospect_id, "deleted": True}
    assert_problem(client.get(f"{PROSPECTS}/{prospect_id}"), 404)
    assert_problem(client.delete(f"{PROSPECTS}/{prospect_id}"), 404)
    assert client.get(PROSPECTS).json()["total"] == total - 1


def test_delete_cascades_to_leads_and_opportunities(client: TestClient) -> None:
    leads = client.get(LEADS, params={"parent_id": "prospect_abc123"}).json()["data"]
    opportunities = client.get(OPPORTUNITIES, params={"parent_id": "prospect_abc123"}).json()
    assert leads and opportunities["data"]
    assert client.delete(f"{PROSPECTS}/prospect_abc123").status_code == 200
    assert_problem(client.get(LEADS, params={"parent_id": "prospect_abc123"}), 404)
    assert_problem(client.patch(f"{LEADS}/{leads[0]['id']}", json={"status": "Open"}), 404)
    item = opportunities["data"][0]["id"]
    assert_problem(client.delete(f"{OPPORTUNITIES}/{item}"), 404)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"limit": 0}, "'limit' must be at least 1"),
        ({"limit": 101}, "'limit' must be at most 100"),
        ({"limit": 10**30}, "'limit' must be at most 100"),
        ({"limit": "abc"}, "'limit' must be an integer"),
        ({"offset": -1}, "'offset' must be at least 0"),
        ({"offset": "1.5"}, "'offset' must be an integer"),
        ({"page": 2}, "Unknown query parameter 'page'"),
    ],
)
def test_bad_list_parameters_are_400(
    client: TestClient, query: dict[str, Any], fragment: str
) -> None:
    assert_problem(client.get(PROSPECTS, params=query), 400, fragment)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "'company' is required"),
        ({"company": "A", "compnay": "B"}, "Unknown attribute 'compnay'"),
        ({"company": "A", "expected_closing": "2024-01-01"}, "Unknown attribute"),
        ({"company": 5}, "'company' must be a string, not a number"),
        ({"company": "A", "annual_revenue": True}, "'annual_revenue' must be a number"),
        ([], "The request body must be a JSON object, not an array"),
    ],
)
def test_bad_create_is_400_and_creates_nothing(
    client: TestClient, body: Any, fragment: str
) -> None:
    total = client.get(PROSPECTS).json()["total"]
    assert_problem(client.post(PROSPECTS, json=body), 400, fragment)
    assert client.get(PROSPECTS).json()["total"] == total
