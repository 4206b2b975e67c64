"""Which status each refusal gets: one table, for every exception the mock answers.

Connexion's error handlers answer what is raised inside it (the records, the workspaces,
the storage, the contract's own checks); :func:`send_refusal` answers, by the same table,
what the request plan refuses around it (a workspace name, a body too large, a bad
``Prefer: delay``), and the HTTP protocol below the app looks up here what it refuses
(:class:`RefusedHead`: 400, 408, 431, 501).
The answer itself is always :mod:`prospect_mock.contract.problems`' document.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from connexion import AsyncApp
from connexion.exceptions import ProblemException, UnsupportedMediaTypeProblem
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.types import Send

from prospect_mock.contract.messages import no_resource, not_allowed
from prospect_mock.contract.paths import allowed_methods, route_path
from prospect_mock.contract.problems import PROBLEM_JSON, problem_body, send_problem
from prospect_mock.domain.datasets import DataConflict
from prospect_mock.domain.journal import WaitTimedOut
from prospect_mock.domain.records import NotFound, OrderConflict
from prospect_mock.domain.scenarios import ScenarioRefused
from prospect_mock.domain.workspaces import (
    BadWorkspaceName,
    WorkspaceConflict,
    WorkspaceGone,
)
from prospect_mock.storage.database import StorageError

__all__ = [
    "BadPreference",
    "BodyTooLarge",
    "HeadTooLarge",
    "HeadTooSlow",
    "MethodNotImplemented",
    "RefusedHead",
    "install_error_handlers",
    "problem_response",
    "send_refusal",
    "status_of",
]

logger = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """The request's body is over the server's limit; the message says which."""


class BadPreference(Exception):
    """A ``Prefer`` the mock cannot honour; the message says why."""


class RefusedHead(Exception):
    """A request head the HTTP server refuses before the app sees it: not HTTP/1.1."""


class HeadTooSlow(RefusedHead):
    """The head did not arrive in time."""


class HeadTooLarge(RefusedHead):
    """The request line and headers are over the server's limits."""


class MethodNotImplemented(RefusedHead):
    """A method no operation of this server has."""


def _storage_status(error: StorageError) -> int:
    # 507 says "retry once there is room"; 503 that the store cannot write at the moment.
    return 507 if error.full else 503


_STATUS: dict[type[Exception], int | Callable[[Any], int]] = {
    BadWorkspaceName: 400,
    BadPreference: 400,
    ScenarioRefused: 400,
    NotFound: 404,
    WorkspaceGone: 404,
    WaitTimedOut: 408,
    OrderConflict: 409,
    DataConflict: 409,
    WorkspaceConflict: 409,
    BodyTooLarge: 413,
    StorageError: _storage_status,
    RefusedHead: 400,
    HeadTooSlow: 408,
    HeadTooLarge: 431,
    MethodNotImplemented: 501,
}
"""Every refusal of the mock by the exception that makes it; the most specific class wins."""


def status_of(error: Exception) -> int | None:
    """The status ``error`` is answered with, or None for an exception the mock does not
    expect (a 500)."""
    for kind in type(error).__mro__:
        status = _STATUS.get(kind)
        if status is not None:
            return status if isinstance(status, int) else status(error)
    return None


async def send_refusal(send: Send, error: Exception) -> None:
    """Answer ``error``, refused before Connexion saw the request, through ASGI's send."""
    status = status_of(error)
    assert status is not None, f"{type(error).__name__} is not in the table of refusals"
    await send_problem(send, status, str(error))


def problem_response(
    status: int, detail: str, headers: dict[str, str] | None = None
) -> ConnexionResponse:
    body = problem_body(status, detail)
    return ConnexionResponse(status, PROBLEM_JSON, PROBLEM_JSON, body=body, headers=headers or {})


def _refused(_request: ConnexionRequest, error: Exception) -> ConnexionResponse:
    status = status_of(error)
    if status is None:
        logger.error("Unexpected error", exc_info=error)
        return problem_response(
            500, "The mock hit an unexpected error; it has been logged and nothing was changed."
        )
    return problem_response(status, str(error))


def _problem(_request: ConnexionRequest, error: ProblemException) -> ConnexionResponse:
    """What Connexion's own checks refuse (the key, validation), status and sentence set."""
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
    path = request.url.path  # as sent, workspace prefix included; no control characters
    if error.status_code == 404:
        detail = no_resource(path)
    elif error.status_code == 405:
        # Starlette names only the methods of the first route that matched the path.
        allowed = allowed_methods(route_path(request.scope))
        headers["Allow"] = ", ".join(allowed)
        detail = not_allowed(request.method, path, allowed)
    else:
        detail = _one_line(error.detail) or HTTPStatus(error.status_code).description
    return problem_response(error.status_code, detail, headers)


def _one_line(detail: object) -> str:
    return " ".join(str(detail or "").split())


def install_error_handlers(app: AsyncApp) -> None:
    """Answer, in ``app``, Connexion's and Starlette's refusals with their own status, and
    every other exception by the table (a 500 if it is not in it)."""
    app.add_error_handler(ProblemException, _problem)
    app.add_error_handler(UnsupportedMediaTypeProblem, _unsupported_media_type)
    app.add_error_handler(HTTPException, _http_error)
    app.add_error_handler(Exception, _refused)
