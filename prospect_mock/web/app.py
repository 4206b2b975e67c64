"""The ASGI application: the contract, its handlers, the workspaces behind them, and the
layers every request crosses (the request plan, then Connexion's routing, security and
validation)."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

from connexion.jsonifier import Jsonifier
from connexion.middleware.context import ContextMiddleware
from connexion.middleware.exceptions import ExceptionMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from prospect_mock.contract.documents import SPEC_PATH, load_admin_spec, load_spec
from prospect_mock.contract.paths import allowed_methods, is_concrete_path, route_path
from prospect_mock.contract.validation import VALIDATOR_MAP
from prospect_mock.domain.seeding import FIXTURES, Seed
from prospect_mock.domain.workspaces import DEFAULT_MAX_WORKSPACES, Workspaces
from prospect_mock.storage.database import StorageError
from prospect_mock.storage.json_codec import dumps
from prospect_mock.web.access_log import AccessLog
from prospect_mock.web.auth import KeyPolicy, bearer_security_handler
from prospect_mock.web.body_limit import DEFAULT_MAX_BODY_BYTES
from prospect_mock.web.connexion_app import PreparedAsyncApp, PreparedRequestValidation
from prospect_mock.web.docs import SwaggerUIOnItsPaths, redirect_to_docs
from prospect_mock.web.errors import install_error_handlers
from prospect_mock.web.plan import RequestPlan

__all__ = ["create_app"]

HANDLERS_PACKAGE = "prospect_mock.handlers"

_logger = logging.getLogger(__name__)


class _ConcretePathsFirst:
    """Answer 405 to a method a concrete path does not offer.

    Starlette would route ``PATCH /api/crm/prospect-lead/reorder`` to the templated
    ``/prospect-lead/{id}`` as an update of a lead called "reorder"; OpenAPI matches the
    concrete path first, which offers only POST.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if is_concrete_path(path):
            method = "GET" if scope["method"] == "HEAD" else scope["method"]
            if method not in allowed_methods(path):
                raise HTTPException(405)
        await self.app(scope, receive, send)


class _AnswerJsonifier(Jsonifier):  # type: ignore[misc]
    """Connexion's encoder of handlers' answers, writing them with orjson."""

    def dumps(self, data: Any, **_options: Any) -> bytes:
        return dumps(data)


def _closing(workspaces: Workspaces) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """On a clean stop, fold each workspace's write-ahead log into its database file."""

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        try:
            workspaces.close()
        except StorageError as error:
            _logger.error(
                "Could not fold a write-ahead log into its database file (%s); the log still "
                "holds every acknowledged write, and the next start reads it.",
                error,
            )

    return lifespan


def _layers(
    workspaces: Workspaces,
    *,
    cors_origins: Sequence[str],
    max_body_bytes: int,
    latency_ms: tuple[int, int],
    log_requests: bool,
) -> list[Callable[[ASGIApp], ASGIApp]]:
    """Every layer a request crosses, outermost first: the log, the mock's request plan
    (:mod:`prospect_mock.web.plan`), then Connexion's own
    (``ConnexionMiddleware.default_middlewares``). Responses are not validated at run time
    (the contract tests prove them instead), so Connexion's layer for that is left out: it
    would only pass them through.
    """
    return [
        ServerErrorMiddleware,
        *([AccessLog] if log_requests else []),
        partial(
            RequestPlan,
            workspaces=workspaces,
            cors_origins=cors_origins,
            max_body_bytes=max_body_bytes,
            latency_ms=latency_ms,
        ),
        ExceptionMiddleware,
        _ConcretePathsFirst,
        SwaggerUIOnItsPaths,
        RoutingMiddleware,
        SecurityMiddleware,
        PreparedRequestValidation,
        LifespanMiddleware,
        ContextMiddleware,
    ]


def create_app(
    db_path: str | os.PathLike[str],
    *,
    seed: Seed = FIXTURES,
    max_workspaces: int = DEFAULT_MAX_WORKSPACES,
    api_keys: Sequence[str] = (),
    cors_origins: Sequence[str] = ("*",),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    latency_ms: tuple[int, int] = (0, 0),
    log_requests: bool = False,
) -> PreparedAsyncApp:
    """The mock as an ASGI app, serving the database at ``db_path`` (the ``default``
    workspace) and the workspaces beside it; a new one starts with ``seed``.

    >>> app = create_app("prospects.json")          # doctest: +SKIP
    >>> uvicorn.run(app, port=8000)                 # doctest: +SKIP
    """
    workspaces = Workspaces(db_path, seed, max_workspaces)
    layers = _layers(
        workspaces,
        cors_origins=cors_origins,
        max_body_bytes=max_body_bytes,
        latency_ms=latency_ms,
        log_requests=log_requests,
    )
    app = PreparedAsyncApp(
        __name__,
        lifespan=_closing(workspaces),
        middlewares=layers,
        jsonifier=_AnswerJsonifier(),
        specification_dir=SPEC_PATH.parent,
        security_map={"bearer": bearer_security_handler(KeyPolicy(api_keys))},
        strict_validation=True,
        validator_map=VALIDATOR_MAP,
    )
    docs = SwaggerUIOptions(swagger_ui_config={"persistAuthorization": True})
    resolver = RelativeResolver(HANDLERS_PACKAGE)
    # A copy of the contract parsed once per process: Connexion resolves its $refs in place.
    app.add_api(copy.deepcopy(load_spec()), resolver=resolver, swagger_ui_options=docs)
    app.add_api(load_admin_spec(), resolver=resolver, swagger_ui_options=docs)
    install_error_handlers(app)
    app.add_url_rule("/", "docs_redirect", redirect_to_docs)
    return app
