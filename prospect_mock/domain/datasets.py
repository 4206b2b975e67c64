"""Whole data sets, for the admin API: export, counts, and the checks that a set loaded
with ``PUT /__admin/data`` fits together before it replaces everything."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.storage.database import Database

__all__ = ["DataConflict", "check_fits", "counts", "export"]

DataSet = dict[str, list[dict[str, Any]]]


def export(database: Database) -> DataSet:
    with database.transaction() as db:
        return {kind.name: list(db.table(kind.name)) for kind in RESOURCE_TYPES}


def counts(database: Database) -> dict[str, int]:
    with database.transaction() as db:
        return {kind.name: len(db.table(kind.name)) for kind in RESOURCE_TYPES}


class DataConflict(ValueError):
    """The records match their schemas but not each other; the message says where."""


def check_fits(data: DataSet) -> None:
    """Raise :class:`DataConflict` unless ids are unique and prefixed, line items name a
    parent of the set, and each parent's line items of one kind have ``idx`` 1..n."""
    seen: set[str] = set()
    for kind in RESOURCE_TYPES:
        for n, record in enumerate(data[kind.name]):
            record_id = record["id"]
            if not record_id.startswith(f"{kind.id_prefix}_"):
                raise DataConflict(
                    f"{kind.name}[{n}] has the id {record_id[:60]!r}, which does not start "
                    f"with '{kind.id_prefix}_'."
                )
            if record_id in seen:
                raise DataConflict(
                    f"{kind.name}[{n}] has the id {record_id[:60]!r}, as another record does."
                )
            seen.add(record_id)
    for kind in RESOURCE_TYPES:
        if kind.parent is not None and kind.parent_key is not None:
            _check_line_items(data, kind.name, kind.parent, kind.parent_key)


def _check_line_items(data: DataSet, name: str, parent: str, parent_key: str) -> None:
    parents = {record["id"] for record in data[parent]}
    positions: dict[str, list[int]] = defaultdict(list)
    for n, record in enumerate(data[name]):
        if record[parent_key] not in parents:
            raise DataConflict(
                f"{name}[{n}] belongs to {record[parent_key][:60]!r}, which is not in {parent}."
            )
        positions[record[parent_key]].append(record["idx"])
    for parent_id, idx in positions.items():
        if sorted(idx) != list(range(1, len(idx) + 1)):
            raise DataConflict(f"The {name} of {parent_id[:60]!r} do not have idx 1..{len(idx)}.")
