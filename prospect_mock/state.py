"""What one running mock holds, handed to the handlers through each request's ASGI scope."""

from __future__ import annotations

from dataclasses import dataclass

from connexion import context
from starlette.types import ASGIApp, Receive, Scope, Send

from .database import Database
from .journal import Journal
from .records import Collection, LineItems

__all__ = ["AttachState", "MockState", "current"]

_SCOPE_KEY = "prospect_mock"


@dataclass(frozen=True)
class MockState:
    database: Database
    records: dict[str, Collection | LineItems]
    journal: Journal


def current() -> MockState:
    """The state of the mock serving the request being handled."""
    return context.scope[_SCOPE_KEY]


class AttachState:
    """Puts the app's :class:`MockState` in every request's scope."""

    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, _SCOPE_KEY: self.state}, receive, send)
