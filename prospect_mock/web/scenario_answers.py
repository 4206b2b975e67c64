"""Answering from the workspace's scenarios (:mod:`prospect_mock.domain.scenarios`).

A scenario plays where a forced answer does, after authentication and validation: it cannot
answer a request the contract refuses. The newest scenario that matches the request applies:
a documented answer, a fault, or, after its delay, the real answer. Every one carries
``X-Mock-Scenario`` and its journal entry names the scenario; only the real answer, late,
touches the data.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prospect_mock.contract.validation import Parsed
from prospect_mock.domain.scenarios import Scenario, Scenarios
from prospect_mock.web import faults

__all__ = ["SCENARIO_HEADER", "matching_scenario", "play"]

SCENARIO_HEADER = "X-Mock-Scenario"


def matching_scenario(scenarios: Scenarios, operation: str, scope: Scope) -> Scenario | None:
    """The scenario that answers this request to ``operation``, taken from ``scenarios``."""
    # The body as validation parsed it (None if the request had none).
    body = Parsed.of(scope).body if scenarios.wants_body(operation) else None
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    return scenarios.take(operation, scope.get("path_params", {}), query, body)


async def play(
    scenario: Scenario, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer as ``scenario`` says; ``app`` gives the real answer."""
    headers = {**scenario.headers, SCENARIO_HEADER: scenario.id}
    if scenario.delay_ms:
        await asyncio.sleep(scenario.delay_ms / 1000)
    if scenario.answer is not None:
        if scenario.answer.status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        response = Response(
            json.dumps(scenario.body), scenario.answer.status, headers, scenario.answer.media_type
        )
        await response(scope, receive, send)
    elif scenario.fault is not None:
        await faults.commit(scenario.fault, scenario.operation, scope, receive, send, headers)
    else:
        await app(scope, receive, _with_headers(send, headers))


def _with_headers(send: Send, headers: dict[str, str]) -> Send:
    extra = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return send_with_headers
