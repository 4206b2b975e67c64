"""Workspaces: isolated data sets in one server, each with its own records and journal.

``default`` is the database file itself (``--db``); every other workspace is a database of
its own in the folder beside it, ``DB.workspaces/NAME.json``, with its own log: as durable
as the default data, and brought back by a restart. A workspace exists once its snapshot
does: creating one commits with the rename of its first snapshot, deleting one with the
removal of its snapshot.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prospect_mock.contract.documents import attribute_names
from prospect_mock.domain import datasets
from prospect_mock.domain.journal import Journal
from prospect_mock.domain.records import Collection, LineItems, NotFound
from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.domain.scenarios import Scenarios
from prospect_mock.domain.seeding import FIXTURES, Seed
from prospect_mock.storage.clock import timestamp
from prospect_mock.storage.database import Database, StorageError
from prospect_mock.storage.lock import held

__all__ = [
    "DEFAULT",
    "DEFAULT_MAX_WORKSPACES",
    "BadWorkspaceName",
    "Workspace",
    "WorkspaceConflict",
    "WorkspaceError",
    "WorkspaceGone",
    "Workspaces",
    "build_records",
    "check_name",
]

DEFAULT = "default"
DEFAULT_MAX_WORKSPACES = 100
NAME_RULE = "[a-z0-9][a-z0-9_-]{0,62}"
_NAME = re.compile(NAME_RULE)
_FILE_OF_WORKSPACE = re.compile(rf"\.?({NAME_RULE})\.json\..+")
"""A workspace's files beside its snapshot: its log, its lock, and temporary files."""

_logger = logging.getLogger(__name__)


class WorkspaceError(Exception):
    """A request about workspaces that cannot be met; the message says why."""


class BadWorkspaceName(WorkspaceError):
    """A name that is not one, or two names for one request."""


class WorkspaceGone(WorkspaceError):
    """The workspace a request arrived for was deleted while it was under way."""


class WorkspaceConflict(WorkspaceError):
    """The workspaces as they are now refuse the request: the default one cannot be deleted,
    the server holds its maximum, or the workspace was replaced while the request was under
    way."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise BadWorkspaceName(
            f"{name[:80]!r} is not a workspace name: use 1 to 63 lowercase letters, digits, "
            f"'-' and '_', starting with a letter or digit ({NAME_RULE}).",
        )
    return name


def build_records(database: Database) -> dict[str, Collection | LineItems]:
    """Every resource's records, as the contract describes them, kept in ``database``."""
    records: dict[str, Collection | LineItems] = {}
    for kind in RESOURCE_TYPES:
        attributes = attribute_names(kind.schema)
        if kind.parent is None:
            records[kind.name] = Collection(database, kind, attributes)
        else:
            parent = records[kind.parent]
            assert isinstance(parent, Collection), f"{kind.name}'s parent must be top-level"
            records[kind.name] = LineItems(database, kind, attributes, parent)
    return records


@dataclass(eq=False)
class Workspace:
    """One isolated data set: its database, the records in it, its request journal and its
    scenarios."""

    name: str
    database: Database
    records: dict[str, Collection | LineItems]
    journal: Journal = field(default_factory=Journal)
    scenarios: Scenarios = field(default_factory=Scenarios)
    last_used: float = field(default_factory=time.time)

    @classmethod
    def open(cls, name: str, path: Path) -> Workspace:
        database = Database(path, group_commit=True)
        records = build_records(database)
        return cls(name, database, records, last_used=_last_change(path))

    def enter(self) -> Workspace:
        """This workspace, for a request about to use it; the refusal its deletion or
        replacement set, if either happened."""
        self.database.check_open()
        self.last_used = time.time()
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "counts": datasets.counts(self.database),
            "created_at": self.database.created_at or timestamp(),
            "last_used_at": timestamp(self.last_used),
        }


class Workspaces:
    """Every workspace of one server, ``default`` first; at most ``max_workspaces`` of them.

    A new workspace is seeded with ``seed``, as a new database of the server is. Thread-safe.

    Deleting or replacing a workspace retires its objects: a request that still holds them
    (it was slowed down, or its body is still arriving) is refused when it reads or writes
    (404 after a deletion, 409 after a replacement) and writes nothing, and a workspace
    created again under the name starts from files of its own.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        seed: Seed = FIXTURES,
        max_workspaces: int = DEFAULT_MAX_WORKSPACES,
    ) -> None:
        self.seed = seed
        self.max_workspaces = max_workspaces
        self._default_path = Path(db_path)
        self._folder = self._default_path.with_name(self._default_path.name + ".workspaces")
        self._lock = threading.Lock()
        self._open: dict[str, Workspace] = {}
        self._open[DEFAULT] = self._opened(DEFAULT, self.seed)
        _remove_unborn(self._folder)
        for snapshot in sorted(self._folder.glob("*.json")):
            if _NAME.fullmatch(snapshot.stem) and snapshot.stem != DEFAULT:
                self._open[snapshot.stem] = self._opened(snapshot.stem, self.seed)

    @property
    def default(self) -> Workspace:
        return self._open[DEFAULT]

    def find(self, name: str) -> Workspace | None:
        """The workspace ``name`` if it exists."""
        return self._open.get(name)

    def get(self, name: str) -> Workspace:
        """The workspace ``name``, created (seeded) on first use."""
        workspace = self._open.get(name)
        if workspace is None:
            with self._lock:
                workspace = self._open.get(name) or self._create(name, self.seed)
        return workspace.enter()

    def put(self, name: str, data: Seed) -> tuple[Workspace, bool]:
        """Make the workspace ``name`` hold exactly ``data``; whether it was created."""
        with self._lock:
            retired = self._open.pop(name, None)
            if retired is None:
                return self._create(name, data), True
            # Opened anew on the same files, which still hold every write if closing or
            # filling is refused; the journal goes on, the scenarios do not.
            with held(self._path(name)):
                try:
                    retired.database.close(_refusal(WorkspaceConflict, name, "replaced"))
                finally:
                    workspace = Workspace.open(name, self._path(name))
                    workspace.journal = retired.journal
                    self._open[name] = workspace
            data.fill(workspace.database)
            return workspace, False

    def delete(self, name: str) -> None:
        if name == DEFAULT:
            raise WorkspaceConflict("The default workspace cannot be deleted; reset it instead.")
        with self._lock:
            workspace = self._open.get(name)
            if workspace is None:
                raise NotFound(f"There is no workspace {name!r}.")
            workspace.database.delete(_refusal(WorkspaceGone, name, "deleted"))
            del self._open[name]

    def __iter__(self) -> Iterator[Workspace]:
        """Every workspace, ``default`` first, then by name."""
        with self._lock:
            named = sorted(self._open.items())
        return iter([self.default, *(w for n, w in named if n != DEFAULT)])

    def close(self) -> None:
        """Fold every workspace's log into its snapshot (:class:`StorageError` for the first
        that could not be: its log still holds every write). Every one is closed."""
        failure: StorageError | None = None
        for workspace in self:
            try:
                workspace.database.close()
            except StorageError as error:
                failure = failure or error
        if failure is not None:
            raise failure

    def _path(self, name: str) -> Path:
        return self._default_path if name == DEFAULT else self._folder / f"{name}.json"

    def _opened(self, name: str, data: Seed) -> Workspace:
        """The workspace ``name`` as its files hold it; filled with ``data`` if it is new,
        and its files removed again if that is refused."""
        workspace = Workspace.open(name, self._path(name))
        if workspace.database.is_new:
            try:
                data.fill(workspace.database)
            except BaseException:
                workspace.database.delete(_refusal(WorkspaceGone, name, "deleted"))
                raise
        return workspace

    def _create(self, name: str, data: Seed) -> Workspace:
        if len(self._open) >= self.max_workspaces:
            raise WorkspaceConflict(
                f"This server holds its maximum of {self.max_workspaces} workspaces; delete "
                f"one (DELETE /__admin/workspaces/NAME) or start it with a larger "
                f"--max-workspaces.",
            )
        workspace = self._opened(name, data)
        self._open[name] = workspace
        return workspace


def _refusal(kind: type[WorkspaceError], name: str, what: str) -> Callable[[], WorkspaceError]:
    """What a request still holding a retired workspace is answered."""
    detail = (
        f"The workspace {name!r} was {what} while this request was under way; it wrote nothing."
    )
    return lambda: kind(detail)


def _remove_unborn(folder: Path) -> None:
    """Remove the files of workspaces that have no snapshot: each never committed its
    creation, or was deleted, before the process ended."""
    unborn: dict[str, list[Path]] = {}
    for file in folder.glob("*") if folder.is_dir() else ():
        owner = _FILE_OF_WORKSPACE.fullmatch(file.name)
        if owner and not (folder / f"{owner[1]}.json").exists():
            unborn.setdefault(owner[1], []).append(file)
    for files in unborn.values():
        for file in files:
            file.unlink(missing_ok=True)
    if unborn:
        _logger.warning(
            "Removed the files of %d workspace(s) that have no snapshot (never created, or "
            "deleted, before the last stop): %s.",
            len(unborn),
            ", ".join(sorted(unborn)),
        )


def _last_change(path: Path) -> float:
    """When the database's files last changed (now, for a new one)."""
    files = (path, path.with_name(path.name + ".wal"))
    return max((file.stat().st_mtime for file in files if file.exists()), default=time.time())
