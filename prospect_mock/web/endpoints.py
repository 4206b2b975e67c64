"""The HTTP side of every resource, written once: arguments from the contract in,
``(body, status, headers)`` out.

Connexion has already checked every argument against ``openapi.yaml``, so nothing here
checks them again. Errors are raised by the records and turned into problem responses in
one place, :mod:`prospect_mock.web.errors`.

The handlers are coroutines: the records live in memory, so running them on the event loop
costs less than handing each request to a worker thread. Every answer waits until what it
reports is on disk (:meth:`~prospect_mock.storage.database.Database.durable`), so a client never
sees, not even in a read, a write that a crash could still undo.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from prospect_mock.domain.records import Collection, LineItems, Page
from prospect_mock.web.request_state import current

__all__ = ["JSON", "CollectionEndpoints", "LineItemEndpoints", "Response"]

Response = tuple[dict[str, Any], int, dict[str, str]]
RecordsT = TypeVar("RecordsT", Collection, LineItems)

JSON = {"Content-Type": "application/json"}
"""The operations also document problem+json responses, so Connexion needs to be told
which content type a successful body has."""


def _page(page: Page, offset: int) -> dict[str, Any]:
    return {
        "data": page.items,
        "has_more": offset + len(page.items) < page.total,
        "total": page.total,
    }


async def _durable(body: dict[str, Any], status: int = 200) -> Response:
    await current().database.durable()
    return body, status, JSON


class _Endpoints(Generic[RecordsT]):
    """create, update and delete: the same for every resource."""

    def __init__(self, resource: str) -> None:
        self._resource = resource

    def _records(self) -> RecordsT:
        return current().records[self._resource]  # type: ignore[return-value]

    async def create(self, body: dict[str, Any]) -> Response:
        return await _durable(self._records().create(body), 201)

    async def update(self, id: str, body: dict[str, Any]) -> Response:
        return await _durable(self._records().update(id, body))

    async def delete(self, id: str) -> Response:
        self._records().delete(id)
        return await _durable({"id": id, "deleted": True})


class CollectionEndpoints(_Endpoints[Collection]):
    """list, get, create, update and delete for a top-level resource."""

    async def list(self, limit: int, offset: int) -> Response:
        return await _durable(_page(self._records().list(limit, offset), offset))

    async def get(self, id: str) -> Response:
        return await _durable(self._records().get(id))


class LineItemEndpoints(_Endpoints[LineItems]):
    """list, create, update, delete and reorder for a parent's line items."""

    async def list(self, parent_id: str, limit: int, offset: int) -> Response:
        return await _durable(_page(self._records().list(parent_id, limit, offset), offset))

    async def reorder(self, body: dict[str, Any]) -> Response:
        items = self._records().reorder(body["parent_id"], body["ids"])
        return await _durable(_page(Page(items, len(items)), offset=0))
