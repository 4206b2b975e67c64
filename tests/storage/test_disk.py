"""The store on real disks, as CI treats a mock: a second server, a reset while serving, a
full disk (a small tmpfs), read-only files and folders (``chattr +i``, a read-only mount).

Mounting and ``chattr`` need root (CI runs as root); where they are refused, the test is
skipped with the reason.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.domain.seeding import EMPTY
from prospect_mock.storage import log_and_snapshot as store
from tests.conftest import AUTH, PROSPECTS, assert_problem
from tests.faulty_disk import state_of, state_on_disk, wait_for_folds
from tests.servers import Served, run, running, start

pytestmark = pytest.mark.system


def _root_command(*command: str) -> None:
    if shutil.which(command[0]) is None:
        pytest.skip(f"needs {command[0]}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"`{' '.join(command)}` was refused: {result.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of our own."""
    mount = tmp_path / "disk"
    mount.mkdir()
    _root_command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount))
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; return the filler, to delete to make room."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as file:
        for size in (65536, 4096, 1):
            try:
                while file.write(b"\0" * size):
                    pass
            except OSError:
                pass
    return filler


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """No one, root included, may change ``path`` (or, for a folder, its entries)."""
    _root_command("chattr", "+i", str(path))
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def create(served: Served, name: str) -> httpx.Response:
    return httpx.post(f"{served.base}{PROSPECTS}", json={"company": name}, headers=AUTH)


def prospect_ids(served: Served) -> set[str]:
    page = httpx.get(f"{served.base}{PROSPECTS}", params={"limit": 100}, headers=AUTH).json()
    return {record["id"] for record in page["data"]}


def test_a_second_server_on_the_same_database_is_refused_and_a_killed_one_leaves_no_lock(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.json"
    with running(db, "--quiet") as first:
        second = run("serve", "--port", "0", "--db", str(db))
        assert second.returncode != 0
        [line] = second.stderr.strip().splitlines()
        assert str(db) in line and f"process {first.process.pid}" in line, line
        assert first.base in line, "it says where the holder serves"
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    with running(db, "--quiet") as after_a_kill:
        assert create(after_a_kill, "Served again").status_code == 201


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_the_readme_ci_recipe_resets_a_running_server(tmp_path: Path, stop: signal.Signals) -> None:
    # "Between suites, put the data back": prospect-mock reset --db FILE, the server running.
    db = tmp_path / "mock.json"
    with running(db, "--quiet") as server:
        fixtures = prospect_ids(server)
        created = create(server, "Made by a suite").json()["id"]
        httpx.delete(f"{server.base}{PROSPECTS}/prospect_abc123", headers=AUTH)
        reset = run("reset", "--db", str(db))
        assert reset.returncode == 0, reset.stderr
        assert f"by the server at {server.base}" in reset.stdout
        assert prospect_ids(server) == fixtures, "the running server serves the reset data"
        after_reset = create(server, "Made after the reset").json()["id"]
        server.process.send_signal(stop)
        server.process.wait()
    with running(db, "--quiet") as restarted:
        assert prospect_ids(restarted) == fixtures | {after_reset}
        assert created not in prospect_ids(restarted)


def test_reset_of_a_running_server_says_what_to_run_where_it_cannot_reach_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.json"
    with running(db, "--quiet") as server:
        generated = run("reset", "--db", str(db), "--seed-count", "10")
        assert generated.returncode != 0
        [line] = generated.stderr.strip().splitlines()
        assert "stop that server" in line and server.base in line, line
        emptied = run("reset", "--db", str(db), "--no-seed")
        assert emptied.returncode == 0 and "emptied by the server" in emptied.stdout
        assert prospect_ids(server) == set()


def test_a_full_disk_answers_507_changes_nothing_and_writes_resume_without_a_restart(
    small_disk: Path,
) -> None:
    db = small_disk / "db.json"
    with running(db, "--quiet") as server:
        acknowledged = {create(server, "Before").json()["id"]}
        filler = fill(small_disk)
        # The log's last page may still hold a write or two.
        for n in range(50):
            answer = create(server, f"On a full disk {n}")
            if answer.status_code != 201:
                break
            acknowledged.add(answer.json()["id"])
        assert_problem(answer, 507, f"The disk holding {db} is full; nothing was changed.")
        listed = prospect_ids(server)
        assert_problem(httpx.post(f"{server.base}/__admin/reset", headers=AUTH), 507)
        assert prospect_ids(server) == listed, "refused writes changed nothing"
        filler.unlink()
        acknowledged.add(create(server, "Once there is room").json()["id"])
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    with running(db, "--quiet") as restarted:
        assert acknowledged <= prospect_ids(restarted)
        assert not (set(prospect_ids(restarted)) - listed - acknowledged)


def test_a_new_database_on_a_full_or_read_only_disk_is_refused_with_one_line(
    small_disk: Path,
) -> None:
    fill(small_disk)
    new = small_disk / "new.json"
    for command in (["serve", "--port", "0"], ["reset"]):
        refused = run(*command, "--db", str(new))
        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            f"Error: The disk holding {new} is full; nothing was changed."
        ]
    (small_disk / "filler").unlink()
    _root_command("mount", "-o", "remount,ro", str(small_disk))
    refused = run("serve", "--db", str(small_disk / "new.json"), "--port", "0")
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "Read-only file system" in line and "Traceback" not in refused.stderr


def test_sigterm_on_a_full_disk_exits_with_one_line_and_the_log_keeps_every_write(
    small_disk: Path,
) -> None:
    db = small_disk / "db.json"
    server = start(db, "--quiet")
    created = create(server, "Only in the log").json()["id"]
    filler = fill(small_disk)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    console = server.log.read_text()
    assert "Traceback" not in console
    [line] = [line for line in console.splitlines() if "Could not fold" in line]
    assert "the log still holds every acknowledged write" in line
    filler.unlink()
    with running(db, "--quiet") as restarted:
        assert created in prospect_ids(restarted)


def test_read_only_files_refuse_a_reset_with_503_and_change_nothing(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    with running(db, "--quiet") as server:
        created = create(server, "Kept").json()["id"]
        listed = prospect_ids(server)
        with immutable(db):
            reset = httpx.post(f"{server.base}/__admin/reset", headers=AUTH)
            assert_problem(reset, 503, "cannot be written", "nothing was changed")
            assert prospect_ids(server) == listed
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
    with running(db, "--quiet") as restarted:
        assert prospect_ids(restarted) == listed and created in listed


def test_a_fold_in_a_read_only_folder_never_touches_the_live_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # In process, so that the log outgrows the snapshot after one write.
    monkeypatch.setattr(store, "MIN_LOG_BYTES", 0)
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "db.json"
    app = create_app(db, seed=EMPTY)
    TestClient(app, headers=AUTH).post(PROSPECTS, json={"company": "In the snapshot"})
    with immutable(folder), TestClient(app, headers=AUTH) as client:
        for n in range(5):
            answer = client.post(PROSPECTS, json={"company": f"Folder frozen {n}"})
            assert answer.status_code == 201
            wait_for_folds()
            assert state_of(client) == state_on_disk(db), "a crash now loses nothing"
        acknowledged = state_of(client)
        # Leaving stops the app cleanly: its fold cannot rename either.
    assert "Could not fold" in caplog.text
    with TestClient(create_app(db, seed=EMPTY), headers=AUTH) as restarted:
        assert state_of(restarted) == acknowledged


def test_reset_of_a_server_with_its_own_keys_needs_one_of_them(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    with running(db, "--quiet", "--api-key", "team-key") as server:
        refused = run("reset", "--db", str(db))
        assert refused.returncode == 1
        [line] = refused.stderr.strip().splitlines()
        assert f"The server at {server.base} refused the reset" in line, line
        accepted = run("reset", "--db", str(db), "--api-key", "team-key")
        assert accepted.returncode == 0, accepted.stderr
