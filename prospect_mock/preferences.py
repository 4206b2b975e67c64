"""The ``Prefer`` request header, as Prism reads it, plus delays.

``Prefer: code=404`` answers with the operation's documented 404 and its example (any status
a documented range covers too: ``code=503`` is one of ``5XX``); ``Prefer: example=NAME`` with
a named example; ``Prefer: delay=500`` waits 500 ms first.
Preferences combine (``Prefer: code=200, delay=300``). A forced answer comes after
authentication and validation, and never touches the data.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from connexion.exceptions import BadRequestProblem
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .contract import route_path, routed_operation
from .problems import send_problem
from .responses import Documented, describe_statuses, documented, exact_responses, operations

__all__ = ["MAX_DELAY_MS", "ForcedResponses", "Latency", "parse_prefer"]

MAX_DELAY_MS = 30_000
API_PREFIX = "/api/"
_STATUS_CODE = re.compile(r"[1-5][0-9]{2}")
"""What ``Prefer: code=`` can name: a status code of HTTP, 100-599."""


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
    code, name = preferences.get("code"), preferences.get("example")
    if code is not None:
        answer = _documented_for_code(operation_id, code)
    else:  # the caller forces only with a code or an example
        answer = _documented_with_example(operation_id, preferences["example"])
    try:
        return answer.status, answer.media_type, answer.example(name)
    except KeyError:
        if name is None:
            detail = f"The documented {code} response of this operation has no example."
            raise BadRequestProblem(detail) from None
        raise _not_an_example(name, [answer], f"this operation's {code} response") from None


def _documented_for_code(operation_id: str, code: str) -> Documented:
    # Any status a range covers can be forced: 5XX documents each of 500-599.
    answer = documented(operation_id, int(code)) if _STATUS_CODE.fullmatch(code) else None
    if answer is None:
        raise BadRequestProblem(
            f"Prefer: code={code[:10]} is not a response of this operation; "
            f"it documents {describe_statuses(operation_id)}."
        )
    return answer


def _documented_with_example(operation_id: str, name: str) -> Documented:
    # Without a code, a range names no status to answer with: its examples are not offered.
    responses = list(exact_responses(operation_id).values())
    for answer in responses:
        if name in answer.example_names:
            return answer
    raise _not_an_example(name, responses, "this operation")


def _not_an_example(name: str, responses: list[Documented], where: str) -> BadRequestProblem:
    names = sorted({n for response in responses for n in response.example_names})
    return BadRequestProblem(
        f"Prefer: example={name[:40]} is not an example of {where}; "
        f"its named examples are: {', '.join(names) or 'none'}."
    )
