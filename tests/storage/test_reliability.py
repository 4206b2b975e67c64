"""Nothing acknowledged is ever lost, and no input breaks the server: real processes, real
HTTP, concurrent clients, SIGKILL at random moments, and Hypothesis throwing garbage."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.storage.database import Database
from tests.clients import Client, every_lead, every_prospect
from tests.conftest import AUTH, PROSPECTS, assert_problem
from tests.servers import running, start

CLIENTS = 16
OPERATIONS_PER_CLIENT = int(os.environ.get("PROSPECT_MOCK_OPERATIONS", "200"))
CRASH_ROUNDS = int(os.environ.get("PROSPECT_MOCK_CRASH_ROUNDS", "6"))
EXAMPLES = int(os.environ.get("PROSPECT_MOCK_EXAMPLES", "25"))


@pytest.mark.system
def test_concurrent_clients_end_with_exactly_the_acknowledged_state(tmp_path: Path) -> None:
    with (
        running(tmp_path / "db.json", "--no-seed") as server,
        httpx.Client(base_url=server.base, headers=AUTH) as http,
    ):
        shared = http.post(PROSPECTS, json={"company": "Shared"}).json()["id"]
        with ThreadPoolExecutor(CLIENTS) as pool:
            clients = list(
                pool.map(
                    lambda n: Client(server.base, n, shared).run(OPERATIONS_PER_CLIENT),
                    range(CLIENTS),
                )
            )
        expected = {shared: None} | {
            pid: name for client in clients for pid, name in client.prospects.items()
        }
        stored = every_prospect(http)
        assert stored.keys() == expected.keys(), "no lost create, no resurrected delete"
        for prospect_id, name in expected.items():
            if name is not None:
                assert stored[prospect_id]["company_name"] == name, "no lost update"
        leads = every_lead(http, shared)
        assert sorted(lead["id"] for lead in leads) == sorted(
            lead_id for client in clients for lead_id in client.leads
        )
        assert [lead["idx"] for lead in leads] == list(range(1, len(leads) + 1))
    stored_ids = {record["id"] for record in Database(tmp_path / "db.json").table("prospects")}
    assert stored_ids == expected.keys()


class Write:
    """One write the load sent; ``acknowledged`` once its 2xx response arrived."""

    def __init__(self, prospect_id: str | None, name: str) -> None:
        self.prospect_id, self.name, self.acknowledged = prospect_id, name, False


def write_until_stopped(base: str, writes: list[Write], stop: threading.Event) -> None:
    """Create and rename prospects until stopped or until the server dies. Each writer renames
    only prospects it created, so that one prospect's writes are sent one after another and
    their order is known."""
    mine: list[Write] = []
    with httpx.Client(base_url=base, headers=AUTH, timeout=5) as http:
        n = 0
        while not stop.is_set():
            n += 1
            created = [w for w in mine if w.acknowledged]
            if created and n % 3 == 0:
                write = Write(created[-1].prospect_id, f"renamed-{threading.get_ident()}-{n}")
                method, url = "PATCH", f"{PROSPECTS}/{write.prospect_id}"
                body = {"company_name": write.name}
            else:
                write = Write(None, f"created-{threading.get_ident()}-{n}")
                method, url, body = "POST", PROSPECTS, {"company": "K", "company_name": write.name}
            mine.append(write)
            writes.append(write)
            try:
                response = http.request(method, url, json=body)
            except httpx.TransportError:
                return
            if response.status_code in (200, 201):
                write.prospect_id = response.json()["id"]
                write.acknowledged = True


def start_writers(base: str, writes: list[Write], stop: threading.Event) -> list[threading.Thread]:
    """Four writers on ``base``, started; returns once one write has been acknowledged."""
    writers = [
        threading.Thread(target=write_until_stopped, args=(base, writes, stop)) for _ in range(4)
    ]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + 30
    while not any(w.acknowledged for w in writes):
        assert time.monotonic() < deadline, "the load wrote nothing in 30 s"
        time.sleep(0.01)
    return writers


def assert_every_acknowledged_write_is_stored(db: Path, writes: list[Write]) -> None:
    """A prospect's stored name is its last acknowledged one, or one sent after it whose
    answer the kill cut off: the server may have stored it, it never said it had."""
    prospects = Database(db).table("prospects")  # the files load
    for prospect_id in {w.prospect_id for w in writes if w.acknowledged}:
        mine = [w for w in writes if w.prospect_id == prospect_id]
        last = max(i for i, w in enumerate(mine) if w.acknowledged)
        assert prospect_id is not None, "an acknowledged create knows its id"
        record = prospects.get(prospect_id)
        assert record is not None, f"acknowledged {prospect_id} is missing"
        allowed = {w.name for w in mine[last:]}
        assert record["company_name"] in allowed, "an acknowledged write was lost"


WORKSPACES = {"default": "", "north": "/ws/north", "south": "/ws/south", "east": "/ws/east"}
"""Where the crash test writes: the default data and three workspaces, each with its own
files (``DB.workspaces/NAME.json``)."""


@pytest.mark.system
def test_sigkill_at_random_moments_never_loses_an_acknowledged_write(tmp_path: Path) -> None:
    db, rounds = tmp_path / "db.json", random.Random(7)
    files = {name: tmp_path / "db.json.workspaces" / f"{name}.json" for name in WORKSPACES}
    files["default"] = db
    for _ in range(CRASH_ROUNDS):
        server = start(db)
        writes: dict[str, list[Write]] = {name: [] for name in WORKSPACES}
        stop = threading.Event()
        writers = [
            writer
            for name, prefix in WORKSPACES.items()
            for writer in start_writers(server.base + prefix, writes[name], stop)
        ]
        time.sleep(rounds.uniform(0, 0.5))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        stop.set()
        for writer in writers:
            writer.join()
        for name, written in writes.items():
            assert_every_acknowledged_write_is_stored(files[name], written)
    leftovers = list(tmp_path.glob(".*.tmp")) + list(tmp_path.glob("*/.*.tmp"))
    assert not leftovers, "opening clears what a kill left mid-write"


@pytest.mark.system
def test_sigterm_under_load_finishes_in_flight_requests_and_exits_0(tmp_path: Path) -> None:
    server = start(tmp_path / "db.json")
    writes: list[Write] = []
    stop = threading.Event()
    writers = start_writers(server.base, writes, stop)
    time.sleep(0.2)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    stop.set()
    for writer in writers:
        writer.join()
    assert_every_acknowledged_write_is_stored(tmp_path / "db.json", writes)


ROUTES = [
    ("GET", "/api/crm/prospect"),
    ("POST", "/api/crm/prospect"),
    ("GET", "/api/crm/prospect/{id}"),
    ("PATCH", "/api/crm/prospect/{id}"),
    ("DELETE", "/api/crm/prospect/{id}"),
    ("GET", "/api/crm/prospect-lead"),
    ("POST", "/api/crm/prospect-lead"),
    ("POST", "/api/crm/prospect-lead/reorder"),
    ("PATCH", "/api/crm/prospect-lead/{id}"),
    ("DELETE", "/api/crm/prospect-opportunity/{id}"),
    ("POST", "/api/crm/prospect-opportunity/reorder"),
    ("GET", "/"),
    ("GET", "/openapi.json"),
]
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


def nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """JSON arrays and objects of ``inner``: a named function, as Hypothesis reads the source
    of ``st.recursive``'s ``extend`` to see that it uses its argument, and misreads a lambda
    written over several lines."""
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)


@st.composite
def garbage_requests(draw: st.DrawFn) -> dict[str, Any]:
    method, template = draw(st.sampled_from(ROUTES))
    method = draw(st.sampled_from([method, method, "PUT", "OPTIONS", "HEAD", "TRACE", "PURGE"]))
    segment = draw(st.text(min_size=1, max_size=30).filter(lambda s: s not in (".", "..")))
    query = draw(
        st.dictionaries(
            st.sampled_from(["limit", "offset", "parent_id", "x", "limit[]"]), st.text(max_size=12)
        )
    )
    headers = draw(st.dictionaries(st.sampled_from(["X-Junk", "Accept", "Prefer"]), HEADER_TEXT))
    headers["Authorization"] = draw(
        st.sampled_from(["Bearer sk_test_fuzz", "Bearer sk_live_x", "Basic abc", "", "Bearer "])
    )
    headers["Content-Type"] = draw(
        st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1", ""])
    )
    body = draw(
        st.one_of(
            st.binary(max_size=200),
            st.recursive(
                st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
                nested,
                max_leaves=12,
            ).map(lambda value: repr(value).encode()),
        )
    )
    return {
        "method": method,
        "url": template.replace("{id}", quote(segment, safe=draw(st.sampled_from(["", "/."])))),
        "params": query,
        "headers": {name: value for name, value in headers.items() if value},
        "content": body,
    }


def test_garbage_never_breaks_the_server_or_the_data(db_path: Path) -> None:
    client = TestClient(create_app(db_path), raise_server_exceptions=False)

    @settings(
        max_examples=EXAMPLES * 20,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(request=garbage_requests())
    def check(request: dict[str, Any]) -> None:
        before = db_path.read_bytes()
        response = client.request(**request)
        assert response.status_code < 500, (request, response.text)
        if response.status_code >= 400:
            if request["method"] != "HEAD":
                assert_problem(response, response.status_code)
            assert db_path.read_bytes() == before, "a refused request changed the data"

    check()
