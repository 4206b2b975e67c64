"""One process per database: an exclusive lock on ``DB.lock``, which says who holds it.

The lock is ``flock(2)``'s: the kernel drops it when the process ends, however it ends, so
a server killed with SIGKILL leaves no stale lock behind (the file stays, unlocked). The
file holds the holder's process id and, once it serves, the address it listens on, so
that ``prospect-mock reset`` can ask a running server to reset its own data.

Within one process a database may be opened more than once (to look at its files while a
server has it open); the opens share one lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["DatabaseLocked", "Holder", "ProcessLock", "held", "held_by_another_process"]


@dataclass(frozen=True)
class Holder:
    """The process that holds a database, as its lock file tells."""

    pid: int | None
    url: str | None


class DatabaseLocked(Exception):
    """Another process has the database open."""

    def __init__(self, database: Path, holder: Holder) -> None:
        self.database, self.holder = database, holder
        who = f"process {holder.pid}" if holder.pid else "another process"
        where = f", serving {holder.url}" if holder.url else ""
        super().__init__(
            f"{database} is in use by {who}{where}; stop it first, or use another --db."
        )


class ProcessLock:
    """This process's hold on one database; :meth:`acquire` it, :meth:`release` it."""

    _held: ClassVar[dict[str, ProcessLock]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: str, fd: int) -> None:
        self._key, self._fd, self._users = key, fd, 1
        self._info: dict[str, Any] = {"pid": os.getpid()}

    @classmethod
    def acquire(cls, database: Path) -> ProcessLock:
        """Hold ``database`` for this process, or raise :class:`DatabaseLocked`."""
        path = lock_path(database)
        key = os.path.abspath(path)
        with cls._registry_lock:
            held = cls._held.get(key)
            if held is not None:
                held._users += 1
                return held
            fd = _open(path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise DatabaseLocked(database, read_holder(database)) from None
            held = cls._held[key] = ProcessLock(key, fd)
        held._write_info()
        return held

    @property
    def shared(self) -> bool:
        """Whether the database is open more than once in this process."""
        return self._users > 1

    def announce(self, url: str) -> None:
        """Record where this process serves the database."""
        self._info["url"] = url
        self._write_info()

    def release(self) -> None:
        with self._registry_lock:
            self._users -= 1
            if self._users == 0:
                del self._held[self._key]
                os.close(self._fd)  # closing the last descriptor drops the flock

    def _write_info(self) -> None:
        # Best effort: the lock itself is what keeps a second process out; on a full or
        # read-only disk, `reset` finds the holder's pid in /proc/locks instead.
        text = json.dumps(self._info).encode()
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text, 0)
        except OSError:
            pass


@contextmanager
def held(database: Path) -> Iterator[None]:
    """Keep this process's hold on ``database``, and what its lock file says, while the
    database is closed and opened again."""
    lock = ProcessLock.acquire(database)
    try:
        yield
    finally:
        lock.release()


def held_by_another_process(database: Path) -> Holder | None:
    """Who holds ``database``, if another process does; asked without creating or changing
    any file."""
    try:
        fd = os.open(lock_path(database), os.O_RDONLY)
    except OSError:
        return None  # no lock file: nobody has ever held it, or it was removed with it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(database)
    finally:
        os.close(fd)
    return None


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def read_holder(database: Path) -> Holder:
    """Who holds ``database``, as far as its lock file says."""
    try:
        info = json.loads(lock_path(database).read_bytes() or b"{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict):
        info = {}
    pid, url = info.get("pid"), info.get("url")
    return Holder(
        pid if isinstance(pid, int) else _pid_from_proc_locks(lock_path(database)),
        url if isinstance(url, str) else None,
    )


def _pid_from_proc_locks(path: Path) -> int | None:
    try:
        inode = path.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        # "1: FLOCK  ADVISORY  WRITE 4242 08:01:123456 0 EOF"
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
            return int(fields[4])
    return None


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        # A read-only folder or file: a lock file already there can still be locked.
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            raise error from None
