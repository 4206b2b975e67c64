"""Request verification: asking the journal what an app sent (which requests, how many) and
waiting until it has, exact while other workspaces are busy, and a new entry tested once per
filter however many wait on it. The HTTP tests use the package's own pytest plugin (a server
for the session, a workspace for each test)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock.domain.journal import Entry, Journal, RequestFilter
from prospect_mock.pytest_plugin import MockServer, MockWorkspace
from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem


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
        counted: int = client.get("/__admin/requests/count", params=filters).json()["count"]
        return counted

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
    params: dict[str, str | int] = {"operation": "prospects.list", "count": 3, "timeout_ms": 50}
    assert_problem(
        client.get("/__admin/requests/wait", params=params),
        408,
        "Only 1 of the 3 requests matching operation=prospects.list arrived within 50 ms.",
    )


@pytest.mark.system
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


@pytest.mark.system
def test_wait_for_fails_the_test_with_the_server_sentence(prospect_mock: MockWorkspace) -> None:
    with pytest.raises(AssertionError, match="Only 0 of the 1 requests matching method=DELETE"):
        prospect_mock.wait_for(timeout=0.05, method="DELETE")


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
def test_the_plugin_loads_data_and_lists_requests(prospect_mock: MockWorkspace) -> None:
    assert prospect_mock.load(
        {"prospects": [], "prospect_leads": [], "prospect_opportunities": []}
    ) == {"prospects": 0, "prospect_leads": 0, "prospect_opportunities": 0}
    prospect_mock.http.post(PROSPECTS, json={"company": "Listed"})
    [entry] = prospect_mock.requests(method="POST")
    assert entry["operation"] == "prospects.create" and entry["status"] == 201


def entry(path: str = PROSPECTS) -> Entry:
    return {"operation": None, "method": "GET", "path": path, "status": 200}


def test_a_new_entry_is_matched_once_for_a_thousand_waiters_on_one_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluations = 0
    matches = RequestFilter.matches

    def counted(matching: RequestFilter, entry: Entry) -> bool:
        nonlocal evaluations
        evaluations += 1
        return matches(matching, entry)

    monkeypatch.setattr(RequestFilter, "matches", counted)

    async def thousand_waiters() -> list[int]:
        journal, matching = Journal(), RequestFilter(path=f"{PROSPECTS}/*")
        waiting = [asyncio.ensure_future(journal.wait(matching, 1, 30)) for _ in range(1000)]
        await asyncio.sleep(0)  # every wait begins
        journal.add(entry(f"{PROSPECTS}/prospect_abc123"))
        return await asyncio.wait_for(asyncio.gather(*waiting), 30)

    assert asyncio.run(thousand_waiters()) == [1] * 1000
    assert evaluations == 1, "answering 1,000 waiters tested the entry once"


def test_a_waiter_counts_what_the_journal_holds_as_entries_come_and_go() -> None:
    async def waits() -> None:
        journal, matching = Journal(max_entries=2), RequestFilter(path=PROSPECTS)
        journal.add(entry())
        waiting = asyncio.ensure_future(journal.wait(matching, 2, 30))
        journal.add(entry("/api/crm/other"))
        journal.add(entry())  # the first one falls out: still one
        await asyncio.sleep(0.01)
        assert not waiting.done()
        assert journal.clear() == 2
        journal.add(entry())  # one since the clear
        await asyncio.sleep(0.01)
        assert not waiting.done()
        journal.add(entry())
        assert await asyncio.wait_for(waiting, 30) == 2
        assert journal.count(matching) == 2

    asyncio.run(waits())


def test_an_entry_added_in_another_thread_wakes_the_waiter_safely() -> None:
    async def wait_across_threads() -> int:
        journal = Journal()
        waiting = asyncio.ensure_future(journal.wait(RequestFilter(), 1, 30))
        await asyncio.sleep(0)
        await asyncio.to_thread(journal.add, entry())
        return await asyncio.wait_for(waiting, 30)

    # In debug mode asyncio refuses a future's wake-up from another thread.
    assert asyncio.run(wait_across_threads(), debug=True) == 1
