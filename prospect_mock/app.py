"""The ASGI application: the contract, its handlers, the records behind them, and the
middleware that every request crosses (CORS, body size, auth, validation)."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from . import seeding
from .access_log import AccessLog
from .auth import KeyPolicy, bearer_security_handler
from .contract import (
    SPEC_PATH,
    allowed_methods,
    attribute_names,
    is_concrete_path,
    load_admin_spec,
    load_spec,
)
from .database import Database, StoreError
from .journal import Journal, JournalRecorder
from .limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit
from .preferences import ForcedResponses, Latency
from .prepared import PreparedAsyncApp
from .problems import install_error_handlers
from .records import Collection, LineItems
from .resources import RESOURCE_TYPES
from .state import AttachState, MockState
from .validation import VALIDATOR_MAP

__all__ = ["create_app", "open_database"]

HANDLERS_PACKAGE = "prospect_mock.handlers"

_logger = logging.getLogger(__name__)


def open_database(
    path: str | os.PathLike[str], *, seed: bool = True, group_commit: bool = False
) -> Database:
    """Open the database file; a missing or empty one starts a new database, seeded if asked."""
    database = Database(path, group_commit=group_commit)
    if database.is_new and seed:
        seeding.reset(database)
    return database


def build_records(database: Database) -> dict[str, Collection | LineItems]:
    records: dict[str, Collection | LineItems] = {}
    for kind in RESOURCE_TYPES:
        attributes = attribute_names(kind.schema)
        if kind.parent is None:
            records[kind.name] = Collection(database, kind, attributes)
        else:
            parent = records[kind.parent]
            assert isinstance(parent, Collection), f"{kind.name}'s parent must be top-level"
            records[kind.name] = LineItems(database, kind, attributes, parent)
    return records


class _ConcretePathsFirst:
    """Answer 405 to a method a concrete path does not offer.

    Starlette would route ``PATCH /api/crm/prospect-lead/reorder`` to the templated
    ``/prospect-lead/{id}`` as an update of a lead called "reorder"; OpenAPI matches the
    concrete path first, which offers only POST.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_concrete_path(scope["path"]):
            method = "GET" if scope["method"] == "HEAD" else scope["method"]
            if method not in allowed_methods(scope["path"]):
                raise HTTPException(405)
        await self.app(scope, receive, send)


def _closing(database: Database) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """On a clean stop, fold the write-ahead log into the database file."""

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        try:
            database.close()
        except StoreError as error:
            _logger.error(
                "Could not fold %s.wal into %s (%s); the log still holds every acknowledged "
                "write, and the next start reads it.",
                database.path,
                database.path,
                error.reason,
            )

    return lifespan


async def _redirect_to_docs(request: Request) -> RedirectResponse:
    return RedirectResponse(url="/ui/")


def create_app(
    db_path: str | os.PathLike[str],
    *,
    seed: bool = True,
    api_keys: Sequence[str] = (),
    cors_origins: Sequence[str] = ("*",),
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    latency_ms: tuple[int, int] = (0, 0),
    log_requests: bool = False,
) -> PreparedAsyncApp:
    """The mock as an ASGI app, serving the database at ``db_path``.

    >>> app = create_app("prospects.json")          # doctest: +SKIP
    >>> uvicorn.run(app, port=8000)                 # doctest: +SKIP
    """
    database = open_database(db_path, seed=seed, group_commit=True)
    state = MockState(database, build_records(database), Journal())
    app = PreparedAsyncApp(
        __name__,
        lifespan=_closing(database),
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
    # Outermost first: the log sees every request; CORS headers go on every response,
    # errors and 413s included; preflights are answered before any delay; the journal
    # records what the client saw, delays and 413s included.
    if log_requests:
        app.add_middleware(AccessLog, position=MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(
        CORSMiddleware,
        position=MiddlewarePosition.BEFORE_EXCEPTION,
        allow_origins=list(cors_origins),
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=["*"],
        expose_headers=["Preference-Applied"],
    )
    app.add_middleware(
        JournalRecorder, position=MiddlewarePosition.BEFORE_EXCEPTION, journal=state.journal
    )
    app.add_middleware(Latency, position=MiddlewarePosition.BEFORE_EXCEPTION, latency_ms=latency_ms)
    app.add_middleware(
        BodySizeLimit, position=MiddlewarePosition.BEFORE_EXCEPTION, max_bytes=max_body_bytes
    )
    app.add_middleware(AttachState, position=MiddlewarePosition.BEFORE_EXCEPTION, state=state)
    app.add_middleware(_ConcretePathsFirst, position=MiddlewarePosition.BEFORE_SWAGGER)
    # After authentication and validation, so that a forced answer cannot skip them.
    app.add_middleware(
        ForcedResponses,
        position=MiddlewarePosition.BEFORE_CONTEXT,
        handlers_package=HANDLERS_PACKAGE,
    )
    install_error_handlers(app)
    app.add_url_rule("/", "docs_redirect", _redirect_to_docs)
    return app
