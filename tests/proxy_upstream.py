"""A deliberately imperfect Prospect API for tests/test_proxy.py: it answers
``GET /api/crm/prospect/{id}`` with a valid prospect, unless the request's ``X-Defect``
header asks for one defect. Run as ``python -m tests.proxy_upstream PORT``, served by the
project's own HTTP server (whose connections can be dropped)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from starlette.types import Receive, Scope, Send

from prospect_mock import http_server
from prospect_mock.faults import CONNECTION
from prospect_mock.seeding import load_fixtures

PROSPECT = load_fixtures()["prospects"][0]
DEFECTS = ("wrong-type", "missing-field", "undocumented-status", "html-500", "slow", "drop")


def _answer(defect: str, prospect_id: str) -> tuple[int, str, bytes]:
    prospect: dict[str, Any] = {**PROSPECT, "id": prospect_id}
    if defect == "wrong-type":
        prospect["company_name"] = 42
    elif defect == "missing-field":
        del prospect["company"]
    elif defect == "undocumented-status":
        teapot = {"type": "about:blank", "title": "I'm a Teapot", "status": 418, "detail": "No."}
        return 418, "application/problem+json", json.dumps(teapot).encode()
    elif defect == "html-500":
        return 500, "text/html", b"<html><body>Internal error</body></html>"
    return 200, "application/json", json.dumps(prospect).encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    headers = {name.decode(): value.decode() for name, value in scope["headers"]}
    defect = headers.get("x-defect", "")
    if defect == "drop":
        scope["extensions"][CONNECTION].close(reset=False)
        return
    if defect == "slow":
        await asyncio.sleep(5)
    # Echoes whether the key arrived, never the key itself.
    echo = [(b"x-saw-authorization", b"yes" if "authorization" in headers else b"no")]
    status, media_type, body = _answer(defect, scope["path"].rpartition("/")[2])
    start_headers = [(b"content-type", media_type.encode()), *echo]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    http_server.run(app, http_server.listen("127.0.0.1", int(sys.argv[1])))
