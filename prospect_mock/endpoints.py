"""The HTTP side of every resource, written once: arguments from the contract in,
``(body, status, headers)`` out.

Connexion has already checked every argument against ``openapi.yaml``, so nothing here
checks them again. Errors are raised by the records and turned into problem responses in
one place, :mod:`prospect_mock.problems`.
"""

from __future__ import annotations

from typing import Any

from .records import Collection, LineItems, Page
from .state import current

__all__ = ["CollectionEndpoints", "LineItemEndpoints"]

Response = tuple[dict[str, Any], int, dict[str, str]]

# The operations also document problem+json responses, so Connexion needs to be told
# which content type a successful body has.
_JSON = {"Content-Type": "application/json"}


def _records(name: str) -> Any:
    return current().records[name]


def _page(page: Page, offset: int) -> dict[str, Any]:
    return {
        "data": page.items,
        "has_more": offset + len(page.items) < page.total,
        "total": page.total,
    }


class CollectionEndpoints:
    """list, get, create, update and delete for a top-level resource."""

    def __init__(self, resource: str) -> None:
        self._resource = resource

    def _collection(self) -> Collection:
        return _records(self._resource)

    def list(self, limit: int, offset: int) -> Response:
        return _page(self._collection().list(limit, offset), offset), 200, _JSON

    def get(self, id: str) -> Response:
        return self._collection().get(id), 200, _JSON

    def create(self, body: dict[str, Any]) -> Response:
        return self._collection().create(body), 201, _JSON

    def update(self, id: str, body: dict[str, Any]) -> Response:
        return self._collection().update(id, body), 200, _JSON

    def delete(self, id: str) -> Response:
        self._collection().delete(id)
        return {"id": id, "deleted": True}, 200, _JSON


class LineItemEndpoints:
    """list, create, update, delete and reorder for a parent's line items."""

    def __init__(self, resource: str) -> None:
        self._resource = resource

    def _line_items(self) -> LineItems:
        return _records(self._resource)

    def list(self, parent_id: str, limit: int, offset: int) -> Response:
        return _page(self._line_items().list(parent_id, limit, offset), offset), 200, _JSON

    def create(self, body: dict[str, Any]) -> Response:
        return self._line_items().create(body), 201, _JSON

    def update(self, id: str, body: dict[str, Any]) -> Response:
        return self._line_items().update(id, body), 200, _JSON

    def delete(self, id: str) -> Response:
        self._line_items().delete(id)
        return {"id": id, "deleted": True}, 200, _JSON

    def reorder(self, body: dict[str, Any]) -> Response:
        items = self._line_items().reorder(body["parent_id"], body["ids"])
        return {"data": items, "has_more": False, "total": len(items)}, 200, _JSON
