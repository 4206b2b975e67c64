"""Every error the mock answers, as ``application/problem+json`` (RFC 9457).

Each body is :func:`problem_document`: ``type``, ``title`` (the status phrase), ``status``
and ``detail``, one human sentence; no other module builds one. Most errors are raised as
exceptions and answered by the error handlers installed here. Middlewares outside
Connexion's exception handling answer with :func:`send_problem`: ``routing.py`` (a bad
workspace name, or one too many), ``limits.py`` (413, a body too large) and
``preferences.py`` (400, a bad ``Prefer: delay``); below the app,
``http_server.py`` answers request heads it refuses (408, 431, 501, 400). A forced error
(``Prefer: code=404``) is the operation's documented example from the contract instead.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .contract import allowed_methods, route_path
from .datasets import DataConflict
from .journal import WaitTimedOut
from .records import NotFound, OrderConflict
from .scenarios import ScenarioRefused
from .store import StoreError
from .workspaces import WorkspaceError

__all__ = [
    "PROBLEM_JSON",
    "install_error_handlers",
    "problem_document",
    "problem_response",
    "send_problem",
    "store_status",
]

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger(__name__)


def problem_document(status: int, detail: str) -> dict[str, Any]:
    """The body of every error response."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }


def problem_response(
    status: int, detail: str, headers: dict[str, str] | None = None
) -> ConnexionResponse:
    body = json.dumps(problem_document(status, detail))
    return ConnexionResponse(status, PROBLEM_JSON, PROBLEM_JSON, body=body, headers=headers or {})


async def send_problem(
    status: int, detail: str, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer with a problem from a middleware, outside Connexion's error handlers."""
    body = json.dumps(problem_document(status, detail))
    await Response(body, status, media_type=PROBLEM_JSON)(scope, receive, send)


def store_status(error: StoreError) -> int:
    # 507 says "retry once there is room"; 503 that the store cannot write at the moment.
    return 507 if error.full else 503


def _not_found(_request: ConnexionRequest, error: NotFound) -> ConnexionResponse:
    return problem_response(404, str(error))


def _conflict(_request: ConnexionRequest, error: OrderConflict | DataConflict) -> ConnexionResponse:
    return problem_response(409, str(error))


def _workspace_refused(_request: ConnexionRequest, error: WorkspaceError) -> ConnexionResponse:
    return problem_response(error.status, str(error))


def _bad_request(_request: ConnexionRequest, error: ScenarioRefused) -> ConnexionResponse:
    return problem_response(400, str(error))


def _wait_timed_out(_request: ConnexionRequest, error: WaitTimedOut) -> ConnexionResponse:
    return problem_response(408, str(error))


def _store_refused(_request: ConnexionRequest, error: StoreError) -> ConnexionResponse:
    return problem_response(store_status(error), str(error))


def _problem(_request: ConnexionRequest, error: ProblemException) -> ConnexionResponse:
    if error.status >= 500:
        logger.error("%s: %s", error.title, error.detail)
    return problem_response(
        error.status, _one_line(error.detail) or HTTPStatus(error.status).description, error.headers
    )


def _unsupported_media_type(request: ConnexionRequest, _error: Exception) -> ConnexionResponse:
    content_type = request.headers.get("content-type")
    if content_type is None:
        detail = "The request has a body but no Content-Type; send it as application/json."
    else:
        detail = f"The request body must be application/json, not {content_type[:80]!r}."
    return problem_response(415, detail)


def _http_error(request: ConnexionRequest, error: HTTPException) -> ConnexionResponse:
    # Starlette's routing raises these for unknown paths and methods.
    headers = dict(error.headers or {})
    path = request.url.path[:200]  # as sent, workspace prefix included; no control characters
    if error.status_code == 404:
        detail = f"There is no resource at {path}."
    elif error.status_code == 405:
        # Starlette names only the methods of the first route that matched the path.
        headers["Allow"] = ", ".join(allowed_methods(route_path(request.scope)))
        detail = f"{request.method} is not allowed on {path}; use {headers['Allow']}."
    else:
        detail = _one_line(error.detail) or HTTPStatus(error.status_code).description
    return problem_response(error.status_code, detail, headers)


def _unexpected(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    logger.error("Unexpected error", exc_info=error)
    return problem_response(
        500, "The mock hit an unexpected error; it has been logged and nothing was changed."
    )


def _one_line(detail: object) -> str:
    return " ".join(str(detail or "").split())


def install_error_handlers(app: AsyncApp) -> None:
    app.add_error_handler(NotFound, _not_found)
    app.add_error_handler(OrderConflict, _conflict)
    app.add_error_handler(DataConflict, _conflict)
    app.add_error_handler(StoreError, _store_refused)
    app.add_error_handler(WorkspaceError, _workspace_refused)
    app.add_error_handler(WaitTimedOut, _wait_timed_out)
    app.add_error_handler(ScenarioRefused, _bad_request)
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(UnsupportedMediaTypeProblem, _unsupported_media_type)
    app.add_error_handler(HTTPException, _http_error)
    app.add_error_handler(Exception, _unexpected)
