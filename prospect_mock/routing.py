"""Which workspace a request is for: the path prefix ``/ws/NAME`` in front of any path the
server serves, or the header ``X-Mock-Workspace: NAME``; ``default`` without either.

Behind this middleware the prefix is the request's ``root_path``, as ASGI has a server
mounted under a path: routing, Swagger UI and redirects work under it as they do without
it; :func:`~prospect_mock.contract.route_path` is the path without it. The workspace
itself is in the scope.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import send_problem, store_status
from .store import StoreError
from .workspaces import (
    DEFAULT,
    REGISTRY_KEY,
    SCOPE_KEY,
    WorkspaceError,
    Workspaces,
    check_name,
)

__all__ = ["HEADER", "PREFIX", "WorkspaceRouting"]

PREFIX = "/ws/"
HEADER = "X-Mock-Workspace"
_HEADER_KEY = HEADER.lower().encode()


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
            workspace = self.workspaces.get(name)
        except WorkspaceError as error:
            await send_problem(error.status, str(error), scope, receive, send)
            return
        except StoreError as error:
            await send_problem(store_status(error), str(error), scope, receive, send)
            return
        scope = {**scope, SCOPE_KEY: workspace, REGISTRY_KEY: self.workspaces}
        if prefix:
            scope["root_path"] = scope.get("root_path", "") + prefix
        await self.app(scope, receive, send)


def _requested(scope: Scope) -> tuple[str, str]:
    """The workspace's name, and the path prefix that named it ("" if none did)."""
    from_path = from_header = None
    if scope["path"].startswith(PREFIX):
        from_path = check_name(scope["path"][len(PREFIX) :].partition("/")[0])
    for key, value in scope["headers"]:
        if key == _HEADER_KEY:
            from_header = check_name(value.decode("latin-1"))
    if from_path and from_header and from_path != from_header:
        raise WorkspaceError(
            400,
            f"The path names the workspace {from_path!r} and {HEADER} names {from_header!r}; "
            f"name one.",
        )
    if from_path:
        return from_path, f"{PREFIX}{from_path}"
    return from_header or DEFAULT, ""
