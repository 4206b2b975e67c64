"""CRUD and line-item rules for every resource, with no HTTP in sight.

A :class:`Collection` is a top-level resource (prospects): timestamps, newest first, and
deleting a record deletes its line items. :class:`LineItems` are a parent's ordered children
(leads, opportunities): ``idx`` is always 1..n within a parent. Missing records raise
:class:`NotFound`; a reorder that does not list the parent's line items as they are now
raises :class:`OrderConflict`. Both are checked before anything is written.
"""

from __future__ import annotations

import base64
import builtins
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prospect_mock.domain.resources import ResourceType
from prospect_mock.storage.clock import timestamp
from prospect_mock.storage.database import Database, Transaction
from prospect_mock.storage.tables import Record

__all__ = ["Collection", "LineItems", "NotFound", "OrderConflict", "Page", "Record"]

_ID_BYTES = 10
"""80 random bits: 16 characters of base32, lowercase (a-z and 2-7)."""


class NotFound(LookupError):
    """No record has the id; the message says which."""


class OrderConflict(ValueError):
    """A reorder whose ids are not the parent's line items as they are now; the message says
    which id is missing or foreign. (Duplicates are refused by the contract itself.)"""


@dataclass(frozen=True)
class Page:
    items: list[Record]
    total: int


def quoted(value: str, limit: int = 60) -> str:
    """``value`` in quotes for a message, shortened so a huge id cannot flood it."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


class _Records:
    """What every resource shares: ids, complete records, lookups by id."""

    def __init__(self, database: Database, kind: ResourceType, attributes: Sequence[str]) -> None:
        self.kind = kind
        self._database = database
        self._attributes = tuple(attributes)

    def get(self, record_id: str) -> Record:
        with self._database.transaction() as db:
            return self._require(db, record_id)

    def _require(self, db: Transaction, record_id: str) -> Record:
        record = db.table(self.kind.name).get(record_id)
        if record is None:
            raise NotFound(f"No {self.kind.noun} has the id {quoted(record_id)}.")
        return dict(record)

    def _insert(self, db: Transaction, values: Mapping[str, Any]) -> Record:
        record = {name: values.get(name) for name in self._attributes} | {"id": self._new_id(db)}
        db.put(self.kind.name, record)
        return dict(record)

    def _new_id(self, db: Transaction) -> str:
        table = db.table(self.kind.name)
        while True:
            suffix = base64.b32encode(secrets.token_bytes(_ID_BYTES)).decode().lower()
            record_id = f"{self.kind.id_prefix}_{suffix}"
            if record_id not in table:
                return record_id

    def _update(self, db: Transaction, record_id: str, changes: Mapping[str, Any]) -> Record:
        record = self._require(db, record_id) | dict(changes)
        db.put(self.kind.name, record)
        return dict(record)


class Collection(_Records):
    """A top-level resource, listed newest first."""

    def __init__(self, database: Database, kind: ResourceType, attributes: Sequence[str]) -> None:
        super().__init__(database, kind, attributes)
        self.children: list[LineItems] = []
        database.table(kind.name).keep_order(_created_at)

    def list(self, limit: int, offset: int) -> Page:
        with self._database.transaction() as db:
            table = db.table(self.kind.name)
            # Newest first; records created at the same instant, last added first.
            return Page([dict(r) for r in table.last(offset, limit)], len(table))

    def create(self, values: Mapping[str, Any]) -> Record:
        now = timestamp()
        with self._database.transaction() as db:
            return self._insert(db, {**values, "created_at": now, "updated_at": now})

    def update(self, record_id: str, changes: Mapping[str, Any]) -> Record:
        with self._database.transaction() as db:
            if not changes:
                return self._require(db, record_id)
            return self._update(db, record_id, {**changes, "updated_at": timestamp()})

    def delete(self, record_id: str) -> None:
        with self._database.transaction() as db:
            self._require(db, record_id)
            db.remove(self.kind.name, record_id)
            for children in self.children:
                children.remove_all_of(db, record_id)


class LineItems(_Records):
    """A parent's ordered children: ``idx`` runs 1..n within each parent."""

    def __init__(
        self,
        database: Database,
        kind: ResourceType,
        attributes: Sequence[str],
        parent: Collection,
    ) -> None:
        super().__init__(database, kind, attributes)
        assert kind.parent_key, f"{kind.name} is a line item and needs a parent_key"
        self._parent = parent
        self._parent_key = kind.parent_key
        parent.children.append(self)
        database.table(kind.name).keep_groups(kind.parent_key, "idx")

    def list(self, parent_id: str, limit: int, offset: int) -> Page:
        with self._database.transaction() as db:
            siblings = self._siblings(db, parent_id)
        return Page(siblings[offset : offset + limit], len(siblings))

    def create(self, values: Mapping[str, Any]) -> Record:
        with self._database.transaction() as db:
            siblings = self._siblings(db, values[self._parent_key])
            return self._insert(db, {**values, "idx": len(siblings) + 1})

    def update(self, record_id: str, changes: Mapping[str, Any]) -> Record:
        with self._database.transaction() as db:
            return self._update(db, record_id, changes)

    def delete(self, record_id: str) -> None:
        with self._database.transaction() as db:
            record = self._require(db, record_id)
            db.remove(self.kind.name, record_id)
            self._renumber(db, self._siblings(db, record[self._parent_key]))

    def reorder(self, parent_id: str, ids: Sequence[str]) -> builtins.list[Record]:
        with self._database.transaction() as db:
            siblings = self._siblings(db, parent_id)
            self._check_permutation(parent_id, [item["id"] for item in siblings], ids)
            by_id = {item["id"]: item for item in siblings}
            self._renumber(db, [by_id[record_id] for record_id in ids])
            return self._siblings(db, parent_id)

    def remove_all_of(self, db: Transaction, parent_id: str) -> None:
        """Remove a parent's line items, inside the transaction that removes the parent."""
        for item in db.table(self.kind.name).group(parent_id):
            db.remove(self.kind.name, item["id"])

    def _siblings(self, db: Transaction, parent_id: str) -> builtins.list[Record]:
        self._parent._require(db, parent_id)
        return [dict(item) for item in db.table(self.kind.name).group(parent_id)]

    def _renumber(self, db: Transaction, items_in_order: Sequence[Record]) -> None:
        for idx, item in enumerate(items_in_order, start=1):
            if item["idx"] != idx:
                db.put(self.kind.name, {**item, "idx": idx})

    def _check_permutation(
        self, parent_id: str, current: builtins.list[str], ids: Sequence[str]
    ) -> None:
        noun, parent = self.kind.noun, f"{self._parent.kind.noun} {quoted(parent_id)}"
        known, listed = set(current), set(ids)
        foreign = [record_id for record_id in ids if record_id not in known]
        if foreign:
            raise OrderConflict(f"The id {quoted(foreign[0])} is not a {noun} of {parent}.")
        missing = [record_id for record_id in current if record_id not in listed]
        if missing:
            raise OrderConflict(
                f"ids leaves out the {noun} {quoted(missing[0])}; list every {noun} of "
                f"{parent} exactly once."
            )


def _created_at(record: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(record["created_at"])
