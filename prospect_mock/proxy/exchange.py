"""The proxy as an ASGI app: each request checked against the Prospect API's contract,
sent on (to the upstream, or to the built-in mock for the operations it stands in for),
and its answer checked, counted, recorded and passed back, or refused with ``enforce``."""

from __future__ import annotations

import json
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prospect_mock.contract.paths import match_operation
from prospect_mock.contract.problems import send_problem
from prospect_mock.proxy.admin import ADMIN_PATHS, admin_app
from prospect_mock.proxy.coverage import Coverage
from prospect_mock.proxy.recording import FixtureRecorder
from prospect_mock.proxy.request_checks import check_request
from prospect_mock.proxy.response_checks import check_response
from prospect_mock.proxy.upstream import Answer, Upstream, UpstreamFailed
from prospect_mock.proxy.violations import Finding, Side, Violation, Violations
from prospect_mock.web.body_limit import read_body

__all__ = ["VIOLATIONS_HEADER", "ProxyApp"]

VIOLATIONS_HEADER = "X-Contract-Violations"
MOCK_KEY = "Bearer sk_test_proxy"
"""The key the built-in mock gets: it cannot know the upstream's keys, so any bearer key
the client sends stands for one it accepts; a request without one still gets its 401."""
NO_WEBSOCKETS = Finding(
    "request-unforwardable",
    "The proxy does not forward WebSocket connections, and the Prospect API has none.",
)


class ProxyApp:
    def __init__(
        self,
        upstream: Upstream,
        *,
        enforce: bool = False,
        mock: tuple[Upstream, ASGIApp] | None = None,
        mock_operations: Collection[str] = (),
        recorder: FixtureRecorder | None = None,
    ) -> None:
        self.upstream, self.enforce, self.recorder = upstream, enforce, recorder
        self.mock, self.mock_operations = mock, frozenset(mock_operations)
        self.violations, self.coverage = Violations(), Coverage()
        self._admin = admin_app(self.violations, self.coverage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._refuse_websocket(scope, receive, send)
        elif scope["type"] == "http" and scope["path"] in ADMIN_PATHS:
            await self._admin(scope, receive, send)
        elif scope["type"] == "http":
            await self._exchange(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.mock is not None:
            await self.mock[1](scope, receive, send)  # the mock's start, and its clean stop
            return
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                await self.upstream.close()
                return

    async def _refuse_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a WebSocket with a problem, where the server can send an HTTP answer to
        one (ASGI's denial response), as with any request the proxy cannot forward."""
        await receive()  # websocket.connect
        path = scope["path"]
        found = match_operation("GET", path)
        refused = self.violations.add(
            "request",
            [NO_WEBSOCKETS],
            operation=found[0] if found else None,
            method="GET",
            path=path,
            status=None,
        )
        if "websocket.http.response" in scope.get("extensions", {}):
            await _send_problem(send, 501, NO_WEBSOCKETS.detail, len(refused), "websocket.http")
        else:
            await send({"type": "websocket.close"})  # the server answers 403

    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        query = scope["query_string"].decode("latin-1")
        headers, body = Headers(scope=scope), await read_body(receive)
        operation, request_findings = check_request(method, path, query, headers, body)

        def record(side: Side, findings: list[Finding], status: int | None) -> list[Violation]:
            return self.violations.add(
                side,
                findings,
                operation=operation,
                method=method,
                path=path,
                status=status,
            )

        if "websocket" in headers.get("upgrade", "").lower():
            refused = record("request", [NO_WEBSOCKETS], None)
            await _send_problem(send, 501, NO_WEBSOCKETS.detail, len(refused))
            return
        if request_findings and self.enforce:
            refused = record("request", request_findings, None)
            await _send_problem(send, 400, _naming(refused), len(refused))
            return
        try:
            # The path as it came, still percent-encoded; the checks read it decoded.
            target = scope.get("raw_path", path.encode()).decode("latin-1")
            answer = await self._ask(operation, method, target, query, headers, body)
        except UpstreamFailed as failed:
            found = record("request", request_findings, None)
            found += record(failed.side, [Finding(failed.rule, failed.detail)], None)
            await _send_problem(send, failed.status, failed.detail, len(found))
            return
        found = record("request", request_findings, answer.status)
        response_findings = []
        if operation is not None:
            self.coverage.count(operation, answer.status)
            response_findings = check_response(
                operation, answer.status, Headers(raw=answer.headers), answer.body, method
            )
        broken = record("response", response_findings, answer.status)
        if broken and self.enforce:
            await _send_problem(send, 502, _naming(broken), len(found) + len(broken))
            return
        if operation is not None and not broken and self.recorder and answer.status < 300:
            self.recorder.record(operation, json.loads(answer.body))
        await _send_answer(send, answer, method, len(found) + len(broken))

    async def _ask(
        self,
        operation: str | None,
        method: str,
        path: str,
        query: str,
        headers: Headers,
        body: bytes,
    ) -> Answer:
        if self.mock is None or operation not in self.mock_operations:
            return await self.upstream.send(method, path, query, headers, body)
        if "authorization" in headers:
            mutable = headers.mutablecopy()
            mutable["authorization"] = MOCK_KEY
            headers = mutable
        return await self.mock[0].send(method, path, query, headers, body)


def _naming(violations: list[Violation]) -> str:
    """A sentence naming the first violation, and how many more there are."""
    first = violations[0]
    where = f" at {first.pointer}" if first.pointer else ""
    more = f" ({len(violations) - 1} more)" if len(violations) > 1 else ""
    return (
        f"The {first.side} breaks the contract ({first.rule}{where}): "
        f"{first.detail.rstrip('.')}{more}."
    )


async def _send_answer(send: Send, answer: Answer, method: str, violations: int) -> None:
    headers = list(answer.headers)
    if method != "HEAD":
        headers.append((b"content-length", str(len(answer.raw)).encode()))
    if violations:
        headers.append((VIOLATIONS_HEADER.lower().encode(), str(violations).encode()))
    start: Message = {"type": "http.response.start", "status": answer.status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": answer.raw})


async def _send_problem(
    send: Send, status: int, detail: str, violations: int, channel: str = "http"
) -> None:
    """Answer a problem on ``channel``: ``http``, or ``websocket.http`` to refuse a
    WebSocket."""
    headers = [(VIOLATIONS_HEADER.lower().encode(), str(violations).encode())] if violations else []
    await send_problem(send, status, detail, headers, channel=channel)
