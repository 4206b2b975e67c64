"""The database's two files: a snapshot, replaced atomically, and a write-ahead log.

The snapshot (``prospect-mock.json``) is a TinyDB JSON file: every table as ``{id: record}``.
Rewriting it on every write would make a write cost as much as the whole database, so each
write is instead one checksummed line appended to the log (``prospect-mock.json.wal``) and
fsynced before it is acknowledged. From time to time the log is folded into a new snapshot:
written to a temporary file, fsynced, renamed over the old one. After a crash the snapshot
is the old one or the new one, never a mix, and the log ends at most in one torn line: the
write whose answer never left the server.

A log belongs to one snapshot: its first line names the snapshot's generation, and, while a
fold writes a new snapshot, the generation it continues from (see ``Database``). A log of
any other generation was already folded into the snapshot (the crash came between the
rename and the log's reset), or belongs to a file that was deleted; either way it is
ignored.
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "CorruptDatabaseError",
    "WriteAheadLog",
    "log_header",
    "read_log",
    "read_snapshot",
    "write_snapshot",
]

_LOG_MAGIC = "prospect-mock-wal"
READ_WHOLE_UP_TO = 32 * 2**20
"""A larger snapshot is read a record at a time: three times slower than in one piece, but
its text is never in memory beside its records."""


class CorruptDatabaseError(Exception):
    """The database file exists but cannot be used; it is left untouched."""


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """Return the file's tables, or None for a missing or empty file (a new database)."""
    try:
        if path.stat().st_size > READ_WHOLE_UP_TO:
            return _read_record_per_line(path)
    except FileNotFoundError:
        return None
    except _OtherLayout:
        pass  # written by something else, or damaged: read whole, to say what is wrong
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptDatabaseError(f"{path} is not a JSON database file ({error}).") from error
    if not text.strip():
        return None
    try:
        data = json.loads(text, object_pairs_hook=_SharedStrings().object_from)
    except json.JSONDecodeError as error:
        raise CorruptDatabaseError(f"{path} is not a JSON database file ({error}).") from error
    if not isinstance(data, dict):
        raise CorruptDatabaseError(
            f"{path} holds JSON, but not a database: its top level is not an object."
        )
    return data


class _OtherLayout(Exception):
    """The file is not laid out as :func:`write_snapshot` lays it out."""


def _read_record_per_line(path: Path) -> dict[str, Any]:
    """Read a snapshot one record at a time (at 100,000 prospects, reading it whole would
    need 170 MB more at start-up)."""
    shared = _SharedStrings().object_from
    data: dict[str, Any] = {}
    table: dict[str, Any] | None = None
    try:
        with path.open(encoding="utf-8", newline="\n") as file:
            if file.readline() != "{\n":
                raise _OtherLayout
            for line in file:
                if table is None and line == "}\n":
                    return data
                if table is None and line.endswith(": {\n"):
                    table = data[json.loads(line[: -len(": {\n")])] = {}
                elif table is not None and line in ("}\n", "},\n"):
                    table = None
                elif table is not None:
                    row = "{" + line.removesuffix("\n").removesuffix(",") + "}"
                    table.update(json.loads(row, object_pairs_hook=shared))
                else:
                    raise _OtherLayout
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _OtherLayout from error
    raise _OtherLayout  # no closing brace: a file cut short


class _SharedStrings:
    """Makes each repeated text value one shared string while the snapshot is parsed.

    The JSON parser makes a new string for every occurrence of a value; industries,
    territories, owners and stages repeat across thousands of records, and at 100,000
    prospects their copies were a third of the server's memory. ``id`` values never repeat,
    so they are not looked up; the tables' keys, ids too, are, as every key is, which costs
    a dict of a few hundred thousand entries for as long as the file is read.
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def object_from(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Keys too: the parser shares them only within one call, and a snapshot is parsed
        # a line at a time.
        strings = self._strings
        return {
            strings.setdefault(key, key): strings.setdefault(value, value)
            if type(value) is str and key != "id"
            else value
            for key, value in pairs
        }


def write_snapshot(path: Path, tables: dict[str, dict[str, Any]]) -> int:
    """Replace ``path`` with ``tables`` as JSON, one record per line, so that a crash leaves
    the old or the new file; return its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftover_temporaries(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
    try:
        # mkstemp makes the file private; the database keeps the mode it had (or 0644).
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
            file.writelines(_snapshot_lines(tables))
            file.flush()
            os.fsync(file.fileno())
            size = os.fstat(file.fileno()).st_size
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return size


def _snapshot_lines(tables: dict[str, dict[str, Any]]) -> Iterator[str]:
    """The snapshot as JSON that TinyDB reads like any other, laid out one record per line
    so that :func:`_read_record_per_line` can read it a record at a time."""
    yield "{\n"
    for number, (name, records) in enumerate(tables.items(), start=1):
        yield f"{_encode(name)}: {{\n"
        last = len(records)
        for row, (key, record) in enumerate(records.items(), start=1):
            yield f"{_encode(key)}: {_encode(record)}{',' if row < last else ''}\n"
        yield "}\n" if number == len(tables) else "},\n"
    yield "}\n"


def remove_leftover_temporaries(path: Path) -> None:
    # A process killed mid-write leaves its temporary file; the database itself is whole.
    for leftover in path.parent.glob(f"{_temporary_prefix(path)}*.tmp"):
        leftover.unlink(missing_ok=True)


class WriteAheadLog:
    """Appends entries as checksummed lines, fsynced by :meth:`append` itself or, for a
    group of them, by one :meth:`sync`.

    Reading never changes the file, so a second :class:`Database` may open a live one to
    look at it; the log is opened for writing at the first append.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._generation = ""
        self._end = 0
        """Where the last whole entry ends; 0 while the log has no header for this snapshot."""
        self._synced_end = 0

    @property
    def size(self) -> int:
        return self._end

    def resume(self, end: int, generation: str) -> None:
        """Append after ``end`` (0: start anew at the first append) under ``generation``."""
        self._generation = generation
        self._end = self._synced_end = end

    def append(self, entry: dict[str, Any], *, sync: bool = True) -> None:
        """Write ``entry``; it is on disk when this returns, or, without ``sync``, once
        :meth:`sync` has returned."""
        line = _encode(entry)
        record = f"{zlib.crc32(line.encode()):08x} {line}\n".encode()
        if self._end == 0:  # no header yet: a new or stale log, or a start that failed
            self.start(self._generation)
        fd = self._file()
        try:
            os.pwrite(fd, record, self._end)
            if sync:
                os.fdatasync(fd)
        except BaseException:
            # A partly written line must not stay in front of the next entry.
            os.ftruncate(fd, self._end)
            raise
        self._end += len(record)
        if sync:
            self._synced_end = self._end

    def sync(self) -> None:
        """Make every entry appended so far durable. Safe to call from another thread while
        entries are appended: those may or may not be included."""
        end = self._end
        if self._fd is not None:
            os.fdatasync(self._fd)
        self._synced_end = end

    def discard_unsynced(self) -> None:
        """Cut off what a failed :meth:`sync` could not make durable."""
        self._end = min(self._end, self._synced_end)
        if self._fd is not None:
            os.ftruncate(self._fd, self._end)

    def start(self, generation: str, *, after: str = "") -> None:
        """Empty the log for the snapshot of ``generation``. That snapshot already holds
        everything logged so far, or, ``after`` another generation, will once it is written:
        until then the log continues the one set aside for that other generation."""
        self._generation, self._end = generation, 0
        header = f"{_LOG_MAGIC} {generation}{f' after {after}' if after else ''}\n".encode()
        fd = self._file()
        os.ftruncate(fd, 0)
        os.pwrite(fd, header, 0)
        os.fsync(fd)
        self._end = self._synced_end = len(header)

    def set_aside(self, path: Path) -> None:
        """Move the log, every entry on disk, to ``path``; the next write starts a new one."""
        if self._fd is not None:
            os.fdatasync(self._fd)
            self.close()
        if self.path.exists():
            os.replace(self.path, path)
            _fsync_directory(self.path.parent)
        self._end = self._synced_end = 0

    def close(self) -> None:
        if self._fd is not None:
            self._closer()
            self._fd = None

    def _file(self) -> int:
        if self._fd is None:
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._closer = weakref.finalize(self, os.close, self._fd)
            if created:
                _fsync_directory(self.path.parent)
            # Cut off the torn line a crash may have left, before writing after it.
            os.ftruncate(self._fd, self._end)
        return self._fd


def log_header(path: Path) -> tuple[str, str] | None:
    """The log's generation, and the generation it continues from ("" if none), or None
    for a missing file or one that is not a log."""
    try:
        with path.open("rb") as file:
            words = file.readline().decode(errors="replace").removesuffix("\n").split(" ")
    except FileNotFoundError:
        return None
    if words[0] != _LOG_MAGIC or len(words) not in (2, 4):
        return None
    return words[1], words[3] if len(words) == 4 else ""


def read_log(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The log's entries, oldest first, and the offset where the last whole one ends."""
    header, _, body = path.read_bytes().partition(b"\n")
    entries, end = _parse_entries(path, body)
    return entries, len(header) + 1 + end


def _parse_entries(path: Path, body: bytes) -> tuple[list[dict[str, Any]], int]:
    """Every whole entry of ``body`` and the offset where the last one ends."""
    entries: list[dict[str, Any]] = []
    end = 0
    lines = body.split(b"\n")
    for number, line in enumerate(lines[:-1], start=2):
        entry = _parse_entry(line)
        if entry is None:
            if number - 2 < len(lines) - 2 or lines[-1]:
                raise CorruptDatabaseError(
                    f"{path} line {number} is damaged and more entries follow it; "
                    f"the files were left untouched."
                )
            break
        entries.append(entry)
        end += len(line) + 1
    return entries, end


def _parse_entry(line: bytes) -> dict[str, Any] | None:
    checksum, _, text = line.partition(b" ")
    try:
        if int(checksum, 16) != zlib.crc32(text):
            return None
        entry = json.loads(text)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _encode(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def _fsync_directory(directory: Path) -> None:
    # A rename or a new file is durable only once the directory entry reaches the disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
