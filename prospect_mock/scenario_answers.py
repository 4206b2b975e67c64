"""Answering from the workspace's scenarios (:mod:`prospect_mock.scenarios`).

It sits where forced answers do, after authentication and validation: a scenario cannot
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

from . import faults
from .contract import routed_operation
from .journal import annotate
from .responses import operations
from .scenarios import Scenario
from .validation import Parsed
from .workspaces import SCOPE_KEY

__all__ = ["SCENARIO_HEADER", "ScenarioAnswers"]

SCENARIO_HEADER = "X-Mock-Scenario"


class ScenarioAnswers:
    def __init__(self, app: ASGIApp, handlers_package: str) -> None:
        self.app = app
        self.handlers_package = handlers_package

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A request that no operation took has entered no workspace, and plays none.
        workspace = scope.get(SCOPE_KEY)
        scenarios = workspace.scenarios if workspace is not None else None
        if not scenarios:
            await self.app(scope, receive, send)
            return
        operation = routed_operation(scope, self.handlers_package)
        # The body as validation parsed it (None if the request had none).
        wants_body = operation in operations() and scenarios.wants_body(operation)
        body = Parsed.of(scope).body if wants_body else None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        scenario = scenarios.take(operation, scope.get("path_params", {}), query, body)
        if scenario is None:
            await self.app(scope, receive, send)
            return
        annotate(scope, scenario=scenario.id)
        await _play(scenario, self.app, scope, receive, send)


async def _play(
    scenario: Scenario, app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> None:
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
