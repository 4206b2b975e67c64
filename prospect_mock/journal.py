"""The request journal: the last requests to the Prospect API, with their answers, and the
questions a test asks of it (how many matched, and waiting until enough have)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import timestamp
from .contract import match_operation, route_path

__all__ = [
    "MAX_ENTRIES",
    "Journal",
    "JournalRecorder",
    "RequestFilter",
    "WaitTimedOut",
    "annotate",
]

MAX_ENTRIES = 500
MAX_BODY_BYTES = 64 * 1024
MAX_REFUSED_TEXT = 512

Entry = dict[str, Any]
_ENTRY_KEY = "prospect_mock.journal_entry"
"""Where the entry of the request being answered is, in its scope."""


@dataclass(frozen=True)
class RequestFilter:
    """Which entries a question is about; a field left out matches every entry.

    ``path`` is matched whole, ``*`` standing for any characters; ``status`` is a status
    (``201``) or a class of them (``5XX``).
    """

    operation: str | None = None
    method: str | None = None
    path: str | None = None
    status: str | None = None

    @classmethod
    def of(cls, query: Mapping[str, Any]) -> RequestFilter:
        """The filter named in ``query``, which may hold other names too."""
        return cls(**{name: query.get(name) for name in cls.__dataclass_fields__})

    def __str__(self) -> str:
        named = [f"{name}={value}" for name, value in vars(self).items() if value is not None]
        return ", ".join(named) or "any request"

    def matches(self, entry: Entry) -> bool:
        return (
            (self.operation is None or entry["operation"] == self.operation)
            and (self.method is None or entry["method"] == self.method)
            and (self.path is None or fnmatchcase(entry["path"], self.path))
            and (self.status is None or _status_matches(entry["status"], self.status))
        )


def _status_matches(status: int, wanted: str) -> bool:
    if wanted.upper().endswith("XX"):
        return str(status)[0] == wanted[0]
    return str(status) == wanted


class WaitTimedOut(Exception):
    """Fewer requests than awaited arrived in time; the message says how many did."""


class Journal:
    """A bounded list of entries, newest last, that a waiting test hears about at once."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self._waiting: set[asyncio.Future[None]] = set()

    def add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_result(None)

    def newest(self, limit: int, matching: RequestFilter) -> tuple[list[Entry], int]:
        """Up to ``limit`` matching entries, newest first, and how many match in all."""
        found = self._matching(matching)
        return found[::-1][:limit], len(found)

    def count(self, matching: RequestFilter) -> int:
        return len(self._matching(matching))

    async def wait(self, matching: RequestFilter, count: int, timeout_s: float) -> int:
        """Return as soon as ``count`` entries match (how many do), or raise
        :class:`WaitTimedOut` once ``timeout_s`` has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (found := self.count(matching)) < count and loop.time() < deadline:
            waiter = loop.create_future()
            self._waiting.add(waiter)
            try:
                await asyncio.wait_for(waiter, deadline - loop.time())
            except TimeoutError:
                pass
            finally:
                self._waiting.discard(waiter)
        if found < count:
            raise WaitTimedOut(
                f"Only {found} of the {count} requests matching {matching} arrived within "
                f"{timeout_s * 1000:g} ms."
            )
        return found

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count

    def _matching(self, matching: RequestFilter) -> list[Entry]:
        with self._lock:
            return [entry for entry in self._entries if matching.matches(entry)]


class JournalRecorder:
    """Records every request under ``/api/`` in the journal that ``journal_of(scope)``
    names, before the last byte of its answer is sent: a client that has its answer finds
    it in the journal.

    ``journal_of`` also says whether the request was let in (authenticated): the entry of
    one that was not keeps no request body and at most :data:`MAX_REFUSED_TEXT` characters
    of its path and query, so that anonymous traffic cannot make a journal large.
    """

    def __init__(
        self, app: ASGIApp, journal_of: Callable[[Scope], tuple[Journal, bool] | None]
    ) -> None:
        self.app = app
        self.journal_of = journal_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        operation = match_operation(scope["method"], path)
        entry: Entry = {
            "at": timestamp(),
            "operation": operation[0] if operation else None,
            "method": scope["method"],
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": 0,
            "scenario": None,
        }
        started = time.perf_counter()
        request_body, response_body = bytearray(), bytearray()
        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            found = self.journal_of(scope)
            if found is None:
                return
            journal, admitted = found
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            entry["request_body"] = _text(request_body) if admitted else None
            entry["response_body"] = _text(response_body)
            if not admitted:
                entry["path"] = entry["path"][:MAX_REFUSED_TEXT]
                entry["query"] = entry["query"][:MAX_REFUSED_TEXT]
            journal.add(entry)

        async def receive_and_keep() -> Message:
            message = await receive()
            request_body.extend(message.get("body", b"")[: MAX_BODY_BYTES - len(request_body)])
            return message

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            elif message["type"] == "http.response.body":
                response_body.extend(
                    message.get("body", b"")[: MAX_BODY_BYTES - len(response_body)]
                )
                if not message.get("more_body", False):
                    record()
            await send(message)

        try:
            await self.app({**scope, _ENTRY_KEY: entry}, receive_and_keep, send_and_keep)
        finally:
            if not recorded:
                record()


def annotate(scope: Scope, **fields: Any) -> None:
    """Add ``fields`` to the journal entry of the request being answered, if it has one."""
    entry = scope.get(_ENTRY_KEY)
    if entry is not None:
        entry.update(fields)


def _text(body: bytearray) -> str | None:
    return body.decode("utf-8", errors="replace") if body else None
