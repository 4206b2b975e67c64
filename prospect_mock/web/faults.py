"""The network faults a scenario can make the server commit, as WireMock names them:

- ``connection_reset``: the connection is reset (TCP RST), with no answer;
- ``empty_response``: the connection is closed with no byte sent;
- ``malformed_body``: a 200 whose JSON body is cut short (the operation's documented
  success example, half of it);
- ``timeout``: no answer at all, until the client gives up (at most ``TIMEOUT_HOLD_S``, then
  the connection is closed); other requests go on meanwhile. A server that begins to shut
  down closes the connection at once (:func:`unless_cut_off`).

Closing or resetting a connection needs the server below the app: prospect-mock's own
(:mod:`prospect_mock.web.http.protocol`) puts a :class:`Connection` in each request's scope, as
the extension ``CONNECTION``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Protocol, TypeVar

from starlette.types import Receive, Scope, Send

from prospect_mock.contract.responses import exact_responses

__all__ = ["CONNECTION", "TIMEOUT_HOLD_S", "Connection", "commit", "unless_cut_off"]

CONNECTION = "prospect_mock.connection"
TIMEOUT_HOLD_S = 60.0

T = TypeVar("T")


class Connection(Protocol):
    def close(self, *, reset: bool) -> None:
        """Close the request's connection at once, sending nothing more; ``reset`` with a
        TCP reset rather than an orderly close."""

    async def shutting_down(self) -> None:
        """Return once the server begins to shut down."""


async def commit(
    fault: str, operation: str, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
) -> None:
    """Commit ``fault`` instead of answering the request to ``operation``."""
    if fault == "malformed_body":
        await _malformed_body(operation, send, headers)
    elif fault == "timeout":
        await unless_cut_off(asyncio.sleep(TIMEOUT_HOLD_S), scope, receive)
        _connection(scope).close(reset=False)
    else:
        _connection(scope).close(reset=fault == "connection_reset")


async def unless_cut_off(work: Awaitable[T], scope: Scope, receive: Receive) -> T | None:
    """What ``work`` gives, or None if first the client goes away or the server begins to
    shut down; ``work`` is then cancelled, and the connection closed: a request held open
    on purpose never holds up a shutdown, nor costs anything once its client has left."""
    working = asyncio.ensure_future(work)
    ends = [asyncio.ensure_future(_client_gone(receive))]
    connection: Connection | None = scope.get("extensions", {}).get(CONNECTION)
    if connection is not None:
        ends.append(asyncio.ensure_future(connection.shutting_down()))
    tasks = [working, *ends]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        # Cancelled work has cleaned up (a journal wait is forgotten) before this returns.
        await asyncio.gather(*tasks, return_exceptions=True)
    if not working.cancelled():
        return working.result()
    if connection is not None:
        connection.close(reset=False)
    return None


async def _malformed_body(operation: str, send: Send, headers: dict[str, str]) -> None:
    success = next(r for status, r in exact_responses(operation).items() if status[0] == "2")
    text = json.dumps(success.example()).encode()
    body = text[: len(text) // 2]
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def _client_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _connection(scope: Scope) -> Connection:
    connection: Connection | None = scope.get("extensions", {}).get(CONNECTION)
    if connection is None:
        raise RuntimeError("Network faults need prospect-mock's own server (prospect-mock serve).")
    return connection
