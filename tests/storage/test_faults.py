"""Fault injection: every file operation of the store fails in turn, for every kind of write.

As SQLite's I/O-error tests do, each write is first run once to count the file operations
it makes (:data:`prospect_mock.storage.file_ops.OPERATIONS`), then once per operation and fault with
that operation failing: a short write (half the bytes, then a full disk), ``ENOSPC``,
``EIO`` or ``EROFS``. After each run the answer is a clean problem (or a success, where
the failure came after the commit point), memory equals what a fresh start would load, a
refused write changed nothing, writes work again once the fault is gone, and a clean stop
and restart lose nothing acknowledged.

The whole matrix, every kind of write with every fault, is a ``system`` test (``make test``
and CI run it; it takes a minute). ``make test-fast`` runs one diagonal of it, in which each
kind of write and each fault appears: every file operation of those writes still fails in
turn, with every check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.domain.seeding import EMPTY, FIXTURES, Seed
from prospect_mock.storage import log_and_snapshot as store
from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem
from tests.faulty_disk import FAULTS, FaultyDisk, state_of, state_on_disk, wait_for_folds


@dataclass
class Write:
    """One kind of write: how to prepare the database, and the request that writes."""

    prepare: Callable[[TestClient], Any]
    send: Callable[[TestClient, Any], Any]
    seed: Seed = FIXTURES


def _first_leads(client: TestClient) -> tuple[str, list[str]]:
    leads = client.get(LEADS, params={"parent_id": "prospect_abc123"}).json()["data"]
    return "prospect_abc123", [lead["id"] for lead in leads]


def _two_leads(client: TestClient) -> tuple[str, list[str]]:
    parent, ids = _first_leads(client)
    while len(ids) < 2:
        ids.append(client.post(LEADS, json={"prospect_id": parent, "lead": "L"}).json()["id"])
    return parent, ids


def _smaller_data_set(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    data = client.get("/__admin/data").json()
    kept = {prospect["id"] for prospect in data["prospects"][:5]}
    return {
        "prospects": data["prospects"][:5],
        "prospect_leads": [r for r in data["prospect_leads"] if r["prospect_id"] in kept],
        "prospect_opportunities": [
            r for r in data["prospect_opportunities"] if r["prospect_id"] in kept
        ],
    }


LARGE_PROSPECT = {"company": "C" * 140, "company_name": "N" * 140, "industry": "I" * 140}

WRITES = {
    "create": Write(
        prepare=lambda client: None,
        send=lambda client, _: client.post(PROSPECTS, json={"company": "Faulty"}),
    ),
    "cascade delete": Write(
        prepare=lambda client: None,
        send=lambda client, _: client.delete(f"{PROSPECTS}/prospect_abc123"),
    ),
    "reorder": Write(
        prepare=_two_leads,
        send=lambda client, leads: client.post(
            f"{LEADS}/reorder", json={"parent_id": leads[0], "ids": leads[1][::-1]}
        ),
    ),
    "reset": Write(
        prepare=lambda client: client.post(PROSPECTS, json={"company": "Before the reset"}),
        send=lambda client, _: client.post("/__admin/reset", params={"empty": "true"}),
    ),
    "data load": Write(
        prepare=_smaller_data_set,
        send=lambda client, data: client.put("/__admin/data", json=data),
    ),
    # With one small record in the snapshot, one large write makes the log outgrow it: the
    # write is followed by a fold, whose every step is then made to fail.
    "fold": Write(
        prepare=lambda client: client.post(PROSPECTS, json={"company": "Small"}),
        send=lambda client, _: client.post(PROSPECTS, json=LARGE_PROSPECT),
        seed=EMPTY,
    ),
}


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> FaultyDisk:
    monkeypatch.setattr(store, "MIN_LOG_BYTES", 0)
    return FaultyDisk(monkeypatch)


def run(
    db_path: Path, write: Write, disk: FaultyDisk, fail_at: int | None, fault: str
) -> list[str]:
    """Send ``write`` with operation ``fail_at`` failing, check everything; return the file
    operations the write made."""
    with TestClient(create_app(db_path, seed=write.seed), headers=AUTH) as client:
        prepared = write.prepare(client)
        wait_for_folds()
        before = state_of(client)
        disk.arm(fail_at, fault)
        answer = write.send(client, prepared)
        wait_for_folds()
        operations = list(disk.calls)
        disk.arm(None)
        if answer.status_code >= 400:
            status = 507 if fault in ("ENOSPC", "short") else 503
            assert_problem(answer, status, "nothing was changed")
            assert state_of(client) == before, "a refused write changed nothing"
        else:
            assert answer.status_code in (200, 201), answer.text
            assert state_of(client) != before
        assert state_of(client) == state_on_disk(db_path), "memory is what the files hold"
        again = client.post(PROSPECTS, json={"company": "Once the disk is back"})
        assert again.status_code == 201, "writes work again without a restart"
        wait_for_folds()
        acknowledged = state_of(client)
        assert acknowledged == state_on_disk(db_path)
    with TestClient(create_app(db_path, seed=write.seed), headers=AUTH) as restarted:
        assert state_of(restarted) == acknowledged, "a clean stop and a restart lose nothing"
    return operations


DIAGONAL = {
    ("create", "EROFS"),
    ("cascade delete", "EIO"),
    ("reorder", "ENOSPC"),
    ("reset", "short"),
    ("data load", "short"),
    ("fold", "short"),
}
"""The cases ``make test-fast`` runs: each kind of write and each fault at least once."""
assert {kind for kind, _ in DIAGONAL} == set(WRITES)
assert {fault for _, fault in DIAGONAL} == {"short", *FAULTS}

MATRIX = [
    pytest.param(
        kind,
        fault,
        id=f"{kind}-{fault}",
        marks=() if (kind, fault) in DIAGONAL else pytest.mark.system,
    )
    for kind in WRITES
    for fault in ["short", *FAULTS]
]


@pytest.mark.parametrize(("kind", "fault"), MATRIX)
def test_each_file_operation_failing_in_turn_changes_nothing_and_loses_nothing(
    tmp_path: Path, disk: FaultyDisk, kind: str, fault: str
) -> None:
    write = WRITES[kind]
    operations = run(tmp_path / "count" / "db.json", write, disk, None, "")
    failed = [
        n
        for n, operation in enumerate(operations, start=1)
        if fault != "short" or operation == "write"
    ]
    assert failed, f"{kind} made no file operation to fail"
    for n in failed:
        run(tmp_path / str(n) / "db.json", write, disk, n, fault)


def test_the_fold_and_the_reset_go_through_every_step_of_the_protocol(
    tmp_path: Path, disk: FaultyDisk
) -> None:
    # The cases above are only as good as the operations they reach.
    fold = run(tmp_path / "fold" / "db.json", WRITES["fold"], disk, None, "")
    assert set(fold) >= {"create", "write", "fsync", "replace", "link", "fsync_directory"}
    reset = run(tmp_path / "reset" / "db.json", WRITES["reset"], disk, None, "")
    assert set(reset) >= {"create_temporary", "write", "fsync", "link", "replace", "truncate"}
