"""Workspaces at their edges: deleted or replaced while requests to them are in flight,
named by requests without the key, and half made by a refused create or a crash."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.domain.journal import MAX_REFUSED_TEXT
from prospect_mock.domain.seeding import load_fixtures
from tests.conftest import AUTH, PROSPECTS, assert_problem
from tests.faulty_disk import FaultyDisk
from tests.servers import running, start

SEEDED = len(load_fixtures()["prospects"])


def folder_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".workspaces")


def names(client: TestClient | httpx.Client) -> list[str]:
    return [w["name"] for w in client.get("/__admin/workspaces").json()["data"]]


def companies(client: TestClient | httpx.Client, prefix: str) -> list[str]:
    listed = client.get(f"{prefix}{PROSPECTS}", params={"limit": 100}).json()["data"]
    return sorted(p["company"] for p in listed if p["company"].startswith("Test "))


def in_background(call: Callable[[], Any]) -> Future[Any]:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


def test_a_write_held_when_its_workspace_is_deleted_gets_404_and_writes_nothing(
    client: TestClient, db_path: Path
) -> None:
    client.put("/__admin/workspaces/held")
    scenario = {"operation": "prospects.create", "delay_ms": 400}
    assert client.post("/ws/held/__admin/scenarios", json=scenario).status_code == 201
    late = in_background(lambda: client.post(f"/ws/held{PROSPECTS}", json={"company": "Test late"}))
    time.sleep(0.15)
    assert client.delete("/__admin/workspaces/held").status_code == 200
    assert client.put("/__admin/workspaces/held").status_code == 201, "created again"
    assert_problem(late.result(timeout=10), 404, "'held'", "deleted", "wrote nothing")
    assert companies(client, "/ws/held") == []
    assert client.post(f"/ws/held{PROSPECTS}", json={"company": "Test after"}).status_code == 201
    assert companies(client, "/ws/held") == ["Test after"]


def test_a_request_delayed_before_a_delete_gets_404_and_creates_nothing(
    client: TestClient,
) -> None:
    client.put("/__admin/workspaces/held")
    delayed = {"Prefer": "delay=400"}
    late = in_background(
        lambda: client.post(f"/ws/held{PROSPECTS}", json={"company": "Test late"}, headers=delayed)
    )
    time.sleep(0.15)
    assert client.delete("/__admin/workspaces/held").status_code == 200
    assert_problem(late.result(timeout=10), 404, "'held'", "deleted")
    assert names(client) == ["default"], "the late request did not create the workspace again"


def test_a_write_held_when_its_workspace_is_replaced_gets_409_and_writes_nothing(
    client: TestClient,
) -> None:
    client.put("/__admin/workspaces/held")
    scenario = {"operation": "prospects.create", "delay_ms": 400}
    client.post("/ws/held/__admin/scenarios", json=scenario)
    late = in_background(lambda: client.post(f"/ws/held{PROSPECTS}", json={"company": "Test late"}))
    time.sleep(0.15)
    assert client.put("/__admin/workspaces/held").status_code == 200
    assert_problem(late.result(timeout=10), 409, "'held'", "replaced", "wrote nothing")
    assert companies(client, "/ws/held") == []
    assert client.get("/ws/held/__admin/scenarios").json()["total"] == 0


def test_replacing_a_workspace_keeps_its_journal_and_where_the_server_is_announced(
    client: TestClient, db_path: Path
) -> None:
    client.get(f"/ws/kept{PROSPECTS}")
    lock = db_path.with_name(db_path.name + ".lock")
    announced = lock.read_bytes()
    assert client.put("/__admin/workspaces/kept").status_code == 200
    assert client.put("/__admin/workspaces/default").status_code == 200
    assert lock.read_bytes() == announced, "the default database stayed held throughout"
    assert client.get("/ws/kept/__admin/requests/count").json() == {"count": 1}


def test_requests_without_the_key_create_no_workspace(db_path: Path) -> None:
    with TestClient(create_app(db_path, max_workspaces=3)) as anonymous:
        assert anonymous.get("/ws/x/openapi.json").status_code == 200
        assert anonymous.get("/ws/x/ui/").status_code == 200
        assert anonymous.get(f"/ws/y{PROSPECTS}").status_code == 401
        assert anonymous.post(f"/ws/y{PROSPECTS}", json={"company": "Test"}).status_code == 401
        assert anonymous.get("/ws/z/api/nothing-here", headers=AUTH).status_code == 404
        assert anonymous.get(PROSPECTS, headers={"X-Mock-Workspace": "w"}).status_code == 401
        assert sorted(p.name for p in folder_of(db_path).glob("*")) == []
        for name in ("mine", "ours"):
            put = anonymous.put(f"/__admin/workspaces/{name}", headers=AUTH)
            assert put.status_code == 201, "the anonymous requests took no place"
        listed = anonymous.get("/__admin/workspaces", headers=AUTH).json()["data"]
        assert [w["name"] for w in listed] == ["default", "mine", "ours"]


def test_a_refused_request_is_journaled_without_its_body(client: TestClient) -> None:
    client.get(f"/ws/kept{PROSPECTS}")
    body = {"company": "Test " + "x" * 60_000}
    long_path = f"/ws/kept{PROSPECTS}/" + "p" * 5000
    unauthenticated = {"Authorization": ""}
    assert client.post(f"/ws/kept{PROSPECTS}", json=body, headers=unauthenticated).status_code == (
        401
    )
    assert client.get(long_path, headers=unauthenticated).status_code == 401
    refused = client.get("/ws/kept/__admin/requests", params={"status": "401"}).json()["data"]
    assert [entry["request_body"] for entry in refused] == [None, None]
    assert all(len(entry["path"]) <= MAX_REFUSED_TEXT for entry in refused)
    assert refused[1]["response_body"] and "API key" in refused[1]["response_body"]
    client.post(f"/ws/kept{PROSPECTS}", json={"company": "Test kept"})
    admitted = client.get("/ws/kept/__admin/requests", params={"status": "201"}).json()["data"]
    assert admitted[0]["request_body"] == '{"company":"Test kept"}'


def test_two_workspace_headers_that_disagree_get_400(client: TestClient) -> None:
    headers = [("X-Mock-Workspace", "a"), ("X-Mock-Workspace", "b")]
    response = client.get(PROSPECTS, headers=httpx.Headers(headers))
    assert_problem(response, 400, "'a'", "'b'")
    same = [("X-Mock-Workspace", "a"), ("X-Mock-Workspace", "a")]
    assert client.get(PROSPECTS, headers=httpx.Headers(same)).status_code == 200
    assert names(client) == ["default", "a"]


def test_a_refused_workspace_create_leaves_no_file_behind(
    client: TestClient, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = FaultyDisk(monkeypatch)
    disk.arm(None)
    assert client.put("/__admin/workspaces/counted").status_code == 201
    operations = len(disk.calls)
    client.delete("/__admin/workspaces/counted")
    for fail_at in range(1, operations + 1):
        disk.arm(fail_at, "ENOSPC")
        response = client.put("/__admin/workspaces/refused")
        disk.arm(None)
        if response.status_code == 201:  # the failure came after the commit point
            assert client.delete("/__admin/workspaces/refused").status_code == 200
        else:
            assert_problem(response, 507, "full")
        assert sorted(p.name for p in folder_of(db_path).glob("*")) == [], disk.calls
        assert names(client) == ["default"]


def test_a_refused_database_create_leaves_no_file_behind(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = FaultyDisk(monkeypatch)
    disk.arm(3, "ENOSPC")
    with pytest.raises(Exception, match="full"):
        create_app(db_path)
    assert sorted(p.name for p in db_path.parent.glob("*")) == []


def test_the_start_removes_files_of_workspaces_without_a_snapshot(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(db_path), headers=AUTH) as client:
        client.put("/__admin/workspaces/kept")
    folder = folder_of(db_path)
    for leftover in ("gone.json.wal", "gone.json.lock", ".gone.json.1a2b.tmp", "half.json.wal"):
        (folder / leftover).write_text("left by a crash\n")
    (folder / "notes.txt").write_text("not the mock's\n")
    with TestClient(create_app(db_path), headers=AUTH) as client:
        assert names(client) == ["default", "kept"]
    assert sorted(p.name for p in folder.glob("*")) == [
        "kept.json",
        "kept.json.lock",
        "kept.json.wal",
        "notes.txt",
    ]
    removed = [r.getMessage() for r in caplog.records if "no snapshot" in r.getMessage()]
    assert len(removed) == 1 and "2 workspace(s)" in removed[0] and "gone, half" in removed[0]


@pytest.mark.system
def test_delayed_writes_racing_deletes_then_sigkill_keep_exactly_the_acknowledged(
    tmp_path: Path,
) -> None:
    """The defect this guards against: a write held across a DELETE reopened the log, and the
    workspace created again wrote over it, so that after a SIGKILL the server would not
    start (or silently lost an acknowledged write)."""
    db = tmp_path / "db.json"
    acknowledged: list[str] = []
    with running(db) as served, httpx.Client(base_url=served.base, headers=AUTH) as client:
        for round_number in range(3):
            client.put("/__admin/workspaces/race", params={"empty": "true"})
            client.post(
                "/ws/race/__admin/scenarios",
                json={"operation": "prospects.update", "delay_ms": 300},
            )
            first = client.post(f"/ws/race{PROSPECTS}", json={"company": f"Test {round_number}-0"})
            assert first.status_code == 201
            with ThreadPoolExecutor(6) as pool:
                late = [
                    pool.submit(
                        client.post,
                        f"/ws/race{PROSPECTS}",
                        json={"company": f"Test {round_number}-late-{i}"},
                        headers={"Prefer": "delay=300"},
                    )
                    for i in range(3)
                ] + [
                    pool.submit(
                        client.patch,
                        f"/ws/race{PROSPECTS}/{first.json()['id']}",
                        json={"company": f"Test {round_number}-patched-{i}"},
                    )
                    for i in range(3)
                ]
                time.sleep(0.1)
                assert client.delete("/__admin/workspaces/race").status_code == 200
                client.put("/__admin/workspaces/race", params={"empty": "true"})
                after = client.post(
                    f"/ws/race{PROSPECTS}", json={"company": f"Test {round_number}-after"}
                )
                assert after.status_code == 201
                for answer in (future.result(timeout=10) for future in late):
                    assert_problem(answer, 404, "'race'", "deleted")
            acknowledged = [f"Test {round_number}-after"]
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait()
    restarted = start(db)
    try:
        with httpx.Client(base_url=restarted.base, headers=AUTH) as client:
            assert companies(client, "/ws/race") == acknowledged
            assert client.get(PROSPECTS).json()["total"] == SEEDED, "default is whole"
    finally:
        restarted.process.kill()
        restarted.process.wait()
