"""The mock's data: tables in memory, one transaction at a time, made durable by the
store's files (:mod:`prospect_mock.storage.log_and_snapshot`).

Reads never touch the disk. A write changes memory, then the store appends one log entry
with the final state of every record it touched; the request is answered once that entry
is fsynced. Writes that arrive together share one fsync (group commit). When the log
outgrows the snapshot, the store folds it into a new one, so each write costs the same
whatever the size.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prospect_mock.storage.formats import EncodedTable
from prospect_mock.storage.log_and_snapshot import LogAndSnapshot, StorageError, Tables
from prospect_mock.storage.tables import Record, SavedRecord, Table

__all__ = ["Database", "DatabaseClosed", "Refusal", "StorageError", "Transaction"]


class DatabaseClosed(Exception):
    """The database was closed: nothing can be read or written through it any more."""


Refusal = Callable[[], Exception]
"""What a closed database raises at every later use: the owner names the reason."""


class Transaction:
    """Reads and writes of one request. Writes change the tables at once, so the request
    reads what it wrote; :class:`Database` logs them at the end, or undoes them."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self._tables = tables
        self._saved: dict[tuple[str, str], SavedRecord] = {}

    def table(self, name: str) -> Table:
        return self._tables.setdefault(name, Table())

    def put(self, name: str, record: Record) -> None:
        self._save(name, record["id"])
        self.table(name).put(record)

    def remove(self, name: str, record_id: str) -> None:
        self._save(name, record_id)
        self.table(name).remove(record_id)

    def changes(self) -> dict[str, Any]:
        """The log entry: the final state of every touched record."""
        put: dict[str, list[Record]] = {}
        removed: dict[str, list[str]] = {}
        for name, record_id in self._saved:
            record = self._tables[name].get(record_id)
            if record is None:
                removed.setdefault(name, []).append(record_id)
            else:
                put.setdefault(name, []).append(record)
        return {"put": put, "remove": removed}

    def undo(self) -> None:
        for (name, record_id), saved in reversed(self._saved.items()):
            self._tables[name].restore(record_id, saved)

    def _save(self, name: str, record_id: str) -> None:
        key = (name, record_id)
        if key not in self._saved:
            self._saved[key] = self.table(name).save(record_id)


class Database:
    """The tables of one database, used by one transaction at a time.

    Opening it takes the database's lock (:class:`~prospect_mock.storage.lock.DatabaseLocked` if
    another process has it open) and loads what its files hold. With ``group_commit``, a
    transaction writes its log entry without waiting for the disk, and whoever answers the
    request awaits :meth:`durable` first: one fsync then covers every write made while the
    previous one ran, instead of one fsync each.
    """

    def __init__(self, path: str | os.PathLike[str], *, group_commit: bool = False) -> None:
        self.path = Path(path)
        self._group_commit = group_commit
        self._lock = threading.RLock()
        self._files = LogAndSnapshot(self.path)
        self._tables: dict[str, Table] = {}
        self._load()
        self._written = self._durable = 0
        """How many log entries were written, and how many of them are known to be on disk."""
        self._sync: asyncio.Future[None] | None = None
        self._refusal: Refusal | None = None
        """Set once the database is closed or deleted."""

    def table(self, name: str) -> Table:
        return self._tables.setdefault(name, Table())

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One request's reads and writes: its writes all reach the log when the block ends,
        or none of them do, in memory as on disk (:class:`StorageError` if the disk refused).
        They are on disk then too, except with ``group_commit``: then once :meth:`durable`
        returns."""
        with self._lock:
            self.check_open()
            transaction = Transaction(self._tables)
            try:
                yield transaction
                changes = transaction.changes()
                if changes["put"] or changes["remove"]:
                    self._commit(changes)
            except BaseException:
                transaction.undo()
                raise

    async def durable(self) -> None:
        """Return once every write made so far is on disk (or raise :class:`StorageError`).

        The fsync runs on the event loop, after the requests already waiting to run: their
        writes share it. (An fsync in a worker thread would let the loop go on meanwhile,
        but the thread then waits for the interpreter lock while the loop is busy, and
        every writer waits with it.)
        """
        while self._durable < self._written:
            if self._sync is None:
                loop = asyncio.get_running_loop()
                self._sync = loop.create_future()
                loop.call_soon(self._sync_log, self._sync)
            # Shielded: a client that hangs up must not cancel the others' fsync.
            await asyncio.shield(self._sync)

    def replace(
        self,
        tables: Mapping[str, Iterable[Record]],
        encoded: Mapping[str, EncodedTable] | None = None,
    ) -> None:
        """Make the database hold exactly ``tables`` (records keyed by ``id``), in one write:
        all of it, or, if the disk refuses (:class:`StorageError`), nothing. ``encoded`` has
        tables of them already encoded, in the same order: they are written as they are."""
        with self._lock:
            self.check_open()
            previous = self._tables
            self._tables = {name: Table(records) for name, records in tables.items()}
            for name, table in previous.items():
                self.table(name).keep_indexes_of(table)
            try:
                self._files.replace({**self._frozen(), **(encoded or {})})
            except BaseException:
                self._tables = previous
                raise
            self.is_new = False
            self._durable = self._written

    def close(self, refusal: Refusal | None = None) -> None:
        """Fold the log into the snapshot, so that the file alone holds everything, and let
        go of the database (even if the fold fails: :class:`StorageError`, the log then still
        holds every write, fsynced). Every later use raises ``refusal()``
        (:class:`DatabaseClosed` by default)."""
        with self._lock:
            self._refusal = refusal or self._closed
            try:
                self._files.sync()
                self._durable = self._written
                if self._files.has_unfolded_writes:
                    self._files.replace(self._frozen())
            finally:
                self._files.close()

    def delete(self, refusal: Refusal) -> None:
        """Remove the database's files, its lock included, and let go of it; every later use
        raises ``refusal()``. (:class:`StorageError` if the disk refuses: the database is
        then still whole and open.)"""
        with self._lock:
            self._files.delete()
            self._refusal = refusal
            # Whoever awaits the writes made before it is answered: they are gone with the
            # database, as the deletion asked, not lost.
            self._durable = self._written

    @property
    def created_at(self) -> str | None:
        """When the database was created; None while it is new."""
        return self._files.created_at

    def _closed(self) -> Exception:
        return DatabaseClosed(f"{self.path} is closed; nothing was read or written.")

    def check_open(self) -> None:
        """Raise what the database was closed with, if it was."""
        if self._refusal is not None:
            raise self._refusal()

    def _load(self) -> None:
        """Load what the files hold, keeping the indexes the tables keep now."""
        snapshot, entries = self._files.load()
        self.is_new = snapshot is None
        """True until the first write: the file was missing or empty."""
        tables = {name: Table(records) for name, records in (snapshot or {}).items()}
        for entry in entries:
            _apply(tables, entry)
        for name, table in self._tables.items():
            tables.setdefault(name, Table()).keep_indexes_of(table)
        self._tables = tables

    def _frozen(self) -> Tables:
        return {name: table.frozen() for name, table in self._tables.items()}

    def _commit(self, changes: dict[str, Any]) -> None:
        if self.is_new:
            self._files.replace(self._frozen())
            self.is_new = False
            return
        self._files.append(changes)
        self._written += 1
        if not self._group_commit:
            self._sync_now()

    def _sync_now(self) -> None:
        """Make every write durable; if the disk refuses, memory goes back to what the
        files hold."""
        try:
            self._files.sync()
        except StorageError:
            self._load()
            raise
        finally:
            self._durable = self._written
        if self._files.fold_due:
            self._files.fold(self._frozen)

    def _sync_log(self, done: asyncio.Future[None]) -> None:
        self._sync = None
        with self._lock:
            if self._refusal is not None:
                # Closing synced the log and deleting removed it; if closing could not sync
                # it, what was written since the last fsync may not be on disk.
                if self._durable < self._written:
                    done.set_exception(self._refusal())
                else:
                    done.set_result(None)
                return
            try:
                self._sync_now()
            except StorageError as error:
                done.set_exception(error)
            else:
                done.set_result(None)


def _apply(tables: dict[str, Table], entry: dict[str, Any]) -> None:
    for name, records in entry["put"].items():
        for record in records:
            tables.setdefault(name, Table()).put(record)
    for name, record_ids in entry["remove"].items():
        for record_id in record_ids:
            if record_id in tables.get(name, ()):
                tables[name].remove(record_id)
