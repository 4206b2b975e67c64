"""Recording a request to the Prospect API in its workspace's journal, with its answer.

The entry is made when the request arrives and kept before the last byte of its answer is
sent: a client that has its answer finds it in the journal. A request that was not let in
(no valid key) is kept without its body, with at most
:data:`~prospect_mock.domain.journal.MAX_REFUSED_TEXT` characters of its path and query, so
that anonymous traffic cannot make a journal large.
"""

from __future__ import annotations

import time

from starlette.types import Message, Scope, Send

from prospect_mock.domain.journal import MAX_BODY_BYTES, MAX_REFUSED_TEXT, Entry
from prospect_mock.storage.clock import timestamp
from prospect_mock.web.request_state import RequestState

__all__ = ["JournalRecording"]


class JournalRecording:
    def __init__(self, state: RequestState, scope: Scope) -> None:
        self._state = state
        state.entry = {
            "at": timestamp(),
            "operation": state.operation,
            "method": scope["method"],
            "path": state.path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "status": 0,
            "scenario": None,
        }
        self._started = time.perf_counter()
        self._response_body = bytearray()
        self.body = bytearray()
        """The request's body, as the plan reads it."""
        self._recorded = False

    def sending(self, send: Send) -> Send:
        """``send``, noting the answer's status and body, and recording at its end."""

        async def send_and_keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._entry["status"] = message["status"]
            elif message["type"] == "http.response.body":
                room = MAX_BODY_BYTES - len(self._response_body)
                self._response_body.extend(message.get("body", b"")[:room])
                if not message.get("more_body", False):
                    self.record()
            await send(message)

        return send_and_keep

    def record(self) -> None:
        """Keep the entry in the journal of the request's workspace (once)."""
        if self._recorded:
            return
        self._recorded = True
        found = self._state.journal()
        if found is None:
            return
        journal, admitted = found
        entry = self._entry
        entry["duration_ms"] = round((time.perf_counter() - self._started) * 1000, 3)
        entry["request_body"] = _text(self.body[:MAX_BODY_BYTES]) if admitted else None
        entry["response_body"] = _text(self._response_body)
        if not admitted:
            entry["path"] = entry["path"][:MAX_REFUSED_TEXT]
            entry["query"] = entry["query"][:MAX_REFUSED_TEXT]
        journal.add(entry)

    @property
    def _entry(self) -> Entry:
        assert self._state.entry is not None
        return self._state.entry


def _text(body: bytes | bytearray) -> str | None:
    return body.decode("utf-8", errors="replace") if body else None
