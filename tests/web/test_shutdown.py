"""Requests held open on purpose, a ``timeout`` fault or a journal wait, end when their
client goes away or the server stops, while the other requests in flight finish: SIGTERM
never waits for a held request, and a waiter whose client left costs nothing more."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn.config import Config

from prospect_mock import create_app
from prospect_mock.domain.journal import Entry, Journal, RequestFilter
from prospect_mock.web.http.protocol import BoundedHttpToolsProtocol
from prospect_mock.web.http.server import listen
from tests.conftest import AUTH, PROSPECTS
from tests.servers import running, start

UNMATCHED_WAIT = "/__admin/requests/wait?path=/api/crm/nowhere&timeout_ms=30000"
DEADLINE_S = 5.0
"""How long the server may take to do what a test awaits (a shutdown included): far more
than it takes."""


@contextmanager
def served_here(db_path: Path) -> Iterator[tuple[str, uvicorn.Server]]:
    """The mock on prospect-mock's own server, in a thread of this process."""
    sockets = listen("127.0.0.1", 0)
    # log_config=None: this process's logging is left as pytest set it.
    config = Config(create_app(db_path), http=BoundedHttpToolsProtocol, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": sockets})
    thread.start()
    try:
        eventually(lambda: server.started, "the server never started")
        yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}", server
    finally:
        server.should_exit = True
        thread.join(30)


def eventually(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.01)


def send(base: str, method: str, target: str, body: bytes = b"") -> socket.socket:
    """A connection on which ``method target`` was sent, its answer left to read."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (
        f"{method} {target} HTTP/1.1\r\nHost: mock\r\nAuthorization: {AUTH['Authorization']}"
        f"\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def read_to_the_end(sock: socket.socket) -> bytes:
    """Every byte the server sends before it closes the connection."""
    received = b""
    sock.settimeout(DEADLINE_S)
    with sock:
        while chunk := sock.recv(65536):
            received += chunk
    return received


def scenario(base: str, **definition: Any) -> str:
    created = httpx.post(f"{base}/__admin/scenarios", json=definition, headers=AUTH)
    assert created.status_code == 201, created.text
    scenario_id: str = created.json()["id"]
    return scenario_id


def matched(base: str, scenario_id: str) -> bool:
    listed = httpx.get(f"{base}/__admin/scenarios", headers=AUTH).json()["data"]
    return any(s["id"] == scenario_id and s["matched"] for s in listed)


class Spy:
    """Counts the waits begun and the filters evaluated, and keeps the entries added, in
    every journal of this process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.waits = self.evaluations = 0
        self.entries: list[Entry] = []
        wait, add, matches = Journal.wait, Journal.add, RequestFilter.matches

        async def counted_wait(journal: Journal, *args: Any) -> int:
            self.waits += 1
            return await wait(journal, *args)

        def kept_add(journal: Journal, entry: Entry) -> None:
            self.entries.append(entry)
            add(journal, entry)

        def counted_matches(matching: RequestFilter, entry: Entry) -> bool:
            self.evaluations += 1
            return matches(matching, entry)

        monkeypatch.setattr(Journal, "wait", counted_wait)
        monkeypatch.setattr(Journal, "add", kept_add)
        monkeypatch.setattr(RequestFilter, "matches", counted_matches)


@pytest.fixture
def closing() -> Iterator[ExitStack]:
    """Closes whatever the test puts in it, however the test ends."""
    with ExitStack() as stack:
        yield stack


@dataclass
class InFlight:
    """Two requests held open on purpose, a journal wait and a ``timeout`` fault, and a
    write slowed down by a scenario: all three in flight."""

    fault: str
    delay: str
    waiter: socket.socket
    faulted: socket.socket
    writing: socket.socket

    @classmethod
    def send(cls, base: str, closing: ExitStack) -> InFlight:
        fault = scenario(base, operation="prospects.list", fault="timeout")
        delay = scenario(base, operation="prospects.create", delay_ms=1000)
        waiter = closing.enter_context(send(base, "GET", UNMATCHED_WAIT))
        faulted = closing.enter_context(send(base, "GET", PROSPECTS))
        body = b'{"company": "Written while stopping"}'
        writing = closing.enter_context(send(base, "POST", PROSPECTS, body))
        eventually(lambda: matched(base, fault) and matched(base, delay), "never held")
        return cls(fault, delay, waiter, faulted, writing)

    def assert_held_closed_and_write_answered(self) -> None:
        assert read_to_the_end(self.waiter) == b"", "closed, unanswered"
        assert read_to_the_end(self.faulted) == b"", "closed, unanswered"
        assert read_to_the_end(self.writing).startswith(b"HTTP/1.1 201 ")


def test_a_waiter_whose_client_left_costs_later_requests_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, closing: ExitStack
) -> None:
    spy = Spy(monkeypatch)
    with served_here(db_path) as (base, _):
        waiters = [closing.enter_context(send(base, "GET", UNMATCHED_WAIT)) for _ in range(50)]
        eventually(lambda: spy.waits == 50, "the waits never began")
        # The waits register as they begin; whatever the loop does next comes after.
        assert httpx.get(f"{base}{PROSPECTS}", headers=AUTH).status_code == 200
        for waiter in waiters:
            waiter.close()

        def costless() -> bool:
            before = spy.evaluations
            assert httpx.get(f"{base}{PROSPECTS}", headers=AUTH).status_code == 200
            # Waiters woken by that entry run before the server gets to the next request.
            assert httpx.get(f"{base}/__admin/scenarios", headers=AUTH).status_code == 200
            return spy.evaluations == before

        eventually(costless, "a request still gets matched against the waiters that left")


def test_stopping_ends_held_requests_at_once_and_finishes_the_others(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, closing: ExitStack
) -> None:
    spy = Spy(monkeypatch)
    with served_here(db_path) as (base, server):
        in_flight = InFlight.send(base, closing)
        eventually(lambda: spy.waits == 1, "the wait never began")
        stopped = time.monotonic()
        server.should_exit = True  # what SIGTERM does
        in_flight.assert_held_closed_and_write_answered()
    assert time.monotonic() - stopped < DEADLINE_S, "the server stopped at once"
    recorded = {(entry["method"], entry["status"], entry["scenario"]) for entry in spy.entries}
    assert recorded == {("GET", 0, in_flight.fault), ("POST", 201, in_flight.delay)}


@pytest.mark.system
def test_sigterm_closes_held_requests_and_exits_0_at_once(
    tmp_path: Path, closing: ExitStack
) -> None:
    db = tmp_path / "db.json"
    served = start(db)
    try:
        in_flight = InFlight.send(served.base, closing)
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=DEADLINE_S) == 0, served.log.read_text()[-2000:]
        in_flight.assert_held_closed_and_write_answered()
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()
    with running(db) as restarted:
        listed = httpx.get(f"{restarted.base}{PROSPECTS}", headers=AUTH).json()["data"]
        assert listed[0]["company"] == "Written while stopping", "the write was kept"
