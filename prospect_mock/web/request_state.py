"""What the mock knows about the request it is answering, in one typed object.

The request plan (:mod:`prospect_mock.web.plan`) makes it when the request arrives and
puts it in the ASGI scope under :data:`STATE_KEY`, the one key the mock adds; every later
step, inside Connexion too, reads it from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connexion import context
from starlette.types import Scope

from prospect_mock.domain.journal import Entry, Journal
from prospect_mock.domain.workspaces import Workspace, Workspaces

__all__ = ["API_PREFIX", "STATE_KEY", "RequestState", "current", "registry"]

STATE_KEY = "prospect_mock.request"
API_PREFIX = "/api/"


@dataclass
class RequestState:
    """One request's state: which workspace it names, as that workspace was when the
    request arrived (None if it did not exist), and the workspace it entered once Connexion
    let it in; its path without the workspace prefix, whether it is one of the Prospect
    API's (under ``/api/``, recorded and delayed), and the operation its method and path
    name there, if any; its ``Prefer`` header; its journal entry, if it is recorded."""

    workspaces: Workspaces
    workspace_name: str
    on_arrival: Workspace | None
    path: str
    operation: str | None
    preferences: dict[str, str] = field(default_factory=dict)
    admitted: Workspace | None = None
    entry: Entry | None = None

    @property
    def is_api(self) -> bool:
        return self.path.startswith(API_PREFIX)

    @staticmethod
    def of(scope: Scope) -> RequestState:
        state: RequestState = scope[STATE_KEY]
        return state

    def admit(self) -> None:
        """Enter the workspace: the one that existed when the request arrived (refused if it
        was deleted or replaced since), or else one created now."""
        if self.on_arrival is not None:
            self.admitted = self.on_arrival.enter()
        else:
            self.admitted = self.workspaces.get(self.workspace_name)

    def journal(self) -> tuple[Journal, bool] | None:
        """The journal that records the request, and whether it may keep the request's body:
        only an admitted request's. None for a workspace that does not exist: a request that
        was not let in creates nothing, its journal included."""
        if self.admitted is not None:
            return self.admitted.journal, True
        existing = self.workspaces.find(self.workspace_name)
        return (existing.journal, False) if existing is not None else None

    def annotate(self, **fields: object) -> None:
        """Add ``fields`` to the request's journal entry, if it is recorded."""
        if self.entry is not None:
            self.entry.update(fields)


def current() -> Workspace:
    """The workspace of the request being handled."""
    workspace = RequestState.of(context.scope).admitted
    assert workspace is not None, "a handler runs only for a request that was let in"
    return workspace


def registry() -> Workspaces:
    """Every workspace of the server handling the request."""
    return RequestState.of(context.scope).workspaces
