"""The mock's data: tables in memory, made durable by a snapshot file and a write-ahead log.

Reads never touch the disk. A write changes memory, then appends one log entry with the
final state of every record it touched and fsyncs it, all under one lock: when the request
is answered, the write is on disk. When the log outgrows the snapshot, it is folded into a
new one (see :mod:`prospect_mock.storage`), so each write costs the same whatever the size.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .storage import (
    CorruptDatabaseError,
    WriteAheadLog,
    log_header,
    read_log,
    read_snapshot,
    write_snapshot,
)
from .tables import FrozenTable, Record, SavedRecord, Table

__all__ = ["FORMAT_VERSION", "Database", "Transaction"]

_logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, FORMAT_VERSION)
"""Version 1 is the same snapshot without a log."""
_META_TABLE = "meta"
_MIN_LOG_BYTES = 16 * 2**20
"""The log is folded into the snapshot once it is larger than both this and the snapshot:
the cost of rewriting the snapshot is then spread over at least as many bytes of writes."""


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
    """The tables of one database file, used by one transaction at a time.

    With ``group_commit``, a transaction writes its log entry without waiting for the disk,
    and whoever answers the request awaits :meth:`durable` first: one fsync then covers
    every write made while the previous one ran, instead of one fsync each.
    """

    def __init__(self, path: str | os.PathLike[str], *, group_commit: bool = False) -> None:
        self.path = Path(path)
        self._group_commit = group_commit
        self._lock = threading.RLock()
        self._log = WriteAheadLog(self.path.with_name(self.path.name + ".wal"))
        self._set_aside_log = self.path.with_name(self.path.name + ".wal.old")
        """Where the log goes while a fold writes the new snapshot in the background."""
        self._snapshot_lock = threading.Lock()
        """Held while a snapshot is written, by a fold in the background too."""
        self._tables: dict[str, Table] = {}
        self._load()
        self._written = self._durable = 0
        """How many log entries were written, and how many of them are known to be on disk."""
        self._sync: asyncio.Future[None] | None = None

    def table(self, name: str) -> Table:
        return self._tables.setdefault(name, Table())

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One request's reads and writes: its writes all reach the log when the block ends,
        or none of them do, in memory as on disk. They are on disk then too, except with
        ``group_commit``: then once :meth:`durable` returns."""
        with self._lock:
            transaction = Transaction(self._tables)
            try:
                yield transaction
                changes = transaction.changes()
                if changes["put"] or changes["remove"]:
                    self._commit(changes)
            except BaseException:
                transaction.undo()
                raise
            self._fold_log_if_due()

    async def durable(self) -> None:
        """Return once every write made so far is on disk.

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

    def replace(self, tables: Mapping[str, Iterable[Record]]) -> None:
        """Make the database hold exactly ``tables`` (records keyed by ``id``), in one write."""
        with self._lock:
            previous = self._tables
            self._tables = {name: Table(records) for name, records in tables.items()}
            for name, table in previous.items():
                self.table(name).keep_indexes_of(table)
            try:
                self._write_snapshot()
            except BaseException:
                self._tables = previous
                raise

    def close(self) -> None:
        """Fold the log into the snapshot, so that the file alone holds everything."""
        with self._lock:
            if self._written or self._replayed or self._set_aside_log.exists():
                self._write_snapshot()
            self._log.close()

    def _load(self) -> None:
        """Read the snapshot and replay the log, keeping the indexes the tables keep now."""
        snapshot = read_snapshot(self.path)
        self.is_new = snapshot is None
        """True until the first write: the file was missing or empty."""
        self._generation = _check_format(self.path, snapshot or {})
        tables = _tables_of(snapshot or {})
        self._snapshot_size = self.path.stat().st_size if snapshot else 0
        self._log.resume(0, self._generation)
        self._replayed = False
        """Whether the log held entries when the database was opened."""
        if snapshot is not None:
            for log, generation in self._logs_after_snapshot():
                entries, end = read_log(log)
                for entry in entries:
                    _apply(tables, entry)
                self._replayed = self._replayed or bool(entries)
                if log == self._log.path:
                    self._log.resume(end, generation)
        for name, table in self._tables.items():
            tables.setdefault(name, Table()).keep_indexes_of(table)
        self._tables = tables

    def _logs_after_snapshot(self) -> list[tuple[Path, str]]:
        """The logs whose entries came after the snapshot, with their generations, oldest
        first: its own, and the one a fold had started when it stopped (see
        :meth:`_fold_in_background`)."""
        logs = []
        for log in (self._set_aside_log, self._log.path):
            header = log_header(log)
            if header and self._generation in (header[0], header[1] or None):
                logs.append((log, header[0]))
        return logs

    def _commit(self, changes: dict[str, Any]) -> None:
        if self.is_new:
            self._write_snapshot()
            return
        self._log.append(changes, sync=not self._group_commit)
        self._written += 1
        if not self._group_commit:
            self._durable = self._written

    def _sync_log(self, done: asyncio.Future[None]) -> None:
        self._sync = None
        with self._lock:
            try:
                self._log.sync()
            except OSError as error:
                # What the disk refused is lost: memory goes back to what the disk holds,
                # and every request waiting for it fails.
                self._log.discard_unsynced()
                self._load()
                done.set_exception(error)
            else:
                done.set_result(None)
            self._durable = self._written

    def _fold_log_if_due(self) -> None:
        if self._log.size <= max(_MIN_LOG_BYTES, self._snapshot_size):
            return
        if not self._snapshot_lock.acquire(blocking=False):
            return  # a fold is under way
        try:
            if self._set_aside_log.exists():
                # A fold stopped half-way: its log may not be set aside again.
                self._snapshot_lock.release()
                self._write_snapshot()
            else:
                self._fold_in_background()
        except OSError as error:
            # The writes are already safe in the log; the next one tries to fold it again.
            _logger.warning("Could not fold %s into %s: %s", self._log.path, self.path, error)

    def _fold_in_background(self) -> None:
        """Start writing a snapshot of the tables as they are now, without holding up the
        requests that go on meanwhile (at 100,000 prospects, writing takes seconds).

        The log is set aside and a new one started, whose header says it continues the
        current snapshot's generation: if the process dies before the new snapshot is in
        place, the old snapshot, the set-aside log and the new log still hold everything.
        Called holding :attr:`_snapshot_lock`, which the fold's thread releases when done.
        """
        try:
            frozen = {name: table.frozen() for name, table in self._tables.items()}
            generation = secrets.token_hex(8)
            self._log.set_aside(self._set_aside_log)
            self._log.start(generation, after=self._generation)
        except BaseException:
            # The next write starts a log of the current snapshot, read after the set-aside one.
            self._log.resume(0, self._generation)
            self._snapshot_lock.release()
            raise
        threading.Thread(
            target=self._finish_fold, args=(frozen, generation), name="prospect-mock fold"
        ).start()

    def _finish_fold(self, frozen: dict[str, FrozenTable], generation: str) -> None:
        try:
            self._snapshot_size = write_snapshot(self.path, _snapshot_data(frozen, generation))
            self._generation = generation
            self._set_aside_log.unlink()
        except OSError as error:
            _logger.warning("Could not fold %s into %s: %s", self._log.path, self.path, error)
        finally:
            self._snapshot_lock.release()

    def _write_snapshot(self) -> None:
        """Write a snapshot of the tables now, and start an empty log."""
        with self._snapshot_lock:
            generation = secrets.token_hex(8)
            frozen = {name: table.frozen() for name, table in self._tables.items()}
            self._snapshot_size = write_snapshot(self.path, _snapshot_data(frozen, generation))
            self._generation, self.is_new = generation, False
            self._durable = self._written
            self._log.start(generation)
            self._set_aside_log.unlink(missing_ok=True)


def _snapshot_data(tables: dict[str, FrozenTable], generation: str) -> dict[str, Any]:
    data: dict[str, Any] = {name: {r["id"]: r for r in table} for name, table in tables.items()}
    data[_META_TABLE] = {"format": {"version": FORMAT_VERSION, "generation": generation}}
    return data


def _check_format(path: Path, snapshot: dict[str, Any]) -> str:
    """The snapshot's generation, after checking that it is a database this version reads."""
    if not snapshot:
        return ""
    meta = snapshot.get(_META_TABLE, {}).get("format")
    version = meta.get("version") if isinstance(meta, dict) else None
    if version not in _READABLE_VERSIONS:
        raise CorruptDatabaseError(
            f"{path} is not a prospect-mock database of format {FORMAT_VERSION} "
            f"(it says {version!r}); it was left untouched."
        )
    return str(meta.get("generation", ""))


def _tables_of(snapshot: dict[str, Any]) -> dict[str, Table]:
    return {
        name: Table(records.values())
        for name, records in snapshot.items()
        if name != _META_TABLE and isinstance(records, dict)
    }


def _apply(tables: dict[str, Table], entry: dict[str, Any]) -> None:
    for name, records in entry["put"].items():
        for record in records:
            tables.setdefault(name, Table()).put(record)
    for name, record_ids in entry["remove"].items():
        for record_id in record_ids:
            if record_id in tables.get(name, ()):
                tables[name].remove(record_id)
