"""The files of one database, and the one protocol that changes them.

Beside the snapshot ``DB`` (see :mod:`prospect_mock.storage.formats` for the formats):

- ``DB.wal``, the log: every write is one line appended to it, durable once
  :meth:`LogAndSnapshot.sync` returns;
- ``DB.wal.old``, while a fold writes a new snapshot: the log set aside, whose entries the new
  snapshot will hold;
- ``DB.lock``, held by the one process that has the database open
  (:mod:`~prospect_mock.storage.lock`).

Every change is whole or absent, whatever the disk refuses and wherever it refuses it. A log
line that could not be written whole is cut off again before anything else is written. A
new snapshot (a reset, a data load, a fold) is written to a temporary file and fsynced
first; the one step that commits it is its rename over ``DB``, and if that rename cannot
be made durable the old snapshot is put back. Nothing truncates a log that still holds
entries the snapshot lacks: a log is emptied only after a new snapshot holds them, and a
log of another generation than the snapshot's is never read. Temporary files left by a
crash (``.DB.*.tmp``, ``DB.wal.next``, ``DB.prev``) are removed when the database opens.

The store imports nothing of HTTP: it raises :class:`StorageError`, and the server decides
what a client is told.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prospect_mock.storage import file_ops
from prospect_mock.storage.clock import timestamp
from prospect_mock.storage.formats import (
    EncodedTable,
    check_format,
    created_at_of,
    log_header,
    log_header_line,
    log_line,
    read_log,
    read_snapshot,
    snapshot_chunks,
    tables_of,
)
from prospect_mock.storage.lock import ProcessLock, lock_path

__all__ = ["MIN_LOG_BYTES", "LogAndSnapshot", "StorageError"]

_logger = logging.getLogger(__name__)

MIN_LOG_BYTES = 16 * 2**20
"""The log is folded into the snapshot once it is larger than both this and the snapshot:
the cost of rewriting the snapshot is then spread over at least as many bytes of writes."""

Tables = dict[str, Iterable[dict[str, Any]] | EncodedTable]


class StorageError(Exception):
    """The disk refused a change; the files and the tables are as they were before it."""

    def __init__(self, database: Path, error: OSError) -> None:
        self.full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        self.reason = error.strerror or str(error)
        if self.full:
            message = f"The disk holding {database} is full; nothing was changed."
        else:
            message = f"{database} cannot be written ({self.reason}); nothing was changed."
        super().__init__(message)


class LogAndSnapshot:
    """The snapshot, the log and the lock of the database at ``path``.

    Opening it takes the lock (:class:`~prospect_mock.storage.lock.DatabaseLocked` if another
    process holds it); :meth:`load` reads what the files hold. Not thread-safe: one caller
    at a time (the :class:`~prospect_mock.storage.database.Database` lock), except that a fold
    writes its snapshot in a thread of its own.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._log_path = _beside(path, ".wal")
        self._set_aside_path = _beside(path, ".wal.old")
        self._next_log_path = _beside(path, ".wal.next")
        self._previous_path = _beside(path, ".prev")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = ProcessLock.acquire(path)
        except OSError as error:
            raise StorageError(path, error) from error
        self._lock = lock
        # A store dropped without close() (one opened only to look at the files) lets go too.
        self._release = weakref.finalize(self, lock.release)
        self._snapshot_lock = threading.Lock()
        """Held while a snapshot is written, by a fold's thread too."""
        self.generation = ""
        self.snapshot_size = 0
        self.created_at: str | None = None
        """When the database was created; None until it has a snapshot."""
        self._fd: int | None = None
        self._end = self._synced_end = 0
        """Where the last whole entry of the log ends, and the last durable one."""
        self._log_started = False
        """Whether the log's header names the current snapshot; the next append writes one
        otherwise."""
        self._unfolded = False
        """Whether the log holds entries that the snapshot lacks."""
        self._fold_stopped = False
        """A fold set the log aside and has not put its snapshot in place: the next fold
        may not set a log aside again, and writes a snapshot at once instead."""

    def load(self) -> tuple[dict[str, Iterable[dict[str, Any]]] | None, list[dict[str, Any]]]:
        """The snapshot's tables (None for a new database) and the log entries written
        after it, oldest first; the next append goes after the last whole one."""
        with self._snapshot_lock:
            self._close_log()
            if not self._lock.shared:
                self._remove_leftovers()
            snapshot = read_snapshot(self.path)
            self.generation = check_format(self.path, snapshot or {})
            self.snapshot_size = self.path.stat().st_size if snapshot else 0
            if snapshot is not None:
                # A snapshot older than this field: its last change is as close as it gets.
                self.created_at = created_at_of(snapshot) or timestamp(self.path.stat().st_mtime)
            self._log_started = self._fold_stopped = False
            self._end = self._synced_end = 0
            entries: list[dict[str, Any]] = []
            if snapshot is not None:
                for log in self._logs_after_snapshot():
                    log_entries, end = read_log(log)
                    entries += log_entries
                    self._fold_stopped = self._fold_stopped or log == self._set_aside_path
                    if log == self._log_path:
                        self._resume_log(end)
            self._unfolded = bool(entries)
            return (tables_of(snapshot) if snapshot is not None else None), entries

    @property
    def has_unfolded_writes(self) -> bool:
        """Whether the log holds entries that the snapshot lacks."""
        return self._fold_stopped or self._unfolded

    @property
    def fold_due(self) -> bool:
        return self._synced_end > max(MIN_LOG_BYTES, self.snapshot_size)

    def append(self, entry: dict[str, Any]) -> None:
        """Write ``entry`` at the end of the log, whole or not at all: durable once
        :meth:`sync` returns."""
        line = log_line(entry)
        try:
            if not self._log_started:
                self._start_log(self.generation)
            file_ops.write_all(self._open_log(), line, self._end)
        except OSError as error:
            self._cut_log(self._end)
            raise StorageError(self.path, error) from error
        self._end += len(line)
        self._unfolded = True

    def sync(self) -> None:
        """Make every entry appended so far durable, or cut off those that are not and
        raise (the caller's tables must then be loaded again)."""
        end = self._end
        try:
            if self._fd is not None:
                file_ops.fdatasync(self._fd)
        except OSError as error:
            self._end = self._synced_end
            self._cut_log(self._end)
            raise StorageError(self.path, error) from error
        self._synced_end = end

    def replace(self, tables: Tables) -> None:
        """Make the snapshot hold exactly ``tables``, and the log start anew after it."""
        with self._snapshot_lock:
            try:
                self._replace(tables)
            except OSError as error:
                raise StorageError(self.path, error) from error

    def fold(self, tables: Callable[[], Tables]) -> None:
        """Fold the log into a new snapshot of ``tables()``: everything written so far,
        which :meth:`sync` has made durable.

        The new snapshot is written in a thread, without holding up the writes that go on
        meanwhile (at 100,000 prospects it takes seconds): the log is set aside and a new
        one continues it, with a header naming the generation it follows. If the process
        dies before the new snapshot is in place, the old snapshot and both logs still
        hold everything. A fold that fails leaves them so, and the next fold writes the
        snapshot at once. A fold under way is not started twice.
        """
        if not self._snapshot_lock.acquire(blocking=False):
            return
        try:
            if self._fold_stopped:
                self._replace(tables())
                self._snapshot_lock.release()
                return
            frozen = tables()
            generation = _new_generation()
            self._set_log_aside(generation)
        except OSError as error:
            self._snapshot_lock.release()
            _logger.warning("Could not fold %s into %s: %s", self._log_path, self.path, error)
            return
        threading.Thread(
            target=self._finish_fold, args=(frozen, generation), name="prospect-mock fold"
        ).start()

    def close(self) -> None:
        """Close the log and let go of the lock (a fold under way finishes first)."""
        with self._snapshot_lock:
            self._close_log()
        self._release()

    def delete(self) -> None:
        """Remove the database's files and let go of the lock. Removing the snapshot is the
        step that commits: a log without its snapshot is never read."""
        with self._snapshot_lock:
            try:
                file_ops.unlink(self.path)
                file_ops.fsync_directory(self.path.parent)
            except OSError as error:
                raise StorageError(self.path, error) from error
            self._close_log()
            for leftover in (self._log_path, self._set_aside_path):
                _remove_quietly(leftover)
        self._release()
        _remove_quietly(lock_path(self.path))

    def _replace(self, tables: Tables) -> None:
        generation = _new_generation()
        self._write_snapshot(tables, generation)
        self.generation, self._fold_stopped = generation, False
        self._log_started = self._unfolded = False
        try:
            # Both are stale now: neither names the new snapshot's generation.
            file_ops.unlink(self._set_aside_path)
            self._start_log(generation)
        except OSError as error:
            _logger.warning("Could not start a new log %s: %s", self._log_path, error)

    def _finish_fold(self, tables: Tables, generation: str) -> None:
        try:
            self._write_snapshot(tables, generation)
            self.generation, self._fold_stopped = generation, False
        except OSError as error:
            _logger.warning("Could not fold %s into %s: %s", self._log_path, self.path, error)
        else:
            _remove_quietly(self._set_aside_path)  # stale now: the snapshot holds it
        finally:
            self._snapshot_lock.release()

    def _write_snapshot(self, tables: Tables, generation: str) -> None:
        """Write the snapshot; its rename over the old one commits it."""
        mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        fd, temporary = file_ops.create_temporary(self.path.parent, f".{self.path.name}.", mode)
        try:
            try:
                created_at = self.created_at or timestamp()
                size = file_ops.write_chunks(fd, snapshot_chunks(tables, generation, created_at))
                file_ops.fsync(fd)
            finally:
                os.close(fd)
            self._commit(temporary)
        finally:
            _remove_quietly(temporary)
        self.snapshot_size, self.created_at = size, created_at

    def _commit(self, snapshot: Path) -> None:
        """Rename ``snapshot`` over the database and make that durable, or put the old
        database back."""
        existed = self.path.exists()
        if existed:
            file_ops.unlink(self._previous_path)  # left by a clean-up that failed
            file_ops.link(self.path, self._previous_path)
        try:
            file_ops.replace(snapshot, self.path)
            file_ops.fsync_directory(self.path.parent)
        except OSError:
            if existed:
                file_ops.replace(self._previous_path, self.path)
            else:
                file_ops.unlink(self.path)
            raise
        finally:
            _remove_quietly(self._previous_path)

    def _set_log_aside(self, generation: str) -> None:
        """Move the log to ``DB.wal.old`` and continue it in a new ``DB.wal`` whose header
        says it continues the current generation; or change nothing and raise."""
        header = log_header_line(generation, after=self.generation)
        fd = file_ops.create(self._next_log_path, empty=True)
        try:
            file_ops.write_all(fd, header, 0)
            file_ops.fsync(fd)
            file_ops.replace(self._log_path, self._set_aside_path)
            try:
                file_ops.replace(self._next_log_path, self._log_path)
            except OSError:
                file_ops.replace(self._set_aside_path, self._log_path)
                raise
        except OSError:
            os.close(fd)
            _remove_quietly(self._next_log_path)
            raise
        self._fold_stopped, self._unfolded = True, False
        self._close_log()
        self._fd, self._log_started = fd, True
        self._end = self._synced_end = len(header)
        try:
            file_ops.fsync_directory(self.path.parent)
        except OSError as error:
            # Both names are in place for any restart of the process; the fold's own
            # rename fsyncs the folder again.
            _logger.warning("Could not fsync %s: %s", self.path.parent, error)

    def _start_log(self, generation: str) -> None:
        """Empty the log and write its header: only ever for a log of another generation,
        whose entries the snapshot already holds."""
        if self._fd is None:
            self._fd = file_ops.create(self._log_path)
        header = log_header_line(generation)
        file_ops.truncate(self._fd, 0)
        self._end = self._synced_end = 0
        file_ops.write_all(self._fd, header, 0)
        file_ops.fsync(self._fd)
        self._end = self._synced_end = len(header)
        self._log_started = True

    def _resume_log(self, end: int) -> None:
        # Opened for writing at the first append: until then the files are only read, on a
        # read-only disk too.
        self._end = self._synced_end = end
        self._log_started = True

    def _open_log(self) -> int:
        """The log, open for appending after its last whole entry."""
        if self._fd is None:
            fd = file_ops.create(self._log_path)
            try:
                # Cut off the torn line a crash may have left, before writing after it.
                file_ops.truncate(fd, self._end)
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def _cut_log(self, end: int) -> None:
        """Cut off whatever follows ``end`` (part of a line the disk refused)."""
        if self._fd is None:
            return
        try:
            file_ops.truncate(self._fd, end)
        except OSError as error:
            # What follows is at most one torn line, dropped when the log is read, and
            # overwritten by the next entry.
            _logger.warning("Could not cut %s back to %d bytes: %s", self._log_path, end, error)

    def _logs_after_snapshot(self) -> list[Path]:
        """The logs whose entries came after the snapshot, oldest first: its own, and the
        one a fold had set aside when it stopped."""
        logs = []
        for log in (self._set_aside_path, self._log_path):
            header = log_header(log)
            if header and self.generation in (header[0], header[1] or None):
                logs.append(log)
        return logs

    def _remove_leftovers(self) -> None:
        # What a process killed mid-change leaves: the database itself is whole.
        leftovers = [self._next_log_path, self._previous_path]
        leftovers += self.path.parent.glob(f".{self.path.name}.*.tmp")
        for leftover in leftovers:
            if leftover.exists():
                _remove_quietly(leftover)

    def _close_log(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _beside(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _new_generation() -> str:
    return secrets.token_hex(8)


def _remove_quietly(path: Path) -> None:
    try:
        file_ops.unlink(path)
    except OSError as error:
        _logger.warning("Could not remove %s: %s", path, error)
