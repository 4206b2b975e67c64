"""Leads and opportunities share one implementation; every test runs against both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from prospect_mock.contract.documents import attribute_names
from tests.conftest import LEADS, OPPORTUNITIES, PROSPECTS, assert_problem, create_prospect

Kind = tuple[str, str, dict[str, Any]]
"""A line item kind: its path, its schema, and the attributes a create sends."""

KINDS = [
    pytest.param((LEADS, "ProspectLead", {"lead": "CRM-LEAD-2024-00099"}), id="leads"),
    pytest.param((OPPORTUNITIES, "ProspectOpportunity", {"amount": 1200.5}), id="opportunities"),
]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> Kind:
    param: Kind = request.param
    return param


def add(
    client: TestClient, path: str, prospect_id: str, attributes: dict[str, Any], **more: Any
) -> dict[str, Any]:
    response = client.post(path, json={"prospect_id": prospect_id, **attributes, **more})
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


def listed(client: TestClient, path: str, prospect_id: str, **query: Any) -> dict[str, Any]:
    response = client.get(path, params={"parent_id": prospect_id, **query})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_create_appends_with_next_idx_and_every_attribute(client: TestClient, kind: Kind) -> None:
    path, schema, attributes = kind
    prospect_id = create_prospect(client)["id"]
    items = [add(client, path, prospect_id, attributes) for _ in range(3)]
    assert [item["idx"] for item in items] == [1, 2, 3]
    assert all(set(item) == set(attribute_names(schema)) for item in items)
    assert all(item["prospect_id"] == prospect_id for item in items)
    assert items[0]["id"].startswith(path.rsplit("/", 1)[1] + "_")
    assert listed(client, path, prospect_id) == {"data": items, "has_more": False, "total": 3}


def test_list_pages_by_idx(client: TestClient, kind: Kind) -> None:
    path, _, attributes = kind
    prospect_id = create_prospect(client)["id"]
    ids = [add(client, path, prospect_id, attributes)["id"] for _ in range(5)]
    page = listed(client, path, prospect_id, limit=2, offset=2)
    assert [item["id"] for item in page["data"]] == ids[2:4]
    assert (page["has_more"], page["total"]) == (True, 5)
    assert listed(client, path, prospect_id, offset=5)["data"] == []


def test_list_needs_a_known_parent(client: TestClient, kind: Kind) -> None:
    path, _, _ = kind
    assert_problem(client.get(path), 400, "'parent_id' is required")
    assert_problem(client.get(path, params={"parent_id": "prospect_nope"}), 404, "'prospect_nope'")
    assert_problem(client.get(path, params={"parent_id": "p", "limit": 0}), 400, "'limit'")


def test_create_for_unknown_prospect_is_404_naming_it(client: TestClient, kind: Kind) -> None:
    path, _, attributes = kind
    response = client.post(path, json={"prospect_id": "prospect_ghost", **attributes})
    assert_problem(response, 404, "No prospect has the id 'prospect_ghost'")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"idx": 4}, "Unknown attribute 'idx'"),
        ({"id": "x"}, "Unknown attribute 'id'"),
        ({"prospect_id": "prospect_abc123"}, "Unknown attribute 'prospect_id'"),
    ],
)
def test_read_only_attributes_cannot_be_updated(
    client: TestClient, kind: Kind, body: dict[str, Any], fragment: str
) -> None:
    path, _, attributes = kind
    item = add(client, path, "prospect_abc123", attributes)
    assert_problem(client.patch(f"{path}/{item['id']}", json=body), 400, fragment)


def test_update_is_partial(client: TestClient, kind: Kind) -> None:
    path, schema, attributes = kind
    item = add(client, path, "prospect_abc123", attributes)
    name = "status" if schema == "ProspectLead" else "stage"
    updated = client.patch(f"{path}/{item['id']}", json={name: "Replied"}).json()
    assert updated == {**item, name: "Replied"}
    assert_problem(client.patch(f"{path}/nope", json={name: "x"}), 404, "'nope'")


def test_delete_closes_the_gap_in_idx(client: TestClient, kind: Kind) -> None:
    path, _, attributes = kind
    prospect_id = create_prospect(client)["id"]
    ids = [add(client, path, prospect_id, attributes)["id"] for _ in range(4)]
    assert client.delete(f"{path}/{ids[1]}").json() == {"id": ids[1], "deleted": True}
    page = listed(client, path, prospect_id)
    assert [(item["id"], item["idx"]) for item in page["data"]] == [
        (ids[0], 1),
        (ids[2], 2),
        (ids[3], 3),
    ]
    assert add(client, path, prospect_id, attributes)["idx"] == 4
    assert_problem(client.delete(f"{path}/{ids[1]}"), 404)


def test_reorder_renumbers_and_returns_the_whole_list(client: TestClient, kind: Kind) -> None:
    path, _, attributes = kind
    prospect_id = create_prospect(client)["id"]
    ids = [add(client, path, prospect_id, attributes)["id"] for _ in range(3)]
    new_order = [ids[2], ids[0], ids[1]]
    response = client.post(f"{path}/reorder", json={"parent_id": prospect_id, "ids": new_order})
    assert response.status_code == 200, response.text
    page = response.json()
    assert [(item["id"], item["idx"]) for item in page["data"]] == list(
        zip(new_order, [1, 2, 3], strict=True)
    )
    assert (page["has_more"], page["total"]) == (False, 3)
    assert listed(client, path, prospect_id) == page


def test_reorder_of_no_items_is_an_empty_list(client: TestClient, kind: Kind) -> None:
    path, _, _ = kind
    prospect_id = create_prospect(client)["id"]
    response = client.post(f"{path}/reorder", json={"parent_id": prospect_id, "ids": []})
    assert response.json() == {"data": [], "has_more": False, "total": 0}


@pytest.mark.parametrize(
    ("bad_order", "status", "fragment"),
    [
        # Each returns the ids to send and the id the refusal must name.
        (lambda ids, foreign: ([ids[0], ids[1]], ids[2]), 409, "leaves out the"),
        (lambda ids, foreign: ([ids[0], ids[1], ids[2], ids[0]], ids[0]), 400, "more than once"),
        (lambda ids, foreign: ([ids[0], ids[1], foreign], foreign), 409, "is not a"),
        (lambda ids, foreign: ([*ids, "made_up"], "made_up"), 409, "is not a"),
    ],
    ids=["missing", "duplicated", "foreign", "unknown"],
)
def test_bad_reorder_is_refused_naming_the_id_and_changes_nothing(
    client: TestClient,
    kind: Kind,
    bad_order: Callable[[list[str], str], tuple[list[str], str]],
    status: int,
    fragment: str,
) -> None:
    path, _, attributes = kind
    prospect_id = create_prospect(client)["id"]
    ids = [add(client, path, prospect_id, attributes)["id"] for _ in range(3)]
    foreign = add(client, path, "prospect_abc123", attributes)["id"]
    before = listed(client, path, prospect_id)
    order, named = bad_order(ids, foreign)
    response = client.post(f"{path}/reorder", json={"parent_id": prospect_id, "ids": order})
    assert_problem(response, status, fragment, repr(named))
    assert listed(client, path, prospect_id) == before


def test_reorder_of_unknown_prospect_is_404(client: TestClient, kind: Kind) -> None:
    path, _, _ = kind
    response = client.post(f"{path}/reorder", json={"parent_id": "prospect_ghost", "ids": []})
    assert_problem(response, 404, "'prospect_ghost'")


def test_reorder_body_is_checked_against_the_contract(client: TestClient, kind: Kind) -> None:
    path, _, _ = kind
    assert_problem(client.post(f"{path}/reorder", json={"ids": []}), 400, "'parent_id' is required")
    response = client.post(f"{path}/reorder", json={"parent_id": "p", "ids": [1]})
    assert_problem(response, 400, "'ids[0]' must be a string")


def test_line_items_of_other_prospects_are_untouched(client: TestClient, kind: Kind) -> None:
    path, _, attributes = kind
    before = listed(client, path, "prospect_abc123")
    prospect_id = create_prospect(client)["id"]
    add(client, path, prospect_id, attributes)
    assert client.delete(f"{PROSPECTS}/{prospect_id}").status_code == 200
    assert listed(client, path, "prospect_abc123") == before


def test_opportunity_rules_from_the_source_system(client: TestClient) -> None:
    def create(**attributes: Any) -> Any:
        return client.post(OPPORTUNITIES, json={"prospect_id": "prospect_abc123", **attributes})

    assert_problem(create(probability=101), 400, "'probability' must be at most 100")
    assert_problem(create(probability=-1), 400, "'probability' must be at least 0")
    assert_problem(create(expected_closing="next week"), 400, "'expected_closing' must be a date")
    assert create(probability=100, expected_closing="2025-02-28").status_code == 201


def test_lead_rules_from_the_source_system(client: TestClient) -> None:
    def create(**attributes: Any) -> Any:
        return client.post(LEADS, json={"prospect_id": "prospect_abc123", **attributes})

    assert_problem(create(), 400, "'lead' is required")
    assert_problem(create(lead=""), 400, "'lead' must not be empty")
    assert_problem(create(lead="L", email="not-an-email"), 400, "'email' must be an email")
    assert_problem(create(lead="L", email="tomás@example.com"), 400, "'email' must be an email")
    assert create(lead="L", status="draft", email="a@b.example").status_code == 201
