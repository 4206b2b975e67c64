"""Deliberately imperfect Prospect APIs for tests/proxy/test_proxy.py.

``python -m tests.proxy_upstream PORT`` answers ``GET /api/crm/prospect/{id}`` with a valid
prospect, unless the request's ``X-Defect`` header asks for one defect; it is served by the
project's own HTTP server (whose connections can be dropped), and echoes the ``X-User``
header's bytes.

``python -m tests.proxy_upstream --raw PORT`` writes its answers byte by byte on raw sockets,
keeping each connection open for the next request, so that its answers can be framed as no
HTTP server frames them: the prospect's id names the defect (:data:`RAW_DEFECTS`), or the
body's encoding (:data:`ENCODED`). Every
answer carries ``X-Connection``, the connection's number, so a test sees which connections
the proxy reuses.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import sys
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from prospect_mock.domain.seeding import load_fixtures
from prospect_mock.web.faults import CONNECTION
from prospect_mock.web.http import server as http_server

PROSPECT = load_fixtures()["prospects"][0]
DEFECTS = ("wrong-type", "missing-field", "undocumented-status", "html-500", "slow", "drop")
SMUGGLED_ID = "prospect_smuggled"
BIG_BYTES = 64 * 1024 * 1024
DRIP_INTERVAL_S = 0.1


def _answer(defect: str, prospect_id: str) -> tuple[int, str, bytes]:
    prospect: dict[str, Any] = {**PROSPECT, "id": prospect_id}
    if defect == "wrong-type":
        prospect["company_name"] = 42
    elif defect == "missing-field":
        del prospect["company"]
    elif defect == "undocumented-status":
        teapot = {"type": "about:blank", "title": "I'm a Teapot", "status": 418, "detail": "No."}
        return 418, "application/problem+json", json.dumps(teapot).encode()
    elif defect == "html-500":
        return 500, "text/html", b"<html><body>Internal error</body></html>"
    return 200, "application/json", json.dumps(prospect).encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    headers = {name.decode(): value.decode("latin-1") for name, value in scope["headers"]}
    defect = headers.get("x-defect", "")
    if defect == "drop":
        scope["extensions"][CONNECTION].close(reset=False)
        return
    if defect == "slow":
        await asyncio.sleep(5)
    # Echoes whether the key arrived, never the key itself.
    echo = [(b"x-saw-authorization", b"yes" if "authorization" in headers else b"no")]
    echo += [(b"x-saw-user", value) for name, value in scope["headers"] if name == b"x-user"]
    status, media_type, body = _answer(defect, scope["path"].rpartition("/")[2])
    start_headers = [(b"content-type", media_type.encode()), *echo]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


# The raw upstream


def _prospect(prospect_id: str) -> bytes:
    return _answer("", prospect_id)[2]


def _head(*fields: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", *fields]
    return "\r\n".join(lines).encode() + b"\r\n\r\n"


def _sized(prospect_id: str, *fields: str) -> bytes:
    body = _prospect(prospect_id)
    return _head(f"Content-Length: {len(body)}", *fields) + body


SMUGGLED = _sized(SMUGGLED_ID)
"""A whole answer, sent after the end of another: a proxy that reuses the connection gives
it to the next request, another client's."""


def _both_lengths(prospect_id: str) -> bytes:
    body = _prospect(prospect_id)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = _head(f"Content-Length: {len(chunked)}", "Transfer-Encoding: chunked")
    return head + chunked + SMUGGLED


def _twice(prospect_id: str) -> bytes:
    body = _prospect(prospect_id)
    return _head(*[f"Content-Length: {len(body)}"] * 2) + body


RAW_DEFECTS: dict[str, Callable[[str], bytes]] = {
    "prospect_both": _both_lengths,
    "prospect_after": lambda prospect_id: _sized(prospect_id) + SMUGGLED,
    "prospect_twice": _twice,
    "prospect_differ": lambda prospect_id: _head("Content-Length: 10", "Content-Length: 20"),
    "prospect_nan": lambda prospect_id: _head("Content-Length: ten"),
}
"""The framing defects, by the prospect id that asks for each: the answer's bytes."""


async def _big(writer: asyncio.StreamWriter) -> None:
    """A valid prospect of :data:`BIG_BYTES`, padded with spaces (JSON allows them)."""
    body = _prospect("prospect_big")
    writer.write(_head(f"Content-Length: {BIG_BYTES}") + body)
    padding, left = b" " * (1024 * 1024), BIG_BYTES - len(body)
    while left:
        writer.write(padding[:left])
        left -= min(left, len(padding))
        await writer.drain()


async def _drip(writer: asyncio.StreamWriter) -> None:
    """A valid prospect, a byte every :data:`DRIP_INTERVAL_S`: each read comes soon, the
    whole answer late."""
    body = _prospect("prospect_drip")
    writer.write(_head(f"Content-Length: {len(body)}"))
    for byte in body:
        await writer.drain()
        await asyncio.sleep(DRIP_INTERVAL_S)
        writer.write(bytes([byte]))


ENCODED = {
    # mtime=0: the same bytes each time (gzip stamps the current second), so that the test can
    # compare an answer through the proxy with one straight from here.
    "prospect_gzip": lambda: gzip.compress(_prospect("prospect_gzip"), mtime=0),
    "prospect_notgzip": lambda: _prospect("prospect_notgzip"),
    # 64 KiB that inflate to 64 MiB: a valid prospect, padded with spaces.
    "prospect_bomb": lambda: gzip.compress(_prospect("prospect_bomb").ljust(BIG_BYTES)),
}
"""Answers that say ``Content-Encoding: gzip``, by the prospect id that asks for each."""


async def _answer_raw(prospect_id: str, connection: int, writer: asyncio.StreamWriter) -> None:
    numbered = f"X-Connection: {connection}"
    if prospect_id == "prospect_big":
        await _big(writer)
    elif prospect_id == "prospect_drip":
        await _drip(writer)
    elif prospect_id in RAW_DEFECTS:
        writer.write(RAW_DEFECTS[prospect_id](prospect_id))
    elif prospect_id in ENCODED:
        body = ENCODED[prospect_id]()
        writer.write(_head(f"Content-Length: {len(body)}", "Content-Encoding: gzip") + body)
    else:
        writer.write(_sized(prospect_id, numbered))
    await writer.drain()


def serve_raw(port: int) -> None:
    numbers = itertools.count(1)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = next(numbers)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode()
                await _answer_raw(target.rpartition("/")[2], number, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the proxy closed the connection
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    if sys.argv[1] == "--raw":
        serve_raw(int(sys.argv[2]))
    else:
        http_server.run(app, http_server.listen("127.0.0.1", int(sys.argv[1])))
