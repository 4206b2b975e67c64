"""One table of records in memory, with the indexes that make every operation cost the same
at 100 records as at 100,000: by id, in a kept sort order, and grouped by a parent.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["FrozenTable", "Record", "SavedRecord", "Table"]

Record = dict[str, Any]
OrderKey = Callable[[Record], Any]

_Position = tuple[Any, int, str]
"""Where a record stands in the kept order: (sort key, insertion number, id)."""

SavedRecord = tuple[Record | None, _Position | None]
"""A record as it was, and its position: what :meth:`Table.restore` puts back."""


class FrozenTable:
    """A table's records at one moment; iterating lists them in the order they were added."""

    def __init__(self, records: dict[str, Record], positions: dict[str, _Position]) -> None:
        self._records, self._positions = records, positions

    def __iter__(self) -> Iterator[Record]:
        if not self._positions:
            return iter(self._records.values())
        ordered = sorted(self._positions.values(), key=lambda position: position[1])
        return (self._records[record_id] for _, _, record_id in ordered)


class Table:
    """Records by id. Records are never changed in place: :meth:`put` replaces them whole,
    so a record handed out stays as it was."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._records: dict[str, Record] = {record["id"]: record for record in records}
        self._order_key: OrderKey | None = None
        self._positions: dict[str, _Position] = {}
        self._order: list[_Position] = []
        self._next_number = 0
        self._group_field: str | None = None
        self._group_order = ""
        self._groups: dict[Any, dict[str, None]] = {}

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._records

    def __iter__(self) -> Iterator[Record]:
        """Every record, in the order they were added."""
        return iter(self.frozen())

    def frozen(self) -> FrozenTable:
        """The records as they are now, for a reader that must not hold up writers: made
        at C speed, it shares the records, which are never changed in place."""
        return FrozenTable(dict(self._records), dict(self._positions))

    def get(self, record_id: str) -> Record | None:
        return self._records.get(record_id)

    def keep_order(self, key: OrderKey) -> None:
        """Keep the records sorted by ``key``; ties keep the order in which they were added."""
        self._order_key = key
        for record in self._records.values():
            self._positions[record["id"]] = self._position_of(record)
        self._order = sorted(self._positions.values())

    def keep_groups(self, field: str, order_field: str) -> None:
        """Keep the records grouped by ``field``; a group is listed by ``order_field``."""
        self._group_field, self._group_order = field, order_field
        for record in self._records.values():
            self._groups.setdefault(record[field], {})[record["id"]] = None

    def keep_indexes_of(self, other: Table) -> None:
        """Keep the indexes ``other`` keeps: for a table that replaces it."""
        if other._order_key is not None:
            self.keep_order(other._order_key)
        if other._group_field is not None:
            self.keep_groups(other._group_field, other._group_order)

    def last(self, offset: int, limit: int) -> list[Record]:
        """The records from the end of the kept order: ``offset`` skipped, then ``limit``."""
        end = len(self._order) - offset
        window = self._order[max(0, end - limit) : max(0, end)]
        return [self._records[record_id] for _, _, record_id in reversed(window)]

    def group(self, value: Any) -> list[Record]:
        members = (self._records[record_id] for record_id in self._groups.get(value, ()))
        return sorted(members, key=lambda record: record[self._group_order])

    def put(self, record: Record) -> None:
        """Add ``record``, or replace the record with its id."""
        record_id = record["id"]
        old = self._records.get(record_id)
        self._records[record_id] = record
        if self._order_key is not None:
            position = self._positions.get(record_id)
            if position is None or position[0] != self._order_key(record):
                self._move(record_id, self._position_of(record, position))
        if self._group_field is not None:
            if old is not None:
                self._leave_group(old)
            self._groups.setdefault(record[self._group_field], {})[record_id] = None

    def remove(self, record_id: str) -> None:
        old = self._records.pop(record_id)
        if self._order_key is not None:
            self._move(record_id, None)
        if self._group_field is not None:
            self._leave_group(old)

    def save(self, record_id: str) -> SavedRecord:
        return self._records.get(record_id), self._positions.get(record_id)

    def restore(self, record_id: str, saved: SavedRecord) -> None:
        """Put back what :meth:`save` returned, position included."""
        record, position = saved
        if record_id in self._records:
            self.remove(record_id)
        if record is None:
            return
        self.put(record)
        if position is not None:
            self._move(record_id, position)

    def _position_of(self, record: Record, old: _Position | None = None) -> _Position:
        assert self._order_key is not None
        if old is None:
            self._next_number += 1
        number = old[1] if old else self._next_number
        return (self._order_key(record), number, record["id"])

    def _move(self, record_id: str, position: _Position | None) -> None:
        old = self._positions.pop(record_id, None)
        if old is not None:
            del self._order[bisect.bisect_left(self._order, old)]
        if position is not None:
            self._positions[record_id] = position
            bisect.insort(self._order, position)
            self._next_number = max(self._next_number, position[1])

    def _leave_group(self, record: Record) -> None:
        value = record[self._group_field]  # type: ignore[index]
        members = self._groups[value]
        del members[record["id"]]
        if not members:
            del self._groups[value]
