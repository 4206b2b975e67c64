"""The contracts as served to people and their tools (``/openapi.json``,
``/__admin/openapi.json``): each names this mock, at the address the request reached and in
its workspace, as its first server, so that Swagger UI's Try-it-out and a Postman or
Insomnia import call the mock; the Prospect API's contract names the real API second."""

from __future__ import annotations

import json
from typing import Any

from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from prospect_mock.contract.documents import load_admin_spec, load_spec
from prospect_mock.contract.paths import route_path

__all__ = ["SwaggerUIOnItsPaths", "redirect_to_docs", "served_contract"]

_ADMIN_BASE = "/__admin"


class SwaggerUIOnItsPaths(SwaggerUIMiddleware):  # type: ignore[misc]
    """Connexion's Swagger UI, asked only about the paths it could serve: ``…/ui…`` and the
    contracts (``….json``, ``….yaml``). It would match every request against its own router
    and copy its scope before handing it on, a twentieth of a retrieve."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if "/ui" in path or path.endswith((".json", ".yaml")):
            await super().__call__(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def served_contract(scope: Scope) -> Response | None:
    """The contract a ``GET /openapi.json`` or ``GET /__admin/openapi.json`` asks for, with
    this mock first among its servers; None for any other request."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    path = route_path(scope)
    if path == "/openapi.json":
        contract = _with_mock_first(load_spec(), _mock_url(scope))
    elif path == f"{_ADMIN_BASE}/openapi.json":
        contract = _with_mock_first(load_admin_spec(), _mock_url(scope) + _ADMIN_BASE)
    else:
        return None
    return Response(json.dumps(contract), media_type="application/json")


async def redirect_to_docs(request: Request) -> RedirectResponse:
    """``/`` to the docs page, in the request's workspace."""
    return RedirectResponse(url=f"{request.scope.get('root_path', '')}/ui/")


def _mock_url(scope: Scope) -> str:
    host = Headers(scope=scope).get("host")
    if host is None:
        address, port = scope.get("server") or ("127.0.0.1", 80)
        host = f"{address}:{port}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}"


def _with_mock_first(contract: dict[str, Any], url: str) -> dict[str, Any]:
    """The contract with this mock as its first server, and after it the servers the
    contract lists that are not prospect-mock (the real API)."""
    mock = {"url": url, "description": "This prospect-mock, where the request reached it."}
    others = [s for s in contract["servers"] if not s["description"].startswith("prospect-mock")]
    return {**contract, "servers": [mock, *others]}
