"""The request journal: the last requests to the Prospect API, with their answers, and the
questions a test asks of it (how many matched, and waiting until enough have)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    """A bounded list of entries, newest last, that a waiting test hears about at once.

    Entries may be added from any thread; each wait is woken in its own event loop.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self._watches: dict[RequestFilter, _Watch] = {}

    def add(self, entry: Entry) -> None:
        """Keep ``entry``, and wake the waits it completes: it is tested once against each
        filter waited on (and so is the oldest entry, if it falls out), however many wait."""
        with self._lock:
            full = len(self._entries) == self._entries.maxlen
            dropped = self._entries[0] if full else None
            self._entries.append(entry)
            for matching, watch in self._watches.items():
                if dropped is not None and matching.matches(dropped):
                    watch.matched -= 1
                if matching.matches(entry):
                    watch.arrived()

    def newest(self, limit: int, matching: RequestFilter) -> tuple[list[Entry], int]:
        """Up to ``limit`` matching entries, newest first, and how many match in all."""
        found = self._matching(matching)
        return found[::-1][:limit], len(found)

    def count(self, matching: RequestFilter) -> int:
        with self._lock:
            return self._count(matching)

    async def wait(self, matching: RequestFilter, count: int, timeout_s: float) -> int:
        """Return as soon as ``count`` entries match (how many do), or raise
        :class:`WaitTimedOut` once ``timeout_s`` has passed. Cancelling it (its client
        went away) ends it at once."""
        arrived: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        with self._lock:
            found = self._count(matching)
            if found >= count:
                return found
            self._watches.setdefault(matching, _Watch(found)).waits[count].add(arrived)
        try:
            return await asyncio.wait_for(arrived, timeout_s)
        except TimeoutError:
            raise WaitTimedOut(
                f"Only {self.count(matching)} of the {count} requests matching {matching} "
                f"arrived within {timeout_s * 1000:g} ms."
            ) from None
        finally:
            self._unwatch(matching, count, arrived)

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            for watch in self._watches.values():
                watch.matched = 0
            return count

    def _count(self, matching: RequestFilter) -> int:
        """How many entries match; the caller holds the lock."""
        watch = self._watches.get(matching)
        if watch is not None:
            return watch.matched
        return sum(1 for entry in self._entries if matching.matches(entry))

    def _unwatch(self, matching: RequestFilter, count: int, arrived: asyncio.Future[int]) -> None:
        with self._lock:
            watch = self._watches.get(matching)
            if watch is None:
                return  # dropped by another wait woken with this one
            watch.forget(count, arrived)
            if not watch.waits:
                del self._watches[matching]

    def _matching(self, matching: RequestFilter) -> list[Entry]:
        with self._lock:
            return [entry for entry in self._entries if matching.matches(entry)]


@dataclass
class _Watch:
    """The waits on one filter, by the count each awaits, and how many entries of the
    journal match the filter now, kept up to date as entries come and go."""

    matched: int
    waits: defaultdict[int, set[asyncio.Future[int]]] = field(
        default_factory=lambda: defaultdict(set)
    )

    def arrived(self) -> None:
        """One more entry matches: wake the waits for that many. A wait is made only while
        fewer match than it awaits, and the count moves one at a time: it cannot pass a
        wait's count without reaching it."""
        self.matched += 1
        for wait in self.waits.pop(self.matched, ()):
            # add() may run outside the wait's loop: in a worker thread, or another loop.
            wait.get_loop().call_soon_threadsafe(_settle, wait, self.matched)

    def forget(self, count: int, wait: asyncio.Future[int]) -> None:
        waits = self.waits.get(count)
        if waits is None:
            return  # woken already
        waits.discard(wait)
        if not waits:
            del self.waits[count]


def _settle(wait: asyncio.Future[int], found: int) -> None:
    if not wait.done():  # a wait that timed out, or was cancelled, is done already
        wait.set_result(found)


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
