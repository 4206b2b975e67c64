"""The mock's data: a TinyDB database in one JSON file, used by one operation at a time."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document, Table

from .storage import AtomicJSONStorage, CorruptDatabaseError

__all__ = ["FORMAT_VERSION", "Database", "DocumentTable"]

FORMAT_VERSION = 1
_META_TABLE = "meta"


class DocumentTable(Table):
    """A TinyDB table whose documents are keyed by their string ``id``."""

    document_id_class = str


class _TinyDB(TinyDB):
    table_class = DocumentTable


class Database:
    """TinyDB over an :class:`AtomicJSONStorage`, serialized by one lock.

    TinyDB is not thread-safe, and one request may touch several tables, so every use goes
    through :meth:`transaction`: it holds the lock and makes all the request's writes one
    atomic write to the file, done before the block returns.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._tinydb = _TinyDB(path, storage=AtomicJSONStorage)
        self._storage: AtomicJSONStorage = self._tinydb.storage  # type: ignore[assignment]
        self._lock = threading.RLock()
        self._check_format()

    @property
    def path(self) -> str:
        return str(self._storage.path)

    @property
    def is_new(self) -> bool:
        """True until the first write: the file was missing or empty."""
        return self._storage.read() is None

    @contextmanager
    def transaction(self) -> Iterator[TinyDB]:
        with self._lock, self._storage.batch():
            if self.is_new:
                self._tinydb.table(_META_TABLE).insert(_format_document())
            yield self._tinydb

    def replace(self, tables: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        """Make the database hold exactly ``tables`` (records keyed by ``id``), in one write."""
        with self._lock, self._storage.batch():
            self._tinydb.drop_tables()
            self._tinydb.table(_META_TABLE).insert(_format_document())
            for name, records in tables.items():
                documents = [Document(record, doc_id=record["id"]) for record in records]
                self._tinydb.table(name).insert_multiple(documents)

    def _check_format(self) -> None:
        if self.is_new:
            return
        meta = self._tinydb.table(_META_TABLE).get(doc_id="format")
        version = meta.get("version") if meta else None
        if version != FORMAT_VERSION:
            raise CorruptDatabaseError(
                f"{self.path} is not a prospect-mock database of format {FORMAT_VERSION} "
                f"(it says {version!r}); it was left untouched."
            )


def _format_document() -> Document:
    return Document({"version": FORMAT_VERSION}, doc_id="format")
