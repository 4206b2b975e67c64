"""A store whose file operations fail on demand, and the states to compare around a failure:
for the fault matrix (tests/storage/test_faults.py) and the tests that reuse its checks."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prospect_mock.domain.datasets import export
from prospect_mock.storage import file_ops as files
from prospect_mock.storage.database import Database
from tests.conftest import PROSPECTS, records_of

FAULTS = {"ENOSPC": errno.ENOSPC, "EIO": errno.EIO, "EROFS": errno.EROFS}


class FaultyDisk:
    """Wraps every file operation of the store: counts them, and makes number ``fail_at``
    fail with ``fault``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.fail_at: int | None = None
        self.fault = ""
        self.full = False
        """After a short write: every later write finds the disk full."""
        self._lock = threading.Lock()
        for name in files.OPERATIONS:
            monkeypatch.setattr(files, name, self._wrap(getattr(files, name)))

    def arm(self, fail_at: int | None, fault: str = "") -> None:
        self.calls.clear()
        self.fail_at, self.fault, self.full = fail_at, fault, False

    def _wrap(self, operation: Callable[..., Any]) -> Callable[..., Any]:
        def faulty(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append(operation.__name__)
                failing = len(self.calls) == self.fail_at
            if self.full and operation.__name__ == "write":
                failing, self.fault = True, "ENOSPC"
            if not failing:
                return operation(*args, **kwargs)
            if self.fault == "short":
                # Half the bytes reach the file, and the disk is full from then on.
                fd, data, offset = args
                self.full = True
                return operation(fd, bytes(data[: max(1, len(data) // 2)]), offset)
            code = FAULTS[self.fault]
            raise OSError(code, os.strerror(code))

        return faulty


def wait_for_folds() -> None:
    deadline = time.monotonic() + 30
    while any(thread.name == "prospect-mock fold" for thread in threading.enumerate()):
        assert time.monotonic() < deadline, "a fold never finished"
        time.sleep(0.005)


def state_of(client: TestClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every record, by table and id, and the first page of prospects in its order."""
    data = client.get("/__admin/data").json()
    by_id = {name: {r["id"]: r for r in records} for name, records in data.items()}
    return by_id, client.get(PROSPECTS, params={"limit": 100}).json()["data"]


def state_on_disk(db_path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """What a fresh start would load (a crash now, then a restart)."""
    fresh = Database(db_path)
    data = export(fresh)
    by_id = {name: {r["id"]: r for r in records} for name, records in data.items()}
    return by_id, records_of(fresh)["prospects"].list(limit=100, offset=0).items
