"""Which workspace a request is for, and when it may enter it.

:class:`WorkspaceRouting` reads the name: the path prefix ``/ws/NAME`` in front of any path
the server serves, or the header ``X-Mock-Workspace: NAME``; ``default`` without either.
Behind it the prefix is the request's ``root_path``, as ASGI has a server mounted under a
path: routing, Swagger UI and redirects work under it as they do without it;
:func:`~prospect_mock.contract.route_path` is the path without it.

:class:`WorkspaceAdmission` lets the request in, after Connexion has routed and
authenticated it: only then is a workspace created (seeded, written to disk) or used. A
request without a valid key, for the docs, or for no operation creates nothing and sees
no workspace's data.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from .contract import routed_operation
from .journal import Journal
from .problems import send_problem
from .workspaces import (
    DEFAULT,
    REGISTRY_KEY,
    SCOPE_KEY,
    Workspace,
    WorkspaceError,
    Workspaces,
    check_name,
)

__all__ = ["HEADER", "PREFIX", "WorkspaceAdmission", "WorkspaceRouting", "journal_of"]

PREFIX = "/ws/"
HEADER = "X-Mock-Workspace"
_HEADER_KEY = HEADER.lower().encode()
_VISIT_KEY = "prospect_mock.visit"


@dataclass
class _Visit:
    """The workspace a request names, as it was when the request arrived (None if it did
    not exist), and the workspace the request entered once admitted."""

    name: str
    workspaces: Workspaces
    on_arrival: Workspace | None
    admitted: Workspace | None = None


class WorkspaceRouting:
    def __init__(self, app: ASGIApp, workspaces: Workspaces) -> None:
        self.app = app
        self.workspaces = workspaces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            name, prefix = _requested(scope)
        except WorkspaceError as error:
            await send_problem(error.status, str(error), scope, receive, send)
            return
        visit = _Visit(name, self.workspaces, self.workspaces.find(name))
        scope = {**scope, _VISIT_KEY: visit}
        if prefix:
            scope["root_path"] = scope.get("root_path", "") + prefix
        await self.app(scope, receive, send)


class WorkspaceAdmission:
    """Enters the workspace of a request Connexion routed to an operation, which its
    security has let through: the one that existed when the request arrived (refused if it
    was deleted or replaced since), or else one created now. (A workspace that cannot be
    entered or created is a :class:`WorkspaceError` or a store error, answered by
    Connexion's error handlers.)"""

    def __init__(self, app: ASGIApp, handlers_package: str) -> None:
        self.app = app
        self.handlers_package = handlers_package

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not routed_operation(scope, self.handlers_package):
            await self.app(scope, receive, send)
            return
        visit: _Visit = scope[_VISIT_KEY]
        if visit.on_arrival is not None:
            visit.admitted = visit.on_arrival.enter()
        else:
            visit.admitted = visit.workspaces.get(visit.name)
        scope = {**scope, SCOPE_KEY: visit.admitted, REGISTRY_KEY: visit.workspaces}
        await self.app(scope, receive, send)


def journal_of(scope: Scope) -> tuple[Journal, bool] | None:
    """The journal that records the request, and whether it may keep the request's body:
    only an admitted request's. None for a workspace that does not exist: a request that
    was not let in creates nothing, its journal included."""
    visit: _Visit = scope[_VISIT_KEY]
    if visit.admitted is not None:
        return visit.admitted.journal, True
    existing = visit.workspaces.find(visit.name)
    return (existing.journal, False) if existing is not None else None


def _requested(scope: Scope) -> tuple[str, str]:
    """The workspace's name, and the path prefix that named it ("" if none did)."""
    from_path = None
    if scope["path"].startswith(PREFIX):
        from_path = check_name(scope["path"][len(PREFIX) :].partition("/")[0])
    from_header = _from_header(scope)
    if from_path and from_header and from_path != from_header:
        raise WorkspaceError(
            400,
            f"The path names the workspace {from_path!r} and {HEADER} names {from_header!r}; "
            f"name one.",
        )
    if from_path:
        return from_path, f"{PREFIX}{from_path}"
    return from_header or DEFAULT, ""


def _from_header(scope: Scope) -> str | None:
    # Fields sent twice may arrive joined by a comma, as HTTP allows; no name holds one.
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == _HEADER_KEY]
    named = {check_name(name.strip()) for value in values for name in value.split(",")}
    if len(named) > 1:
        first, second = sorted(named)[:2]
        raise WorkspaceError(
            400, f"{HEADER} names different workspaces ({first!r}, {second!r}); send it once."
        )
    return named.pop() if named else None
