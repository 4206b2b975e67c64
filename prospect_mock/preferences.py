"""The ``Prefer`` request header, as Prism reads it, plus delays.

``Prefer: code=404`` answers with the operation's documented 404 and its example;
``Prefer: example=NAME`` with a named example; ``Prefer: delay=500`` waits 500 ms first.
Preferences combine (``Prefer: code=200, delay=300``). A forced answer comes after
authentication and validation, and never touches the data.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

from connexion.exceptions import BadRequestProblem
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .contract import route_path, routed_operation
from .problems import send_problem
from .responses import exact_responses, operations

__all__ = ["MAX_DELAY_MS", "ForcedResponses", "Latency", "parse_prefer"]

MAX_DELAY_MS = 30_000
API_PREFIX = "/api/"


def parse_prefer(scope: Scope) -> dict[str, str]:
    """``Prefer: code=404, example=created; delay=10`` -> {"code": "404", ...}."""
    preferences = {}
    # Straight from the ASGI headers (names arrive lowercased): building Starlette's
    # Headers decodes every header, twice per request for a header most never send.
    for name, value in scope["headers"]:
        if name != b"prefer":
            continue
        for token in value.decode("latin-1").replace(";", ",").split(","):
            name, _, value = token.strip().partition("=")
            if name:
                preferences[name.strip().lower()] = value.strip().strip('"')
    return preferences


class Latency:
    """Delay every API response by the ``--latency-ms`` setting, or by ``Prefer: delay``.

    The wait is asynchronous: other requests go on meanwhile.
    """

    def __init__(self, app: ASGIApp, latency_ms: tuple[int, int] = (0, 0)) -> None:
        self.app = app
        self.latency_ms = latency_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_path(scope).startswith(API_PREFIX):
            requested = parse_prefer(scope).get("delay")
            if requested is not None and not _is_delay(requested):
                detail = (
                    f"Prefer: delay must be a whole number of milliseconds, 0 to {MAX_DELAY_MS}."
                )
                await send_problem(400, detail, scope, receive, send)
                return
            if requested is not None:
                delay = int(requested)
            else:  # randint is a hundredth of a request: not called for no latency
                delay = random.randint(*self.latency_ms) if any(self.latency_ms) else 0
            if delay:
                await asyncio.sleep(delay / 1000)
        await self.app(scope, receive, send)


def _is_delay(value: str) -> bool:
    return value.isdigit() and int(value) <= MAX_DELAY_MS


class ForcedResponses:
    """Answer ``Prefer: code=`` / ``example=`` from the Prospect API's contract instead of
    the handler."""

    def __init__(self, app: ASGIApp, handlers_package: str) -> None:
        self.app = app
        self.handlers_package = handlers_package

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation_id = routed_operation(scope, self.handlers_package)
        preferences = parse_prefer(scope) if scope["type"] == "http" else {}
        # Only the Prospect API's operations can be forced; the admin API is not a mock.
        if operation_id not in operations() or not {"code", "example"} & preferences.keys():
            await self.app(scope, receive, send)
            return
        status, media_type, body = _forced(operation_id, preferences)
        applied = ", ".join(
            f"{name}={preferences[name]}" for name in ("code", "example") if name in preferences
        )
        headers = {"Preference-Applied": applied}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        await Response(json.dumps(body), status, headers, media_type)(scope, receive, send)


def _forced(operation_id: str, preferences: dict[str, str]) -> tuple[int, str, Any]:
    # A range such as 5XX names no one status to answer with.
    responses = exact_responses(operation_id)
    code, name = preferences.get("code"), preferences.get("example")
    if code is not None and code not in responses:
        raise BadRequestProblem(
            f"Prefer: code={code[:10]} is not a response of this operation; "
            f"it documents {', '.join(responses)}."
        )
    candidates = [responses[code]] if code is not None else list(responses.values())
    for response in candidates:
        for example_name, value in response.examples:
            if name is None or example_name == name:
                return response.status, response.media_type, value
    if name is None:
        raise BadRequestProblem(f"The documented {code} response of this operation has no example.")
    names = sorted({n for response in candidates for n in response.example_names})
    raise BadRequestProblem(
        f"Prefer: example={name[:40]} is not an example of this operation; "
        f"its named examples are: {', '.join(names) or 'none'}."
    )
