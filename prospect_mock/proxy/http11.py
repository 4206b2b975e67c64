"""The proxy's connections to the upstream: an httpx transport of its own, on h11.

httpx's own transport (httpcore, itself on h11) reads an answer that carries both
``Content-Length`` and ``Transfer-Encoding`` by the latter and keeps the connection: bytes the
upstream sent after that answer's end wait in the parser, and are read as the answer to the
next request on the connection, another client's (response desync). Here an answer is taken
only when its end is certain: one ``Content-Length`` or chunked, never both, and nothing after
it. Any other raises :class:`BrokenFraming`, and its connection is closed. A connection goes
back to the pool only once its answer was read whole, and is taken again only if nothing has
arrived on it since.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import cast

import h11
import httpx

__all__ = ["BrokenFraming", "H11Transport"]

MAX_HEAD_BYTES = 100 * 1024
"""The largest answer head taken, as httpcore takes."""
READ_AHEAD_BYTES = 64 * 1024
"""Bytes received and not yet parsed, at most: beyond that the socket is not read until the
proxy has taken them, so that an upstream sending fast cannot fill the memory."""
KEEPALIVE_S = 5.0
"""How long an idle connection is kept (httpx's default)."""
MAX_IDLE = 20
"""Idle connections kept per origin (httpx's default)."""
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]

_FRAMING_FIELD = re.compile(rb"^(content-length|transfer-encoding)[ \t]*:(.*)$", re.I | re.M)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class BrokenFraming(httpx.RemoteProtocolError):
    """The end of an answer is not certain; its connection is closed."""


class H11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over TCP (TLS for https), keeping idle connections per origin."""

    def __init__(self) -> None:
        self._idle: dict[Origin, list[_Connection]] = {}
        self._tls = httpx.create_ssl_context(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme])
        connection = self._take(origin) or await _Connection.open(origin, self._tls)
        try:
            head = await connection.send(request)
        except BaseException:
            connection.close()
            raise
        return httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=_Body(connection, lambda: self._give_back(origin, connection)),
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason},
        )

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if connection.still_idle():
                return connection
            connection.close()
        return None

    def _give_back(self, origin: Origin, connection: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < MAX_IDLE and connection.ready_for_next():
            idle.append(connection)
        else:
            connection.close()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


class _Body(httpx.AsyncByteStream):
    """An answer's body, read from its connection; closing it hands the connection back."""

    def __init__(self, connection: _Connection, give_back: Callable[[], None]) -> None:
        self._connection, self._give_back = connection, give_back
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._connection.body():
            yield chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._give_back()


class _Connection(asyncio.Protocol):
    """One connection to the upstream; h11 makes answers of the bytes it receives."""

    def __init__(self) -> None:
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._transport: asyncio.Transport | None = None
        self._unparsed = bytearray()  # received, not yet given to h11
        self._head = bytearray()  # given to h11 since the request, until its answer's head
        self._ended = False  # by the upstream's FIN, or the connection's loss
        self._lost: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._idle_until = 0.0

    @classmethod
    async def open(cls, origin: Origin, tls: ssl.SSLContext) -> _Connection:
        scheme, host, port = origin
        secure = scheme == "https"
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                cls,
                host,
                port,
                ssl=tls if secure else None,
                server_hostname=host if secure else None,
            )
        except OSError as error:
            raise httpx.ConnectError(str(error) or type(error).__name__) from None
        return connection

    # What asyncio calls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, whatever its class: uvloop's derive from no asyncio class.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._unparsed += data
        if len(self._unparsed) > READ_AHEAD_BYTES and self._transport is not None:
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> None:
        self._ended = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended, self._lost = True, exc
        self._wake()

    # An exchange

    async def send(self, request: httpx.Request) -> h11.Response:
        """Send ``request`` and read its answer's head, whose framing must be certain."""
        body = await request.aread()
        try:
            head = h11.Request(
                method=request.method, target=request.url.raw_path, headers=request.headers.raw
            )
            events = [head, h11.Data(data=body), h11.EndOfMessage()]
            data = b"".join(self._h11.send(event) or b"" for event in events)
        except h11.LocalProtocolError as error:
            raise httpx.LocalProtocolError(str(error)) from None
        assert self._transport is not None
        self._transport.write(data)
        self._head.clear()
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Response):
                fault = _framing_fault(self._received_head())
                self._head.clear()
                if fault:
                    raise BrokenFraming(fault)
                return event
            # Otherwise an informational answer (100 Continue, 103 Early Hints): not the one.

    async def body(self) -> AsyncIterator[bytes]:
        """The answer's body; bytes after its end make it an answer whose end is unsure."""
        while True:
            event = await self._next_event()
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                break
        after = len(self._h11.trailing_data[0]) + len(self._unparsed)
        if after:
            raise BrokenFraming(f"{after} bytes came after its end")

    def ready_for_next(self) -> bool:
        """Start the connection's next exchange, if its answer was read whole and nothing
        came after it."""
        done = self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE
        if not done or self._h11.trailing_data[0] or self._unparsed or self._ended:
            return False
        self._h11.start_next_cycle()
        self._idle_until = time.monotonic() + KEEPALIVE_S
        return True

    def still_idle(self) -> bool:
        """Nothing arrived since the last answer: no late byte, no close by the upstream."""
        return not (self._unparsed or self._ended) and time.monotonic() <= self._idle_until

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # Reading

    async def _next_event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as error:
                raise BrokenFraming(str(error)) from None
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]  # mypy cannot narrow a sentinel
            await self._receive()

    async def _receive(self) -> None:
        """Give h11 what arrived, waiting for it if nothing has."""
        while not (self._unparsed or self._ended):
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._unparsed:
            if self._h11.their_state is h11.SEND_RESPONSE:
                self._head += self._unparsed
            self._h11.receive_data(bytes(self._unparsed))
            self._unparsed.clear()
            assert self._transport is not None
            self._transport.resume_reading()
        elif self._lost is not None:
            raise httpx.ReadError(str(self._lost) or type(self._lost).__name__)
        elif self._h11.their_state is h11.SEND_RESPONSE and not self._head:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        else:
            self._h11.receive_data(b"")

    def _received_head(self) -> bytes:
        """The answer's head (after any informational one) as the upstream sent it."""
        parsed = self._head[: len(self._head) - len(self._h11.trailing_data[0])]
        return _BLANK_LINE.split(bytes(parsed).rstrip(b"\r\n"))[-1]

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _framing_fault(head: bytes) -> str | None:
    """Why ``head`` does not say for certain where its body ends, if it does not.

    It is read as sent: h11 takes one of several equal ``Content-Length`` values silently,
    and refuses, itself, lengths that differ or are not numbers."""
    fields = [(name.lower(), value.strip()) for name, value in _FRAMING_FIELD.findall(head)]
    lengths = [value for name, value in fields if name == b"content-length"]
    if lengths and len(fields) > len(lengths):
        return "it has both Content-Length and Transfer-Encoding"
    if len(lengths) > 1 or any(b"," in value for value in lengths):
        return "it has more than one Content-Length"
    return None
