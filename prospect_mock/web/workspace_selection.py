"""Which workspace a request is for: the path prefix ``/ws/NAME`` in front of any path the
server serves, or the header ``X-Mock-Workspace: NAME``; ``default`` without either.

The plan takes the prefix off into the request's ``root_path``, as ASGI has a server mounted
under a path: routing, Swagger UI and redirects work under it as they do without it;
:func:`~prospect_mock.contract.paths.route_path` is the path without it.
"""

from __future__ import annotations

from starlette.types import Scope

from prospect_mock.domain.workspaces import DEFAULT, BadWorkspaceName, check_name

__all__ = ["HEADER", "PREFIX", "requested_workspace"]

PREFIX = "/ws/"
HEADER = "X-Mock-Workspace"
_HEADER_KEY = HEADER.lower().encode()


def requested_workspace(scope: Scope) -> tuple[str, str]:
    """The workspace's name, and the path prefix that named it ("" if none did)."""
    from_path = None
    if scope["path"].startswith(PREFIX):
        from_path = check_name(scope["path"][len(PREFIX) :].partition("/")[0])
    from_header = _from_header(scope)
    if from_path and from_header and from_path != from_header:
        raise BadWorkspaceName(
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
        raise BadWorkspaceName(
            f"{HEADER} names different workspaces ({first!r}, {second!r}); send it once."
        )
    return named.pop() if named else None
