"""The one builder of error answers: ``application/problem+json`` (RFC 9457).

Every error the mock or the proxy answers has this body: ``type``, ``title`` (the status
phrase), ``status`` and ``detail``, one human sentence. Which exception gets which status is
decided in one table, :mod:`prospect_mock.web.errors`; this module only writes the answer,
wherever it is sent from: Connexion's error handlers, the layers around Connexion, the HTTP
protocol below the app, the proxy, and a documented 5XX example made for its status.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.types import Send

__all__ = ["PROBLEM_JSON", "problem_body", "problem_document", "send_problem"]

PROBLEM_JSON = "application/problem+json"


def problem_document(status: int, detail: str) -> dict[str, Any]:
    """The body of every error answer."""
    return {"type": "about:blank", "title": _title(status), "status": status, "detail": detail}


def problem_body(status: int, detail: str) -> bytes:
    return json.dumps(problem_document(status, detail)).encode()


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    channel: str = "http",
) -> None:
    """Answer with a problem through ASGI's ``send``, outside Connexion's error handlers;
    ``channel`` ``websocket.http`` refuses a WebSocket with it."""
    body = problem_body(status, detail)
    head = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    await send({"type": f"{channel}.response.start", "status": status, "headers": head})
    await send({"type": f"{channel}.response.body", "body": body})


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status a documented range covers that HTTP names not (599)
        return "Server Error" if status >= 500 else "Client Error"
