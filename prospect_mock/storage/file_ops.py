"""Every call that changes a file of the store, in one place.

:mod:`~prospect_mock.storage.log_and_snapshot` calls these through the module
(``file_ops.replace``), never through names imported from it, so that a test can make each
one fail in turn, as SQLite's own I/O-error tests do: each operation named in
:data:`OPERATIONS` is one step at which a disk can say no.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "OPERATIONS",
    "create",
    "create_temporary",
    "fdatasync",
    "fsync",
    "fsync_directory",
    "link",
    "replace",
    "truncate",
    "unlink",
    "write",
    "write_all",
    "write_chunks",
]

OPERATIONS = (
    "create",
    "create_temporary",
    "write",
    "fdatasync",
    "fsync",
    "truncate",
    "replace",
    "link",
    "unlink",
    "fsync_directory",
)


def create(path: Path, *, empty: bool = False) -> int:
    """Open ``path`` for reading and writing, making it if missing (and emptying it with
    ``empty``); a new file's name is made durable too."""
    existed = path.exists()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | (os.O_TRUNC if empty else 0), 0o644)
    if not existed:
        try:
            fsync_directory(path.parent)
        except BaseException:
            os.close(fd)
            raise
    return fd


def create_temporary(directory: Path, prefix: str, mode: int) -> tuple[int, Path]:
    """A new private file in ``directory`` (``prefix`` + random + ``.tmp``), set to ``mode``."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=".tmp")
    os.fchmod(fd, mode)
    return fd, Path(name)


def write(fd: int, data: bytes | memoryview, offset: int) -> int:
    """One ``pwrite``: it may write less than ``data`` (a full disk does that)."""
    return os.pwrite(fd, data, offset)


def write_all(fd: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset``, or raise: a short write is continued, never
    taken for a whole one."""
    view = memoryview(data)
    while view:
        written = write(fd, view, offset)
        view, offset = view[written:], offset + written


def write_chunks(fd: int, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` one after another from the start of the file; return the size."""
    offset = 0
    for chunk in chunks:
        write_all(fd, chunk, offset)
        offset += len(chunk)
    return offset


def fdatasync(fd: int) -> None:
    os.fdatasync(fd)


def fsync(fd: int) -> None:
    os.fsync(fd)


def truncate(fd: int, size: int) -> None:
    os.ftruncate(fd, size)


def replace(source: Path, target: Path) -> None:
    os.replace(source, target)


def link(source: Path, target: Path) -> None:
    os.link(source, target)


def unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def fsync_directory(directory: Path) -> None:
    # A rename or a new file is durable only once the directory entry reaches the disk.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
