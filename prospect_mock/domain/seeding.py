"""Seed data: what a new database or workspace starts with. By default the records in
``fixtures/``, one JSON file per resource; or generated ones; or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from prospect_mock.contract.validation import record_mismatch
from prospect_mock.domain.datasets import DataSet, check_fits
from prospect_mock.domain.generator import Progress, generate
from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.storage.database import Database
from prospect_mock.storage.formats import EncodedTable, encode_table

__all__ = [
    "EMPTY",
    "FIXTURES",
    "FIXTURES_DIR",
    "Seed",
    "generated",
    "load_fixtures",
    "read_fixtures",
    "reset",
]

FIXTURES_DIR = Path(__file__).parent.parent / "fixtures"


def load_fixtures() -> DataSet:
    """Every resource's seed records, exactly as the API returns them."""
    return {
        kind.name: json.loads((FIXTURES_DIR / f"{kind.name}.json").read_text(encoding="utf-8"))
        for kind in RESOURCE_TYPES
    }


class Seed:
    """A data set made on first use, then shared: every workspace seeded from it holds the
    same record objects (records are never changed in place), so a new workspace costs its
    indexes and its file, not a copy of the data."""

    def __init__(self, make: Callable[[], DataSet]) -> None:
        self._make = make

    @cached_property
    def data(self) -> DataSet:
        return self._make()

    @cached_property
    def _encoded(self) -> dict[str, EncodedTable]:
        return {name: encode_table(records) for name, records in self.data.items()}

    def fill(self, database: Database) -> None:
        """Make ``database`` hold exactly this data set, written as encoded once."""
        database.replace(self.data, self._encoded)


FIXTURES = Seed(load_fixtures)
EMPTY = Seed(dict)


def generated(count: int, random_seed: int, progress: Progress = iter) -> Seed:
    """``count`` generated prospects with their line items, the same for the same seed."""
    return Seed(lambda: generate(count, random_seed, load_fixtures(), progress))


def reset(database: Database, *, seed: bool = True) -> None:
    """Empty the database and, with ``seed``, fill it with the fixtures, in one write."""
    (FIXTURES if seed else EMPTY).fill(database)


def read_fixtures(directory: Path) -> DataSet:
    """The data set in ``directory``, in the format of ``fixtures/`` (a missing file is a
    resource without records), checked to fit together as ``PUT /__admin/data`` checks it.
    Raises ValueError (``DataConflict`` included) saying what is wrong."""
    data: DataSet = {}
    for kind in RESOURCE_TYPES:
        path = directory / f"{kind.name}.json"
        try:
            records = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not a JSON file: {error}.") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError(f"{path} must hold a list of records.")
        for n, record in enumerate(records):
            mismatch = record_mismatch(kind.schema, record)
            if mismatch is not None:
                raise ValueError(f"{path}, record {n}: {mismatch}")
        data[kind.name] = records
    check_fits(data)
    return data
