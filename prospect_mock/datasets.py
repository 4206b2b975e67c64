"""Whole data sets, for the admin API: export and counts."""

from __future__ import annotations

from typing import Any

from .database import Database
from .resources import RESOURCE_TYPES

__all__ = ["counts", "export"]

DataSet = dict[str, list[dict[str, Any]]]


def export(database: Database) -> DataSet:
    with database.transaction() as db:
        return {kind.name: [dict(r) for r in db.table(kind.name)] for kind in RESOURCE_TYPES}


def counts(database: Database) -> dict[str, int]:
    with database.transaction() as db:
        return {kind.name: len(db.table(kind.name)) for kind in RESOURCE_TYPES}
