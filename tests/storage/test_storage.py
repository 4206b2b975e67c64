"""The database files: a snapshot replaced atomically, a write-ahead log fsynced per write,
refusal of bad files, persistence, serialized access."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tinydb import TinyDB
from tinydb.table import Table as TinyTable

from prospect_mock import create_app
from prospect_mock.storage import file_ops as files
from prospect_mock.storage import formats as storage
from prospect_mock.storage import log_and_snapshot as store
from prospect_mock.storage.database import Database
from prospect_mock.storage.formats import FORMAT_VERSION, CorruptDatabaseError
from prospect_mock.storage.log_and_snapshot import LogAndSnapshot, StorageError, Tables
from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem, open_database, records_of


def log_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


def log_entries(db_path: Path) -> list[dict[str, Any]]:
    """The entries of the log, after its header line."""
    lines = log_of(db_path).read_text().splitlines()[1:]
    return [json.loads(line.partition(" ")[2]) for line in lines]


def test_a_new_database_is_seeded_and_written_whole(db_path: Path) -> None:
    open_database(db_path)
    data = json.loads(db_path.read_text())
    assert data["meta"]["format"]["version"] == FORMAT_VERSION
    assert len(data["prospects"]) >= 30
    assert log_entries(db_path) == []
    assert sorted(p.name for p in db_path.parent.iterdir()) == [
        "db.json",
        "db.json.lock",
        "db.json.wal",
    ], "no temporary files left"


def test_an_unseeded_database_starts_empty(db_path: Path) -> None:
    records = records_of(open_database(db_path, seed=False))
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


def test_a_write_appends_one_log_entry_and_leaves_the_snapshot_alone(db_path: Path) -> None:
    client = TestClient(create_app(db_path), headers=AUTH)
    snapshot = db_path.read_bytes()
    leads = client.get(LEADS, params={"parent_id": "prospect_abc123"}).json()["data"]
    client.delete(f"{PROSPECTS}/prospect_abc123")  # removes a prospect, its leads and opportunities
    [entry] = log_entries(db_path)
    assert entry["remove"]["prospects"] == ["prospect_abc123"]
    assert {lead["id"] for lead in leads} == set(entry["remove"]["prospect_leads"])
    client.get(PROSPECTS)
    client.get(f"{PROSPECTS}/prospect_abc123")
    assert len(log_entries(db_path)) == 1, "reads and refused requests never write"
    assert db_path.read_bytes() == snapshot


def test_a_write_is_fsynced_before_it_is_acknowledged(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = records_of(open_database(db_path))
    synced: list[int] = []
    monkeypatch.setattr(files, "fdatasync", synced.append)
    records["prospects"].create({"company": "Synced"})
    assert len(synced) == 1


def test_a_failed_write_changes_neither_disk_nor_memory(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = records_of(open_database(db_path))
    records["prospects"].update("prospect_abc123", {"company_name": "Before"})
    before = db_path.read_bytes(), log_of(db_path).read_bytes()
    listed = records["prospects"].list(limit=100, offset=0)

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "fdatasync", disk_full)
    with pytest.raises(StorageError, match="is full; nothing was changed"):
        records["prospects"].delete("prospect_abc123")
    with pytest.raises(StorageError):
        records["prospects"].create({"company": "Lost"})
    assert (db_path.read_bytes(), log_of(db_path).read_bytes()) == before
    assert records["prospects"].list(limit=100, offset=0) == listed, "same records, same order"
    assert records["prospect_leads"].list("prospect_abc123", 20, 0).total > 0
    monkeypatch.undo()
    reopened = records_of(Database(db_path))
    assert reopened["prospects"].list(limit=100, offset=0) == listed


def test_a_torn_last_line_is_dropped_and_cut_off_by_the_next_write(db_path: Path) -> None:
    records = records_of(open_database(db_path))
    kept = records["prospects"].create({"company": "Kept"})
    with log_of(db_path).open("ab") as log:
        log.write(b'1234abcd {"put":{"prospects":[{"id":"prospect_torn"')  # a crash mid-write
    reopened = records_of(Database(db_path))
    assert reopened["prospects"].get(kept["id"]) == kept
    after = reopened["prospects"].create({"company": "After"})
    assert b"prospect_torn" not in log_of(db_path).read_bytes()
    again = records_of(Database(db_path))
    assert again["prospects"].get(after["id"]) == after
    assert again["prospects"].get(kept["id"]) == kept


def test_a_damaged_line_before_others_is_refused_and_left_untouched(db_path: Path) -> None:
    records = records_of(open_database(db_path))
    records["prospects"].create({"company": "First"})
    records["prospects"].create({"company": "Second"})
    log = log_of(db_path)
    damaged = log.read_bytes().replace(b"First", b"Fir5t")
    log.write_bytes(damaged)
    with pytest.raises(CorruptDatabaseError) as error:
        Database(db_path)
    assert "line 2 is damaged" in str(error.value)
    assert log.read_bytes() == damaged


def test_a_log_of_an_older_snapshot_is_not_replayed(db_path: Path) -> None:
    # A crash between renaming a new snapshot into place and emptying the log leaves a log
    # whose entries the snapshot already holds: replaying it would undo later changes.
    opened = open_database(db_path)
    records = records_of(opened)
    created = records["prospects"].create({"company": "Once"})
    old_log = log_of(db_path).read_bytes()
    records["prospects"].delete(created["id"])
    opened.close()
    log_of(db_path).write_bytes(old_log)
    with pytest.raises(Exception, match="No prospect"):
        records_of(Database(db_path))["prospects"].get(created["id"])


def test_deleting_the_file_starts_afresh_even_beside_an_old_log(db_path: Path) -> None:
    records = records_of(open_database(db_path))
    created = records["prospects"].create({"company": "Gone with the file"})
    db_path.unlink()
    fresh = records_of(open_database(db_path))
    assert fresh["prospects"].list(limit=1, offset=0).total == 35
    assert created["id"] not in Database(db_path).table("prospects")


def set_aside_log_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal.old")


def wait_for_fold(db_path: Path) -> None:
    deadline = time.monotonic() + 30
    while set_aside_log_of(db_path).exists():
        assert time.monotonic() < deadline, "the fold never finished"
        time.sleep(0.01)


def test_the_log_is_folded_into_the_snapshot_when_it_grows(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MIN_LOG_BYTES", 0)
    records = records_of(open_database(db_path))
    listed_before = records["prospects"].list(limit=100, offset=0)
    snapshot_size = db_path.stat().st_size
    created: list[dict[str, Any]] = []
    while not created or log_entries(db_path):
        created.append(records["prospects"].create({"company": f"Fold {len(created)}"}))
    assert len(created) > 1, "folded only once the log outgrew the snapshot"
    wait_for_fold(db_path)
    assert db_path.stat().st_size > snapshot_size
    stored = json.loads(db_path.read_text())["prospects"]
    assert all(stored[record["id"]] == record for record in created)
    reopened = records_of(Database(db_path))["prospects"]
    assert reopened.list(limit=100, offset=len(created)).items == listed_before.items


def test_a_fold_goes_on_beside_writes_and_a_crash_in_it_loses_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = records_of(open_database(db_path))["prospects"]
    monkeypatch.setattr(store, "MIN_LOG_BYTES", 0)
    release = threading.Event()
    real_write_snapshot = LogAndSnapshot._write_snapshot

    def slow_write_snapshot(self: LogAndSnapshot, tables: Tables, generation: str) -> None:
        assert release.wait(30)
        real_write_snapshot(self, tables, generation)

    monkeypatch.setattr(LogAndSnapshot, "_write_snapshot", slow_write_snapshot)
    before: list[dict[str, Any]] = []
    while not set_aside_log_of(db_path).exists():
        before.append(records.create({"company": f"Before {len(before)}"}))
    during = [records.create({"company": f"During {n}"}) for n in range(5)]
    assert records.get(during[0]["id"]) == during[0], "writes go on while the fold runs"
    crashed_here = records_of(Database(db_path))["prospects"]
    for record in before + during:
        assert crashed_here.get(record["id"]) == record
    release.set()
    wait_for_fold(db_path)
    stored = json.loads(db_path.read_text())["prospects"]
    assert all(record["id"] in stored for record in before)
    assert not any(record["id"] in stored for record in during), "they are in the new log"
    after_fold = records_of(Database(db_path))["prospects"]
    assert all(after_fold.get(record["id"]) == record for record in before + during)


def test_a_fold_that_failed_is_finished_by_the_next_one(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = records_of(open_database(db_path))["prospects"]
    monkeypatch.setattr(store, "MIN_LOG_BYTES", 0)
    real_write_snapshot = LogAndSnapshot._write_snapshot
    failed = threading.Event()
    created: list[dict[str, Any]] = []
    missing_while_folding_again: list[str] = []

    def full_disk_once(self: LogAndSnapshot, tables: Tables, generation: str) -> None:
        if not failed.is_set():
            failed.set()
            raise OSError(28, "No space left on device")
        # A crash now must lose nothing either: the files alone hold every acknowledged write.
        on_disk = Database(db_path).table("prospects")
        missing_while_folding_again.extend(r["id"] for r in created if r["id"] not in on_disk)
        real_write_snapshot(self, tables, generation)

    monkeypatch.setattr(LogAndSnapshot, "_write_snapshot", full_disk_once)
    while not failed.is_set():
        created.append(records.create({"company": f"Before {len(created)}"}))
    while any(thread.name == "prospect-mock fold" for thread in threading.enumerate()):
        time.sleep(0.01)
    assert set_aside_log_of(db_path).exists(), "the failed fold left its logs"
    assert all(Database(db_path).table("prospects").get(r["id"]) == r for r in created)
    while set_aside_log_of(db_path).exists():
        created.append(records.create({"company": f"After {len(created)}"}))
    assert missing_while_folding_again == []
    reopened = Database(db_path).table("prospects")
    assert all(reopened.get(record["id"]) == record for record in created)


def test_a_clean_stop_folds_the_log_into_the_file(db_path: Path) -> None:
    with TestClient(create_app(db_path), headers=AUTH) as client:
        created = client.post(PROSPECTS, json={"company": "Folded"}).json()
        assert log_entries(db_path)
    assert json.loads(db_path.read_text())["prospects"][created["id"]] == created
    assert log_entries(db_path) == []


def test_records_created_at_the_same_instant_keep_their_order_across_restarts(
    client: TestClient, db_path: Path
) -> None:
    instant = "2024-05-01T10:00:00Z"
    same_time = [
        {"id": f"prospect_tie{n}", "company": f"Tie {n}", "created_at": instant} for n in range(5)
    ]
    data = client.get("/__admin/data").json()
    for record in same_time:
        data["prospects"].append(
            {**dict.fromkeys(data["prospects"][0]), **record, "updated_at": instant}
        )
    assert client.put("/__admin/data", json=data).status_code == 200
    client.patch(f"{PROSPECTS}/prospect_tie2", json={"company": "Tie 2 renamed"})
    first = client.get(PROSPECTS, params={"limit": 100}).json()["data"]
    with TestClient(create_app(db_path), headers=AUTH) as reopened:
        assert reopened.get(PROSPECTS, params={"limit": 100}).json()["data"] == first
    ties = [record["id"] for record in first if record["created_at"] == instant]
    assert ties == [f"prospect_tie{n}" for n in reversed(range(5))], "last added first"


def test_a_version_1_file_is_read_and_written_on(db_path: Path) -> None:
    open_database(db_path)
    data = json.loads(db_path.read_text())
    data["meta"] = {"format": {"version": 1}}
    db_path.write_text(json.dumps(data))
    log_of(db_path).unlink()
    records = records_of(Database(db_path))
    created = records["prospects"].create({"company": "After upgrade"})
    assert records_of(Database(db_path))["prospects"].get(created["id"]) == created


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"meta": {"format": {"vers', "is not a JSON database file"),
        (b"\x00\x01binary", "is not a JSON database file"),
        (b"[1, 2]", "its top level is not an object"),
        (b'{"_default": {}}', f"format {FORMAT_VERSION} (it says None)"),
        (b'{"meta": {"format": {"version": 99}}}', "(it says 99)"),
        (b'{\n"meta": {\n"format": {"version": 2}\n},\n"prospects": {\n"prosp', "not a JSON"),
        (b"\xff\xfe not text", "is not a JSON database file"),
    ],
    ids=[
        "truncated",
        "binary",
        "not-an-object",
        "plain-tinydb",
        "future-version",
        "cut-short",
        "not-utf-8",
    ],
)
@pytest.mark.parametrize("read_whole_up_to", [0, storage.READ_WHOLE_UP_TO], ids=["big", "small"])
def test_a_bad_file_is_refused_and_left_untouched(
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    fragment: str,
    read_whole_up_to: int,
) -> None:
    monkeypatch.setattr(storage, "READ_WHOLE_UP_TO", read_whole_up_to)
    db_path.write_bytes(content)
    with pytest.raises(CorruptDatabaseError) as error:
        Database(db_path)
    assert str(db_path) in str(error.value) and fragment in str(error.value)
    assert db_path.read_bytes() == content


def test_an_empty_file_starts_a_new_database(db_path: Path) -> None:
    db_path.write_bytes(b"  \n")
    assert records_of(open_database(db_path))["prospects"].get("prospect_abc123")


def test_concurrent_writers_lose_nothing(db_path: Path) -> None:
    records = records_of(open_database(db_path, seed=False))
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

    reopened = records_of(Database(db_path))
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


def test_concurrent_requests_share_fsyncs_and_each_waits_for_its_own(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fdatasync = files.fdatasync

    def counted(fd: int) -> None:
        synced.append(fd)
        real_fdatasync(fd)

    monkeypatch.setattr(files, "fdatasync", counted)

    async def create_40_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(db_path))
        async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
            return await asyncio.gather(
                *(
                    http.post(PROSPECTS, json={"company": f"Batch {n}"}, headers=AUTH)
                    for n in range(40)
                )
            )

    answers = asyncio.run(create_40_at_once())
    assert [answer.status_code for answer in answers] == [201] * 40
    assert 1 <= len(synced) < 40, "one fsync covers the writes made while another ran"
    stored = Database(db_path).table("prospects")
    assert all(answer.json()["id"] in stored for answer in answers)


def test_a_refused_fsync_fails_the_request_and_memory_goes_back_to_the_disk(
    client: TestClient, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = client.get(PROSPECTS, params={"limit": 100}).json()

    def disk_error(_fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files, "fdatasync", disk_error)
    assert_problem(
        client.post(PROSPECTS, json={"company": "Never stored"}), 503, "Input/output error"
    )
    assert_problem(client.delete(f"{PROSPECTS}/prospect_abc123"), 503, "nothing was changed")
    monkeypatch.undo()
    assert client.get(PROSPECTS, params={"limit": 100}).json() == listed
    assert client.get(f"{PROSPECTS}/prospect_abc123").status_code == 200
    reopened = records_of(Database(db_path))["prospects"]
    assert reopened.list(limit=100, offset=0).total == listed["total"]


@pytest.mark.parametrize("read_whole_up_to", [0, storage.READ_WHOLE_UP_TO], ids=["big", "small"])
def test_the_file_is_plain_json_with_one_record_per_line(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, read_whole_up_to: int
) -> None:
    monkeypatch.setattr(storage, "READ_WHOLE_UP_TO", read_whole_up_to)
    opened = open_database(db_path)
    records_of(opened)["prospects"].create({"company": "Line"})
    written = [dict(record) for record in records_of(opened)["prospects"].list(100, 0).items]
    opened.close()
    lines = db_path.read_text().splitlines()
    data = json.loads("\n".join(lines))
    records = sum(len(table) for table in data.values())
    assert len(lines) == records + 2 + 2 * len(data), "an opening and closing line per table"
    reopened = records_of(Database(db_path))
    assert reopened["prospects"].list(limit=100, offset=0).items == written


def test_the_file_opens_in_tinydb(db_path: Path) -> None:
    opened = open_database(db_path)
    created = records_of(opened)["prospects"].create({"company": "Seen by TinyDB"})
    opened.close()

    class TableById(TinyTable):
        # TinyDB documents overriding the id class, and types it as int.
        document_id_class = str  # type: ignore[assignment]

    class TinyDBById(TinyDB):
        table_class = TableById

    with TinyDBById(db_path, access_mode="r") as tinydb:
        assert tinydb.table("prospects").get(doc_id=created["id"]) == created
        assert len(tinydb.table("prospect_leads")) == 59


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "indented"])
def test_a_file_laid_out_otherwise_is_read_whole(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, indent: int | None
) -> None:
    monkeypatch.setattr(storage, "READ_WHOLE_UP_TO", 0)
    open_database(db_path)
    data = json.loads(db_path.read_text())
    db_path.write_text(json.dumps(data, indent=indent))
    records = records_of(Database(db_path))
    assert records["prospects"].get("prospect_abc123")["id"] == "prospect_abc123"
    assert records["prospect_leads"].list("prospect_abc123", 20, 0).total > 0
