"""The database file: atomic writes, refusal of bad files, persistence, serialized access."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app, storage
from prospect_mock.app import build_records, open_database
from prospect_mock.database import FORMAT_VERSION, Database
from prospect_mock.storage import CorruptDatabaseError

from .conftest import AUTH, LEADS, PROSPECTS


def test_a_new_database_is_seeded_and_written_whole(db_path: Path) -> None:
    open_database(db_path)
    data = json.loads(db_path.read_text())
    assert data["meta"] == {"format": {"version": FORMAT_VERSION}}
    assert len(data["prospects"]) >= 30
    assert [p.name for p in db_path.parent.iterdir()] == [db_path.name], "no temporary files left"


def test_an_unseeded_database_starts_empty(db_path: Path) -> None:
    records = build_records(open_database(db_path, seed=False))
    assert records["prospects"].list(limit=20, offset=0).total == 0


def test_acknowledged_writes_survive_a_restart(db_path: Path) -> None:
    with TestClient(create_app(db_path), headers=AUTH) as first:
        created = first.post(PROSPECTS, json={"company": "Durable"}).json()
        lead = first.post(LEADS, json={"prospect_id": created["id"], "lead": "L-1"}).json()
        first.delete(f"{PROSPECTS}/prospect_abc123")
    with TestClient(create_app(db_path), headers=AUTH) as second:
        assert second.get(f"{PROSPECTS}/{created['id']}").json() == created
        assert second.get(LEADS, params={"parent_id": created["id"]}).json()["data"] == [lead]
        assert second.get(f"{PROSPECTS}/prospect_abc123").status_code == 404


def test_each_request_is_one_atomic_write(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(create_app(db_path), headers=AUTH)
    writes: list[dict] = []
    real_write = storage.write_atomically
    monkeypatch.setattr(
        storage, "write_atomically", lambda p, d: (writes.append(d), real_write(p, d))
    )
    client.delete(f"{PROSPECTS}/prospect_abc123")  # removes a prospect, its leads and opportunities
    assert len(writes) == 1
    client.get(PROSPECTS)
    assert len(writes) == 1, "reads never write"


def test_a_failed_write_changes_neither_disk_nor_memory(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = build_records(open_database(db_path))
    on_disk = db_path.read_bytes()

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.os, "replace", disk_full)
    with pytest.raises(OSError):
        records["prospects"].delete("prospect_abc123")
    assert db_path.read_bytes() == on_disk
    assert records["prospects"].get("prospect_abc123")["id"] == "prospect_abc123"
    assert records["prospect_leads"].list("prospect_abc123", 20, 0).total > 0
    assert not list(db_path.parent.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"meta": {"format": {"vers', "is not a JSON database file"),
        (b"\x00\x01binary", "is not a JSON database file"),
        (b"[1, 2]", "its top level is not an object"),
        (b'{"_default": {}}', "format 1 (it says None)"),
        (b'{"meta": {"format": {"version": 99}}}', "(it says 99)"),
    ],
    ids=["truncated", "binary", "not-an-object", "plain-tinydb", "future-version"],
)
def test_a_bad_file_is_refused_and_left_untouched(
    db_path: Path, content: bytes, fragment: str
) -> None:
    db_path.write_bytes(content)
    with pytest.raises(CorruptDatabaseError) as error:
        Database(db_path)
    assert str(db_path) in str(error.value) and fragment in str(error.value)
    assert db_path.read_bytes() == content


def test_an_empty_file_starts_a_new_database(db_path: Path) -> None:
    db_path.write_bytes(b"  \n")
    assert build_records(open_database(db_path))["prospects"].get("prospect_abc123")


def test_concurrent_writers_lose_nothing(db_path: Path) -> None:
    records = build_records(open_database(db_path, seed=False))
    prospects, leads = records["prospects"], records["prospect_leads"]
    parent = prospects.create({"company": "Shared"})["id"]
    created: list[str] = []

    def work(worker: int) -> None:
        for n in range(25):
            created.append(prospects.create({"company": f"W{worker}-{n}"})["id"])
            leads.create({"prospect_id": parent, "lead": f"L{worker}-{n}"})

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    reopened = build_records(Database(db_path))
    assert reopened["prospects"].list(limit=100, offset=0).total == 201
    assert len(set(created)) == 200
    listed = reopened["prospect_leads"].list(parent, limit=100, offset=0)
    assert listed.total == 200
    all_idx = [
        item["idx"]
        for offset in (0, 100)
        for item in reopened["prospect_leads"].list(parent, 100, offset).items
    ]
    assert all_idx == list(range(1, 201))
