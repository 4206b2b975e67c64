"""The request journal: the last requests to the Prospect API, with their answers, and the
questions a test asks of it (how many matched, and waiting until enough have)."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_ENTRIES",
    "MAX_REFUSED_TEXT",
    "Entry",
    "Journal",
    "RequestFilter",
    "WaitTimedOut",
]

MAX_ENTRIES = 500
MAX_BODY_BYTES = 64 * 1024
"""At most this much of a request's and of an answer's body is kept."""
MAX_REFUSED_TEXT = 512
"""At most this much of the path and of the query of a request that was not let in."""

Entry = dict[str, Any]


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
