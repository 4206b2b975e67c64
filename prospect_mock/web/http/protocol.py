"""The HTTP/1.1 protocol under the app: uvicorn's httptools protocol, heads bounded.

llhttp, the parser under uvicorn, puts no limit on a request head and no deadline on it:
16 MiB of small headers on one connection cost the server 240 MB, and a connection that never
finishes its head was held for ever. Here a head holds at most ``MAX_HEADERS`` headers in
about ``MAX_HEAD_BYTES`` and must arrive within ``HEAD_TIMEOUT_S``. What the parser refuses
(too big, too slow, an unknown method, not HTTP) gets a problem document, as the app's own
errors do, instead of uvicorn's plain-text 400; the connection then closes.

Each request's scope carries its connection (``Connection``, for the faults a scenario
commits): it is told when the server begins to shut down, so that a request held open on
purpose (a ``timeout`` fault, a journal wait) closes at once instead of holding the server up.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from prospect_mock.contract.problems import PROBLEM_JSON, problem_body
from prospect_mock.web.errors import (
    HeadTooLarge,
    HeadTooSlow,
    MethodNotImplemented,
    RefusedHead,
    status_of,
)
from prospect_mock.web.faults import CONNECTION

__all__ = ["HEAD_TIMEOUT_S", "MAX_HEADERS", "MAX_HEAD_BYTES", "BoundedHttpToolsProtocol"]

MAX_HEAD_BYTES = 64 * 1024
"""The request line and headers together. Browsers send 1-8 KiB; 64 KiB leaves room for big
cookies and tokens (nginx allows 32 KiB by default, Node 16 KiB)."""
MAX_HEADERS = 100
"""Apache's default limit; a browser sends about 20."""
HEAD_TIMEOUT_S = 10.0
"""From a connection's opening, or the first byte of a later request, to the end of its head.
An idle keep-alive connection is closed sooner, by uvicorn's ``timeout_keep_alive`` (5 s)."""
LINGER_S = 2.0
"""How long a refused client may go on sending, read and dropped, before the connection
closes: closing with unread data would reset it, and the client could lose the answer."""
METHODS = "GET, POST, PUT, PATCH or DELETE"

_METHOD_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}")


class _HeadTooLargeInParser(HeadTooLarge):
    """Raised from a parser callback to stop the parser: llhttp has no other way out."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a size, a header count and a deadline per head."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._awaiting_head = True
        self._head_received = 0  # bytes received since the head was awaited, partial ones too
        self._head_start = b""  # the first chunk of it, to name an unknown method
        self._head_size = 0  # bytes of the request line and headers parsed so far
        self._header_count = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False  # from then on, whatever arrives is dropped
        self._pending_answer: bytes | None = None  # sent once the response in flight is out
        self._linger_timer: asyncio.TimerHandle | None = None
        self._shutting_down = asyncio.Event()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._awaiting_head:
            self._head_received += len(data)
            if len(self._head_start) < 40:
                self._head_start += data[:40]
            self._start_head_timer()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _HeadTooLargeInParser):
                self._refuse(error.__context__)
            else:
                self._refuse(RefusedHead("The request line or a header could not be read."))
        except httptools.HttpParserInvalidMethodError:
            self._refuse_method()
        except httptools.HttpParserError as error:
            self._refuse(RefusedHead(f"The request is not valid HTTP/1.1: {_reason(error)}."))
        else:
            # A header still being received is buffered by httptools, unseen by on_header.
            if self._awaiting_head and self._head_received > MAX_HEAD_BYTES:
                self._refuse(HeadTooLarge(_too_large()))

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        connection = _Connection(self, self._shutting_down)
        self.scope["extensions"] = {CONNECTION: connection}  # type: ignore[dict-item]
        self._head_size = self._header_count = 0
        self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > MAX_HEADERS:
            raise _HeadTooLargeInParser(f"The request has more than {MAX_HEADERS} header fields.")
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True
        self._head_received = 0
        self._head_start = b""

    def shutdown(self) -> None:
        """Called by uvicorn as its graceful shutdown begins."""
        self._shutting_down.set()
        super().shutdown()

    def on_response_complete(self) -> None:
        if self._pending_answer is None or self.pipeline:
            super().on_response_complete()
        elif not self.transport.is_closing():
            self.server_state.total_requests += 1
            self._answer_and_close(self._pending_answer)

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD_BYTES:
            raise _HeadTooLargeInParser(_too_large())

    # The deadline

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is None and self._head_received == 0:
            # Nothing was asked (a browser's preconnect, a port scan): nothing to answer.
            self.transport.close()
            return
        self._refuse(
            HeadTooSlow(f"The request head did not arrive within {HEAD_TIMEOUT_S:g} seconds.")
        )

    # Refusals

    def _refuse_method(self) -> None:
        token, space, _ = self._head_start.lstrip(b"\r\n").partition(b" ")
        if space and _METHOD_TOKEN.fullmatch(token):
            method = f"{token.decode('ascii')} is not a method"
        elif not self._head_start:  # it began in the chunk that ended the request before it
            method = "The request's method is not one"
        else:
            self._refuse(
                RefusedHead("The request is not HTTP/1.1: it does not start with a method.")
            )
            return
        self._refuse(MethodNotImplemented(f"{method} this server implements; use {METHODS}."))

    def _refuse(self, refusal: BaseException | None) -> None:
        """Answer ``refusal`` once the responses before it are out, then close."""
        assert isinstance(refusal, RefusedHead)
        status, detail = status_of(refusal) or 400, str(refusal)
        self.logger.warning("Refused a request: %d %s", status, detail)
        self._refused = True
        self._stop_head_timer()
        answer = _problem(status, detail, self.server_state.default_headers)
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            self._answer_and_close(answer)
        elif not cycle.more_body:
            self._pending_answer = answer  # the request in flight was whole: it goes first
        else:
            # The request being received is the malformed one (its body): no other answer.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started or self.pipeline:  # an answer is under way already
                self.transport.close()
            else:
                self._answer_and_close(answer)

    def _answer_and_close(self, answer: bytes) -> None:
        self.transport.write(answer)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        # The client closing its side (eof_received) closes the connection sooner.
        self._linger_timer = self.loop.call_later(LINGER_S, self.transport.close)


def _problem(status: int, detail: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    body = problem_body(status, detail)
    head = [STATUS_LINE[status]]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [
        f"content-type: {PROBLEM_JSON}\r\n".encode(),
        f"content-length: {len(body)}\r\n".encode(),
        b"connection: close\r\n\r\n",
    ]
    return b"".join(head) + body


_NOT_HTTP = "The request is not HTTP/1.1: it does not start with a method."


def _too_large() -> str:
    return f"The request line and headers are larger than {MAX_HEAD_BYTES // 1024} KiB."


def _reason(error: httptools.HttpParserError) -> str:
    reason = " ".join(str(error).split()).rstrip(".")[:200] or "it could not be parsed"
    return reason[0].lower() + reason[1:]


class _Connection:
    """The request's connection, for the faults a scenario commits
    (:mod:`prospect_mock.web.faults`)."""

    def __init__(self, protocol: BoundedHttpToolsProtocol, shutting_down: asyncio.Event) -> None:
        self._protocol = protocol
        self._shutting_down = shutting_down

    async def shutting_down(self) -> None:
        await self._shutting_down.wait()

    def close(self, *, reset: bool) -> None:
        protocol = self._protocol
        if protocol.cycle is not None:
            protocol.cycle.disconnected = True  # uvicorn sends nothing more, not even a 500
        if reset:
            # A zero linger turns the close into a TCP reset.
            sock = protocol.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            protocol.transport.abort()
        else:
            protocol.transport.close()
