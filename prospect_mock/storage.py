"""A TinyDB storage that keeps the database in memory and replaces its file atomically.

TinyDB's own JSONStorage parses the whole file on every read and rewrites it in place on
every write, so a crash mid-write leaves a torn file. Here reads are served from memory
and each write goes to a temporary file that is fsynced and then renamed over the old one:
after a crash the file is either the old database or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

__all__ = ["AtomicJSONStorage", "CorruptDatabaseError"]


class CorruptDatabaseError(Exception):
    """The database file exists but cannot be used; it is left untouched."""


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._data = read_database_file(self.path)
        _remove_leftover_temporaries(self.path)
        self._in_batch = False
        self._dirty = False

    def read(self) -> dict[str, Any] | None:
        # TinyDB hands this dict to its tables and writes it back whole; sharing it (rather
        # than copying it on every read) is what makes reads cost nothing.
        return self._data

    def write(self, data: dict[str, Any]) -> None:
        self._data = data
        if self._in_batch:
            self._dirty = True
        else:
            self._write_or_reload()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Turn every write inside the block into one atomic write, or none if it fails.

        TinyDB writes once per table operation; one request may make several (a cascade
        delete, a reorder) and must reach the disk whole or not at all.
        """
        self._in_batch, self._dirty = True, False
        try:
            yield
        except BaseException:
            self._data = read_database_file(self.path)
            raise
        finally:
            self._in_batch = False
        if self._dirty:
            self._write_or_reload()

    def _write_or_reload(self) -> None:
        # TinyDB has already changed the dict in memory; if the disk refuses the change,
        # memory goes back to what the disk holds so that nothing unacknowledged is served.
        try:
            write_atomically(self.path, self._data)
        except BaseException:
            self._data = read_database_file(self.path)
            raise


def read_database_file(path: Path) -> dict[str, Any] | None:
    """Return the file's tables, or None for a missing or empty file (a new database)."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CorruptDatabaseError(f"{path} is not a JSON database file ({error}).") from error
    if not isinstance(data, dict):
        raise CorruptDatabaseError(
            f"{path} holds JSON, but not a database: its top level is not an object."
        )
    return data


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def _remove_leftover_temporaries(path: Path) -> None:
    # A process killed mid-write leaves its temporary file; the database itself is whole.
    for leftover in path.parent.glob(f"{_temporary_prefix(path)}*.tmp"):
        leftover.unlink(missing_ok=True)


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Replace ``path`` with ``data`` as JSON so that a crash leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
    try:
        # mkstemp makes the file private; the database keeps the mode it had (or 0644).
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry itself reaches the disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
