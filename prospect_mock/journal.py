"""The request journal: the last requests to the Prospect API, with their answers."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .records import timestamp

__all__ = ["Journal", "JournalRecorder"]

MAX_ENTRIES = 500
MAX_BODY_BYTES = 64 * 1024


class Journal:
    """A bounded, thread-safe list of entries, newest last."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._lock = threading.Lock()

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def newest(self, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Up to ``limit`` entries, newest first, and how many there are in all."""
        with self._lock:
            return list(reversed(self._entries))[:limit], len(self._entries)

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count


class JournalRecorder:
    """Records every request under ``/api/`` in the journal, once it is answered."""

    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        at, started = timestamp(), time.perf_counter()
        request_body, response_body, status = bytearray(), bytearray(), 500

        async def receive_and_keep() -> Message:
            message = await receive()
            request_body.extend(message.get("body", b"")[: MAX_BODY_BYTES - len(request_body)])
            return message

        async def send_and_keep(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                response_body.extend(
                    message.get("body", b"")[: MAX_BODY_BYTES - len(response_body)]
                )
            await send(message)

        try:
            await self.app(scope, receive_and_keep, send_and_keep)
        finally:
            self.journal.add(
                {
                    "at": at,
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "request_body": _text(request_body),
                    "response_body": _text(response_body),
                }
            )


def _text(body: bytearray) -> str | None:
    return body.decode("utf-8", errors="replace") if body else None
