"""The HTTP/1.1 server under the app bounds every request head, in size, in header count and
in time, and answers what it refuses with a problem document: real servers, raw sockets.

Without the bounds, 16 MiB of small headers on one connection cost the server 240 MB, and a
connection that never finished its head was held for ever.
"""

from __future__ import annotations

import json
import select
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from prospect_mock.web.http.protocol import HEAD_TIMEOUT_S, MAX_HEAD_BYTES, MAX_HEADERS
from tests.conftest import AUTH, PROSPECTS, assert_problem
from tests.servers import Served, running

pytestmark = pytest.mark.system

RETRIEVE = f"{PROSPECTS}/prospect_abc123"
GET_HEAD = f"GET {RETRIEVE} HTTP/1.1\r\nHost: mock\r\nAuthorization: {AUTH['Authorization']}\r\n"
FLOOD_BYTES = 16 * 1024 * 1024
MAX_RSS_GROWTH_KB = 30 * 1024
"""Before the bounds, the flood grew the server by 240 MB."""
CUT_OFF_WITHIN_S = HEAD_TIMEOUT_S + 5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running(tmp_path_factory.mktemp("limits") / "db.json", "--quiet") as served:
        yield served


def _connect(server: Served) -> socket.socket:
    host, port = server.base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=CUT_OFF_WITHIN_S)


def _receive(reader: BinaryIO) -> httpx.Response:
    """One response with a Content-Length body, read from a raw connection."""
    status_line = reader.readline()
    assert status_line, "the server closed the connection without answering"
    headers = httpx.Headers()
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip()] = value.strip()
    body = reader.read(int(headers.get("content-length", 0)))
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=body)


def _exchange(server: Served, request: bytes) -> tuple[httpx.Response, bytes]:
    """Send ``request``, read one response and then what follows it until the server closes."""
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(request)
        return _receive(reader), reader.read()


def _assert_refused(response: httpx.Response, status: int, *fragments: str) -> None:
    assert_problem(response, status, *fragments)
    assert response.headers["connection"] == "close"


def _rss_kb(server: Served) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def _flood(sock: socket.socket, head_start: bytes, block: bytes) -> None:
    """Send ``head_start`` and then ``block`` until FLOOD_BYTES are sent or the server stops
    reading (after its answer, it reads and drops what comes, for a while)."""
    try:
        sock.sendall(head_start)
        for _ in range(FLOOD_BYTES // len(block)):
            sock.sendall(block)
    except OSError:
        pass


def _flooded(server: Served, head_start: bytes, block: bytes) -> httpx.Response:
    """Flood the server with one endless head; its answer, read while the flood goes on."""
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sender = threading.Thread(target=_flood, args=(sock, head_start, block))
        sender.start()
        try:
            return _receive(reader)
        finally:
            sender.join()


@pytest.mark.parametrize(
    ("request_bytes", "status", "fragment"),
    [
        (b"FOO / HTTP/1.1\r\nHost: mock\r\n\r\n", 501, "FOO is not a method"),
        (f"{GET_HEAD}X-Big: {'a' * MAX_HEAD_BYTES}\r\n\r\n".encode(), 431, "larger than 64 KiB"),
        (f"GET /{'a' * MAX_HEAD_BYTES} HTTP/1.1\r\n\r\n".encode(), 431, "larger than 64 KiB"),
        (
            (GET_HEAD + "".join(f"X-{n}: y\r\n" for n in range(MAX_HEADERS)) + "\r\n").encode(),
            431,
            f"more than {MAX_HEADERS} header fields",
        ),
        (f"{GET_HEAD}Bad Name: x\r\n\r\n".encode(), 400, "not valid HTTP/1.1"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "does not start with a method"),
    ],
    ids=["unknown method", "big header", "long url", "101 headers", "bad header", "TLS hello"],
)
def test_a_request_the_server_refuses_gets_a_problem_document_and_the_connection_closes(
    server: Served, request_bytes: bytes, status: int, fragment: str
) -> None:
    response, rest = _exchange(server, request_bytes)
    _assert_refused(response, status, fragment)
    assert rest == b"", "nothing follows the refusal"


def test_sixteen_mib_of_small_headers_get_431_and_do_not_grow_the_server(server: Served) -> None:
    rss_before = _rss_kb(server)
    response = _flooded(server, GET_HEAD.encode(), b"X-Flood: y\r\n" * 5000)
    _assert_refused(response, 431, f"more than {MAX_HEADERS} header fields")
    assert _rss_kb(server) - rss_before < MAX_RSS_GROWTH_KB


def test_one_endless_header_gets_431_and_is_not_buffered(server: Served) -> None:
    rss_before = _rss_kb(server)
    response = _flooded(server, f"{GET_HEAD}X-Endless: ".encode(), b"a" * 65536)
    _assert_refused(response, 431, "larger than 64 KiB")
    assert _rss_kb(server) - rss_before < MAX_RSS_GROWTH_KB


def test_heads_within_the_limits_are_answered_on_one_keep_alive_connection(
    server: Served,
) -> None:
    headers = [f"X-{n}: {'v' * 640}\r\n" for n in range(MAX_HEADERS - 3)]
    largest = (GET_HEAD + "".join(headers) + "\r\n").encode()
    assert MAX_HEAD_BYTES - 4096 < len(largest) <= MAX_HEAD_BYTES
    plain = f"{GET_HEAD}\r\n".encode()
    with _connect(server) as sock, sock.makefile("rb") as reader:
        for request in (plain, largest, plain + plain):  # the last two pipelined
            sock.sendall(request)
            assert _receive(reader).status_code == 200
        assert _receive(reader).status_code == 200


def test_a_big_body_and_a_head_sent_in_pieces_are_not_taken_for_a_big_or_slow_head(
    server: Served,
) -> None:
    body = json.dumps({"company": "a" * 512 * 1024}).encode()
    post = f"POST {PROSPECTS} HTTP/1.1\r\nHost: mock\r\nContent-Length: {len(body)}\r\n"
    post += f"Authorization: {AUTH['Authorization']}\r\nContent-Type: application/json\r\n\r\n"
    head = f"{GET_HEAD}\r\n".encode()
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(post.encode() + body)
        assert_problem(_receive(reader), 400, "company")
        for start in range(0, len(head), 20):
            sock.sendall(head[start : start + 20])
            time.sleep(0.2)
        assert _receive(reader).status_code == 200


def test_a_refused_request_is_answered_after_the_requests_before_it(server: Served) -> None:
    with _connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(f"{GET_HEAD}\r\nFOO / HTTP/1.1\r\n\r\n".encode())
        assert _receive(reader).json()["id"] == "prospect_abc123"
        _assert_refused(_receive(reader), 501, "not one this server implements")
        assert reader.read() == b""


def test_a_silent_connection_is_closed_within_the_head_timeout(server: Served) -> None:
    with _connect(server) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b"", "closed without an answer: nothing was asked"
        assert time.monotonic() - started < CUT_OFF_WITHIN_S


def test_a_head_trickled_a_byte_every_half_second_gets_408_within_the_head_timeout(
    server: Served,
) -> None:
    with _connect(server) as sock, sock.makefile("rb") as reader:
        deadline = time.monotonic() + CUT_OFF_WITHIN_S
        sock.sendall(f"{GET_HEAD}X-Slow: ".encode())
        while not select.select([sock], [], [], 0.5)[0]:
            assert time.monotonic() < deadline, "the trickled head was never cut off"
            sock.sendall(b"a")
        _assert_refused(_receive(reader), 408, f"within {HEAD_TIMEOUT_S:g} seconds")
        assert reader.read() == b""


def test_other_requests_are_answered_while_a_head_trickles(server: Served) -> None:
    with (
        _connect(server) as trickle,
        httpx.Client(base_url=server.base, headers=AUTH, timeout=5) as http,
    ):
        trickle.sendall(f"{GET_HEAD}X-Slow: ".encode())
        for _ in range(6):
            trickle.sendall(b"a")
            assert http.get(RETRIEVE).status_code == 200
            time.sleep(0.5)


def test_sigterm_finishes_the_request_in_flight_and_drops_unfinished_heads(
    tmp_path: Path,
) -> None:
    with (
        running(tmp_path / "db.json", "--quiet") as server,
        _connect(server) as trickle,
        _connect(server) as slow,
        slow.makefile("rb") as reader,
    ):
        trickle.sendall(f"{GET_HEAD}X-Slow: ".encode())
        slow.sendall(f"{GET_HEAD}Prefer: delay=1000\r\n\r\n".encode())
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        assert _receive(reader).json()["id"] == "prospect_abc123"
        assert trickle.recv(1) == b""
        assert server.process.wait(timeout=CUT_OFF_WITHIN_S) == 0
