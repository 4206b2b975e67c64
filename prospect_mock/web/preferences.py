"""The ``Prefer`` request header, as Prism reads it: forced answers and delays.

``Prefer: code=404`` answers with the operation's documented 404 and its example (any status
a documented range covers too: ``code=503`` is one of ``5XX``); ``Prefer: example=NAME`` with
a named example; ``Prefer: delay=500`` waits 500 ms first.
Preferences combine (``Prefer: code=200, delay=300``). A forced answer comes after
authentication and validation, and never touches the data.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from prospect_mock.contract.responses import (
    Documented,
    describe_statuses,
    documented,
    exact_responses,
)
from prospect_mock.web.errors import BadPreference

__all__ = ["MAX_DELAY_MS", "delay_ms", "forced_response", "parse_prefer"]

MAX_DELAY_MS = 30_000
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


def delay_ms(preferences: dict[str, str], latency_ms: tuple[int, int]) -> int:
    """How long to wait before answering: ``Prefer: delay``, else a draw from the server's
    ``--latency-ms`` range; :class:`BadPreference` for a delay that is not one."""
    requested = preferences.get("delay")
    if requested is None:  # randint is a hundredth of a request: not called for no latency
        return random.randint(*latency_ms) if any(latency_ms) else 0
    if not _is_delay(requested):
        raise BadPreference(
            f"Prefer: delay must be a whole number of milliseconds, 0 to {MAX_DELAY_MS}."
        )
    return int(requested)


def _is_delay(value: str) -> bool:
    return value.isdigit() and int(value) <= MAX_DELAY_MS


def forced_response(operation_id: str, preferences: dict[str, str]) -> Response | None:
    """The answer ``Prefer: code=`` / ``example=`` asks for, from the operation's documented
    responses; None if the request asks for none."""
    if not {"code", "example"} & preferences.keys():
        return None
    status, media_type, body = _forced(operation_id, preferences)
    applied = ", ".join(
        f"{name}={preferences[name]}" for name in ("code", "example") if name in preferences
    )
    headers = {"Preference-Applied": applied}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(json.dumps(body), status, headers, media_type)


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
            raise BadPreference(detail) from None
        raise _not_an_example(name, [answer], f"this operation's {code} response") from None


def _documented_for_code(operation_id: str, code: str) -> Documented:
    # Any status a range covers can be forced: 5XX documents each of 500-599.
    answer = documented(operation_id, int(code)) if _STATUS_CODE.fullmatch(code) else None
    if answer is None:
        raise BadPreference(
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


def _not_an_example(name: str, responses: list[Documented], where: str) -> BadPreference:
    names = sorted({n for response in responses for n in response.example_names})
    return BadPreference(
        f"Prefer: example={name[:40]} is not an example of {where}; "
        f"its named examples are: {', '.join(names) or 'none'}."
    )
