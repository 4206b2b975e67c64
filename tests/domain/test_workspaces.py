"""Workspaces: isolated data sets in one server, named by a path prefix or a header, managed
through the admin API, durable, bounded, and served with their own docs."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.domain.seeding import EMPTY, generated, load_fixtures
from tests.clients import Client, every_lead, every_prospect
from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem
from tests.servers import running

FIXTURE_COUNTS = {name: len(records) for name, records in load_fixtures().items()}


def counts(client: TestClient, prefix: str = "") -> dict[str, int]:
    data = client.get(f"{prefix}/__admin/data").json()
    return {name: len(records) for name, records in data.items()}


def test_a_prefix_and_the_header_name_the_same_workspace(client: TestClient) -> None:
    created = client.post(f"/ws/team-a{PROSPECTS}", json={"company": "Only in A"}).json()
    by_header = client.get(f"{PROSPECTS}/{created['id']}", headers={"X-Mock-Workspace": "team-a"})
    assert by_header.json() == created
    assert_problem(client.get(f"{PROSPECTS}/{created['id']}"), 404)
    assert_problem(client.get(f"/ws/team-b{PROSPECTS}/{created['id']}"), 404)
    assert counts(client) == FIXTURE_COUNTS, "default is untouched"


def test_without_prefix_or_header_a_request_uses_default(client: TestClient) -> None:
    created = client.post(PROSPECTS, json={"company": "In default"}).json()
    found = client.get(f"/ws/default{PROSPECTS}/{created['id']}")
    assert found.json() == created


def test_path_and_header_naming_different_workspaces_get_400(client: TestClient) -> None:
    response = client.get(f"/ws/team-a{PROSPECTS}", headers={"X-Mock-Workspace": "team-b"})
    assert_problem(response, 400, "'team-a'", "'team-b'")
    same = client.get(f"/ws/team-a{PROSPECTS}", headers={"X-Mock-Workspace": "team-a"})
    assert same.status_code == 200


@pytest.mark.parametrize("name", ["Team", "-a", "_a", "a.b", "a b", "é", "a" * 64])
def test_a_bad_name_gets_400_naming_the_rule(client: TestClient, name: str) -> None:
    assert_problem(client.get(f"/ws/{name}{PROSPECTS}"), 400, "[a-z0-9][a-z0-9_-]{0,62}")
    by_header = client.get(PROSPECTS, headers={b"X-Mock-Workspace": name.encode()})
    assert_problem(by_header, 400, "[a-z0-9][a-z0-9_-]{0,62}")
    assert_problem(client.put(f"/__admin/workspaces/{name}"), 400, "[a-z0-9][a-z0-9_-]{0,62}")
    assert [w["name"] for w in client.get("/__admin/workspaces").json()["data"]] == ["default"]


def test_the_longest_name_is_63_characters(client: TestClient) -> None:
    assert client.get(f"/ws/{'a' * 63}{PROSPECTS}").status_code == 200


def test_a_new_workspace_is_seeded_as_a_new_database_is(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "fixtures.json"), headers=AUTH) as seeded:
        assert counts(seeded, "/ws/fresh") == FIXTURE_COUNTS
    with TestClient(create_app(tmp_path / "empty.json", seed=EMPTY), headers=AUTH) as empty:
        assert set(counts(empty, "/ws/fresh").values()) == {0}
    generated_seed = generated(50, 3)
    with TestClient(create_app(tmp_path / "gen.json", seed=generated_seed), headers=AUTH) as gen:
        assert gen.get("/ws/fresh/__admin/data").json() == gen.get("/__admin/data").json()
        assert counts(gen)["prospects"] == 50


def test_each_workspace_has_its_own_journal(client: TestClient) -> None:
    client.get(f"/ws/team-a{PROSPECTS}")
    client.get(f"/ws/team-a{PROSPECTS}/nope")
    client.get(PROSPECTS, headers={"X-Mock-Workspace": "team-b"})
    in_a = client.get("/ws/team-a/__admin/requests").json()
    assert [entry["path"] for entry in in_a["data"]] == [f"{PROSPECTS}/nope", PROSPECTS]
    assert client.get("/__admin/requests/count", headers={"X-Mock-Workspace": "team-b"}).json() == {
        "count": 1
    }
    assert client.get("/__admin/requests").json()["total"] == 0


def test_reset_and_load_act_on_the_request_workspace(client: TestClient) -> None:
    client.post(f"/ws/team-a{PROSPECTS}", json={"company": "Extra"})
    assert client.post("/ws/team-a/__admin/reset", params={"empty": "true"}).json() == {
        "prospects": 0,
        "prospect_leads": 0,
        "prospect_opportunities": 0,
    }
    one = {"prospects": [load_fixtures()["prospects"][0]], "prospect_leads": []}
    loaded = client.put("/ws/team-b/__admin/data", json={**one, "prospect_opportunities": []})
    assert loaded.json()["prospects"] == 1
    assert client.post("/ws/team-a/__admin/reset").json() == FIXTURE_COUNTS
    assert counts(client) == FIXTURE_COUNTS


def test_workspaces_are_listed_created_replaced_and_deleted(client: TestClient) -> None:
    created = client.put("/__admin/workspaces/e2e-1")
    assert created.status_code == 201
    assert created.json()["name"] == "e2e-1" and created.json()["counts"] == FIXTURE_COUNTS
    client.post(f"/ws/e2e-1{PROSPECTS}", json={"company": "Later"})
    emptied = client.put("/__admin/workspaces/e2e-1", params={"empty": "true"})
    assert emptied.status_code == 200
    assert set(emptied.json()["counts"].values()) == {0}
    assert emptied.json()["created_at"] == created.json()["created_at"], "replaced, not new"
    assert client.put("/__admin/workspaces/e2e-2", params={"empty": "true"}).status_code == 201

    listing = client.get("/__admin/workspaces").json()
    assert [w["name"] for w in listing["data"]] == ["default", "e2e-1", "e2e-2"]
    assert listing["total"] == 3
    assert listing["data"][0]["counts"] == FIXTURE_COUNTS
    assert listing["data"][1]["last_used_at"] >= listing["data"][1]["created_at"]

    assert client.delete("/__admin/workspaces/e2e-1").json() == {"name": "e2e-1", "deleted": True}
    assert_problem(client.delete("/__admin/workspaces/e2e-1"), 404, "'e2e-1'")
    assert_problem(client.delete("/__admin/workspaces/default"), 409, "default")
    assert client.get(f"/ws/e2e-1{PROSPECTS}").json()["total"] == 35, "named again: seeded anew"


def test_a_workspace_can_be_created_from_a_data_set(client: TestClient) -> None:
    fixtures = load_fixtures()
    one = {
        "prospects": fixtures["prospects"][:1],
        "prospect_leads": [],
        "prospect_opportunities": [],
    }
    response = client.put("/__admin/workspaces/from-data", json=one)
    assert response.status_code == 201 and response.json()["counts"]["prospects"] == 1
    assert client.get(f"/ws/from-data{PROSPECTS}").json()["data"] == fixtures["prospects"][:1]
    broken = {**one, "prospect_leads": [{**fixtures["prospect_leads"][0], "prospect_id": "x"}]}
    assert_problem(client.put("/__admin/workspaces/other", json=broken), 409)
    names = [w["name"] for w in client.get("/__admin/workspaces").json()["data"]]
    assert names == ["default", "from-data"], "a refused data set creates nothing"


def test_deleting_a_workspace_removes_its_files(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    with TestClient(create_app(db), headers=AUTH) as client:
        client.post(f"/ws/gone{PROSPECTS}", json={"company": "Soon gone"})
        folder = tmp_path / "db.json.workspaces"
        assert (folder / "gone.json").exists() and (folder / "gone.json.wal").exists()
        client.delete("/__admin/workspaces/gone")
        assert list(folder.iterdir()) == []


def test_one_workspace_beyond_the_maximum_gets_409(tmp_path: Path) -> None:
    app = create_app(tmp_path / "db.json", max_workspaces=3)
    with TestClient(app, headers=AUTH) as client:
        assert client.get(f"/ws/one{PROSPECTS}").status_code == 200
        assert client.put("/__admin/workspaces/two").status_code == 201
        assert_problem(client.get(f"/ws/three{PROSPECTS}"), 409, "maximum of 3", "--max-workspaces")
        assert_problem(client.put("/__admin/workspaces/three"), 409, "maximum of 3")
        assert client.put("/__admin/workspaces/two").status_code == 200, "replacing is not more"
        client.delete("/__admin/workspaces/one")
        assert client.get(f"/ws/three{PROSPECTS}").status_code == 200


def test_a_restart_brings_every_workspace_back(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    with TestClient(create_app(db), headers=AUTH) as client:
        first = client.post(f"/ws/alpha{PROSPECTS}", json={"company": "Alpha"}).json()
        client.put("/__admin/workspaces/beta", params={"empty": "true"})
        second = client.post(f"/ws/beta{PROSPECTS}", json={"company": "Beta"}).json()
        before = client.get("/__admin/workspaces").json()["data"]
    with TestClient(create_app(db), headers=AUTH) as client:
        after = client.get("/__admin/workspaces").json()["data"]
        assert [(w["name"], w["counts"], w["created_at"]) for w in after] == [
            (w["name"], w["counts"], w["created_at"]) for w in before
        ]
        assert client.get(f"/ws/alpha{PROSPECTS}/{first['id']}").json() == first
        assert client.get(f"/ws/beta{PROSPECTS}").json()["data"] == [second]


def test_the_docs_work_under_a_prefix(client: TestClient) -> None:
    redirect = client.get("/ws/docs-1/", follow_redirects=False)
    assert redirect.headers["location"] == "/ws/docs-1/ui/"
    page = client.get("/ws/docs-1/ui/")
    assert page.status_code == 200 and '"/ws/docs-1/openapi.json"' in page.text
    spec = client.get("/ws/docs-1/openapi.json").json()
    assert [server["url"] for server in spec["servers"]] == [
        "http://testserver/ws/docs-1",
        "https://api.overplane.dev",
    ]
    admin = client.get("/ws/docs-1/__admin/openapi.json").json()
    assert [server["url"] for server in admin["servers"]] == ["http://testserver/ws/docs-1/__admin"]
    assert client.get("/ws/docs-1/__admin/ui/").status_code == 200


def test_the_served_contract_names_the_address_the_request_reached(client: TestClient) -> None:
    spec = client.get("/openapi.json", headers={"Host": "mock.internal:9000"}).json()
    assert spec["servers"][0]["url"] == "http://mock.internal:9000"


def test_cors_lets_browsers_send_the_workspace_header(client: TestClient) -> None:
    preflight = client.options(
        PROSPECTS,
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, x-mock-workspace",
        },
    )
    assert preflight.status_code == 200
    assert "x-mock-workspace" in preflight.headers["access-control-allow-headers"].lower()
    assert "PUT" in preflight.headers["access-control-allow-methods"]
    refused = client.get(f"/ws/BAD{PROSPECTS}", headers={"Origin": "http://localhost:5173"})
    assert refused.headers["access-control-allow-origin"] == "*", "errors carry CORS headers too"


@pytest.mark.system
def test_eight_clients_in_eight_workspaces_each_keep_exactly_their_own_state(
    tmp_path: Path,
) -> None:
    """Over real HTTP, at once: creates, updates, deletes, line items and reorders."""
    names = [f"client-{n}" for n in range(8)]
    with running(tmp_path / "db.json") as server, httpx.Client(headers=AUTH) as http:
        default_before = http.get(f"{server.base}/__admin/data").json()
        bases = [f"{server.base}/ws/{name}" for name in names]
        shared = [
            http.post(f"{base}{PROSPECTS}", json={"company": "S"}).json()["id"] for base in bases
        ]
        with ThreadPoolExecutor(len(names)) as pool:
            clients = list(
                pool.map(lambda n: Client(bases[n], n, shared[n]).run(120), range(len(names)))
            )
        fixture_ids = {prospect["id"] for prospect in load_fixtures()["prospects"]}
        for base, shared_id, one in zip(bases, shared, clients, strict=True):
            with httpx.Client(base_url=base, headers=AUTH) as mine:
                stored = every_prospect(mine)
                leads = every_lead(mine, shared_id)
            assert stored.keys() == fixture_ids | {shared_id} | one.prospects.keys()
            for prospect_id, name in one.prospects.items():
                assert stored[prospect_id]["company_name"] == name
            assert sorted(lead["id"] for lead in leads) == sorted(one.leads)
            assert [lead["idx"] for lead in leads] == list(range(1, len(leads) + 1))
        assert http.get(f"{server.base}/__admin/data").json() == default_before


def test_a_workspace_database_is_tinydb_json_like_the_default(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    with TestClient(create_app(db), headers=AUTH) as client:
        client.put("/__admin/workspaces/plain")
    snapshot = json.loads((tmp_path / "db.json.workspaces" / "plain.json").read_text())
    assert len(snapshot["prospects"]) == 35
    assert snapshot["meta"]["database"]["created_at"].endswith("Z")


def test_line_items_stay_in_their_workspace(client: TestClient) -> None:
    prospect = client.post(f"/ws/items{PROSPECTS}", json={"company": "Items"}).json()
    lead = client.post(f"/ws/items{LEADS}", json={"prospect_id": prospect["id"], "lead": "L"})
    assert lead.status_code == 201
    assert_problem(client.post(LEADS, json={"prospect_id": prospect["id"], "lead": "L"}), 404)
