"""Request verification: asking the journal what an app sent (which requests, how many) and
waiting until it has, exact while other workspaces are busy. The HTTP tests use the
package's own pytest plugin (a server for the session, a workspace for each test)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock.pytest_plugin import MockServer, MockWorkspace

from .conftest import AUTH, LEADS, PROSPECTS, assert_problem


def test_each_entry_names_its_operation(client: TestClient) -> None:
    prospect = client.post(PROSPECTS, json={"company": "Named"}).json()
    client.post(f"{LEADS}/reorder", json={"parent_id": prospect["id"], "ids": []})
    client.get("/api/crm/nowhere")
    operations = [entry["operation"] for entry in client.get("/__admin/requests").json()["data"]]
    assert operations == [None, "prospect_leads.reorder", "prospects.create"]


def test_the_filters_keep_the_matching_requests(client: TestClient) -> None:
    prospect = client.post(PROSPECTS, json={"company": "Filtered"}).json()
    client.patch(f"{PROSPECTS}/{prospect['id']}", json={"industry": "Retail"})
    client.patch(f"{PROSPECTS}/nope", json={"industry": "Retail"})
    client.get(PROSPECTS)

    def count(**filters: str) -> int:
        return client.get("/__admin/requests/count", params=filters).json()["count"]

    assert count() == 4
    assert count(operation="prospects.update") == 2
    assert count(method="PATCH", status="200") == 1
    assert count(method="PATCH", status="4XX") == 1
    assert count(path=f"{PROSPECTS}/*") == 2
    assert count(path=PROSPECTS) == 2
    assert count(operation="prospects.update", path=f"{PROSPECTS}/{prospect['id']}") == 1
    listed = client.get("/__admin/requests", params={"method": "PATCH", "status": "2XX"}).json()
    assert listed["total"] == 1
    assert json.loads(listed["data"][0]["request_body"]) == {"industry": "Retail"}


@pytest.mark.parametrize(
    ("filters", "fragment"),
    [
        ({"operation": "prospect.create"}, "must be one of"),
        ({"status": "2xx"}, "must match the pattern"),
        ({"method": "FETCH"}, "must be one of"),
    ],
)
def test_a_filter_the_contract_does_not_know_gets_400(
    client: TestClient, filters: dict[str, str], fragment: str
) -> None:
    assert_problem(client.get("/__admin/requests/count", params=filters), 400, fragment)


def test_waiting_for_requests_already_there_answers_at_once(client: TestClient) -> None:
    client.get(PROSPECTS)
    answer = client.get("/__admin/requests/wait", params={"operation": "prospects.list"})
    assert answer.json() == {"count": 1}


def test_waiting_too_long_says_how_many_arrived(client: TestClient) -> None:
    client.get(PROSPECTS)
    params = {"operation": "prospects.list", "count": 3, "timeout_ms": 50}
    assert_problem(
        client.get("/__admin/requests/wait", params=params),
        408,
        "Only 1 of the 3 requests matching operation=prospects.list arrived within 50 ms.",
    )


def test_wait_returns_as_soon_as_the_requests_arrive(prospect_mock: MockWorkspace) -> None:
    found: list[int] = []
    waiter = threading.Thread(
        target=lambda: found.append(
            prospect_mock.wait_for(count=2, timeout=20, method="POST", status="201")
        )
    )
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive(), "nothing matched yet"
    for company in ("First", "Second"):
        prospect_mock.http.post(PROSPECTS, json={"company": company})
    started = time.monotonic()
    waiter.join(timeout=20)
    assert found == [2]
    assert time.monotonic() - started < 10, "answered on arrival, not at the timeout"


def test_wait_for_fails_the_test_with_the_server_sentence(prospect_mock: MockWorkspace) -> None:
    with pytest.raises(AssertionError, match="Only 0 of the 1 requests matching method=DELETE"):
        prospect_mock.wait_for(timeout=0.05, method="DELETE")


def test_count_and_wait_are_exact_while_other_workspaces_are_busy(
    prospect_mock: MockWorkspace, prospect_mock_server: MockServer
) -> None:
    stop = threading.Event()

    def noise(n: int) -> int:
        other = prospect_mock_server.workspace(f"{prospect_mock.name[:50]}-noise-{n}")
        sent = 0
        while not stop.is_set():
            other.http.post(PROSPECTS, json={"company": "Noise"})
            other.http.get(PROSPECTS)
            sent += 2
        other.delete()
        return sent

    with ThreadPoolExecutor(5) as pool:
        noisy = [pool.submit(noise, n) for n in range(4)]
        try:
            waiting = pool.submit(
                prospect_mock.wait_for, count=30, timeout=30, operation="prospects.create"
            )
            for n in range(30):
                created = prospect_mock.http.post(PROSPECTS, json={"company": f"Mine {n}"})
                assert created.status_code == 201
                prospect_mock.http.get(f"{PROSPECTS}/{created.json()['id']}")
            assert waiting.result(timeout=30) == 30
            assert prospect_mock.count(operation="prospects.create") == 30
            assert prospect_mock.count(operation="prospects.get", status="200") == 30
            assert prospect_mock.count() == 60
        finally:
            stop.set()
        assert all(future.result(timeout=30) > 0 for future in noisy), "the others were busy"
    assert prospect_mock.count() == 60


def test_the_plugin_gives_each_test_a_fresh_seeded_workspace(
    prospect_mock: MockWorkspace,
) -> None:
    assert prospect_mock.url.endswith(f"/ws/{prospect_mock.name}")
    assert prospect_mock.http.get(PROSPECTS).json()["total"] == 35
    assert prospect_mock.count() == 1, "only this test's own request"
    assert prospect_mock.reset(empty=True) == {
        "prospects": 0,
        "prospect_leads": 0,
        "prospect_opportunities": 0,
    }
    data = httpx.get(f"{prospect_mock.server.url}/__admin/data", headers=AUTH).json()
    assert len(data["prospects"]) == 35, "the default workspace is someone else's"


def test_the_plugin_loads_data_and_lists_requests(prospect_mock: MockWorkspace) -> None:
    assert prospect_mock.load(
        {"prospects": [], "prospect_leads": [], "prospect_opportunities": []}
    ) == {"prospects": 0, "prospect_leads": 0, "prospect_opportunities": 0}
    prospect_mock.http.post(PROSPECTS, json={"company": "Listed"})
    [entry] = prospect_mock.requests(method="POST")
    assert entry["operation"] == "prospects.create" and entry["status"] == 201
