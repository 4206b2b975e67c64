"""The ``prospect-mock`` command as a user runs it: a real process on a real port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from prospect_mock.storage.lock import read_holder
from tests.conftest import AUTH, PROSPECTS
from tests.servers import CLI, Served, free_port, run, running, start

pytestmark = pytest.mark.system


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with running(tmp_path / "served.json") as server:
        yield server


def test_serve_answers_with_seeded_data_and_stops_cleanly_on_sigterm(served: Served) -> None:
    base, process, db = served.base, served.process, served.db
    page = httpx.get(f"{base}{PROSPECTS}", headers=AUTH).json()
    assert page["total"] >= 30 and len(page["data"]) == 20
    created = httpx.post(f"{base}{PROSPECTS}", headers=AUTH, json={"company": "Live"}).json()
    assert httpx.get(f"{base}/", follow_redirects=True).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    output = served.log.read_text()
    assert f"{base}/ui/" in output and f"{base}/api/crm/prospect" in output
    assert created["id"] in db.read_text()


@contextmanager
def serving_on_port_0(db: Path, host: str) -> Iterator[tuple[Served, str]]:
    """``serve --port 0`` with its stdout on a pipe, read as a plugin reads it: up to the
    Docs line, with no waiting for the server to answer. Yields it and its Docs URL."""
    log = db.with_suffix(".log")
    with log.open("a") as console:
        process = subprocess.Popen(
            [CLI, "serve", "--host", host, "--port", "0", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=console,
            text=True,
        )
    # Lines that are not flushed would block the read for as long as the server runs.
    watchdog = threading.Timer(30, process.kill)
    watchdog.start()
    with process:  # closes the pipe
        try:
            printed: dict[str, str] = {}
            for line in process.stdout or ():
                label, _, rest = line.strip().partition(" ")
                printed[label] = rest.split()[0] if rest else ""
                if label == "Docs:":
                    break
            watchdog.cancel()
            assert "Docs:" in printed, f"no Docs line: {printed} {log.read_text()[-2000:]}"
            api, docs = printed["API:"], printed["Docs:"]
            yield Served(api.removesuffix(PROSPECTS), process, db, log), docs
        finally:
            watchdog.cancel()
            process.kill()


def _loopback_v6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        pytest.param(
            "::1", marks=pytest.mark.skipif(not _loopback_v6(), reason="no IPv6 loopback here")
        ),
    ],
)
def test_serve_on_port_0_prints_and_announces_the_port_it_got(tmp_path: Path, host: str) -> None:
    db = tmp_path / "db.json"
    with serving_on_port_0(db, host) as (served, docs):
        assert urlsplit(served.base).hostname == host and urlsplit(served.base).port
        assert docs == f"{served.base}/ui/"
        # At once: the lines are printed only once the socket listens.
        listed = httpx.get(
            f"{served.base}{PROSPECTS}", headers={"Authorization": "Bearer sk_test_x"}
        )
        assert listed.status_code == 200, listed.text
        assert httpx.get(docs).status_code == 200
        assert read_holder(db).pid == served.process.pid
        assert read_holder(db).url == served.base, "`reset` finds the server there"


@pytest.mark.parametrize(
    ("host", "refusal"),
    [
        ("127.0.0.1", "Error: Cannot listen on 127.0.0.1:{port}: address already in use."),
        ("no-such-host.invalid", "Error: Cannot listen on no-such-host.invalid: "),
    ],
    ids=["port in use", "unknown host"],
)
def test_serve_where_it_cannot_listen_is_refused_with_one_line(
    tmp_path: Path, host: str, refusal: str
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run("serve", "--host", host, "--port", str(port), "--db", str(tmp_path / "db"))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(refusal.format(port=port)), line
    assert result.stdout == "", "no address is printed that nothing serves"


def test_a_second_server_on_the_same_file_and_port_is_told_whose_the_file_is(
    served: Served,
) -> None:
    port = str(urlsplit(served.base).port)
    result = run("serve", "--port", port, "--db", str(served.db))
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert f"process {served.process.pid}, serving {served.base}" in line, line


def test_reset_goes_back_to_the_fixtures_or_to_empty(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    assert run("reset", "--db", str(db), "--no-seed").returncode == 0
    assert json.loads(db.read_text()).keys() == {"meta"}
    result = run("reset", "--db", str(db))
    assert result.returncode == 0 and "reset to the fixtures" in result.stdout
    assert len(json.loads(db.read_text())["prospects"]) >= 30


def test_serve_refuses_a_corrupt_file_with_one_line_and_leaves_it(tmp_path: Path) -> None:
    db = tmp_path / "broken.json"
    db.write_text('{"meta": {"form')
    result = run("serve", "--db", str(db), "--port", str(free_port()))
    assert result.returncode != 0
    message = result.stderr.strip()
    assert message.startswith("Error: ") and str(db) in message and "\n" not in message
    assert db.read_text() == '{"meta": {"form'


def test_serve_refuses_a_db_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    refused = run("serve", "--port", "0", "--db", str(missing / "db.json"))
    assert refused.returncode == 2
    assert f"the folder {missing} does not exist" in refused.stderr
    assert not missing.exists(), "the typo did not become a folder"


def test_serve_refuses_a_port_in_use_before_writing_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = run("serve", "--port", str(port), "--db", str(tmp_path / "db.json"))
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and f"{port}" in refused.stderr, refused.stderr
    assert list(tmp_path.iterdir()) == [], "no database, lock or folder was made"


def test_quiet_prints_the_address_line_and_nothing_else(tmp_path: Path) -> None:
    served = start(tmp_path / "db.json", "--quiet")
    httpx.get(f"{served.base}{PROSPECTS}", headers=AUTH)
    httpx.get(f"{served.base}/api/nothing", headers=AUTH)
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    printed = served.log.read_text().splitlines()
    assert printed == [
        f"  API:  {served.base}/api/crm/prospect   (Authorization: Bearer sk_test_...)"
    ]


def test_the_banner_shows_the_key_the_server_accepts(tmp_path: Path) -> None:
    with running(tmp_path / "db.json", "--api-key", "sk_live_team") as served:
        banner = served.log.read_text()
        assert "Authorization: Bearer sk_live_team)" in banner
        assert httpx.get(f"{served.base}{PROSPECTS}", headers=AUTH).status_code == 401


def test_every_serve_and_proxy_option_reads_the_environment(tmp_path: Path) -> None:
    for command in ("serve", "proxy", "reset"):
        shown = run(command, "--help")
        assert "PROSPECT_MOCK_DB" in shown.stdout, command
    assert "PROSPECT_MOCK_UPSTREAM" in run("proxy", "--help").stdout
    environment = {
        **os.environ,
        "PROSPECT_MOCK_PORT": str(free_port()),
        "PROSPECT_MOCK_DB": str(tmp_path / "from-env.json"),
        "PROSPECT_MOCK_API_KEY": "key-one key-two",
        "PROSPECT_MOCK_SEED_COUNT": "3",
    }
    with subprocess.Popen(
        [CLI, "serve"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline() + process.stdout.readline()
            assert "from-env.json" in banner
            assert "Bearer key-one   (or one of the 1 other keys)" in banner
            base = f"http://127.0.0.1:{environment['PROSPECT_MOCK_PORT']}"
            listed = httpx.get(f"{base}{PROSPECTS}", headers={"Authorization": "Bearer key-two"})
            assert listed.json()["total"] == 3
            assert httpx.get(f"{base}{PROSPECTS}", headers=AUTH).status_code == 401
        finally:
            process.kill()


def test_every_file_a_database_makes_is_ignored_by_git_and_removed_by_make_clean(
    tmp_path: Path,
) -> None:
    top = Path(__file__).parents[2]
    shutil.copy(top / ".gitignore", tmp_path)
    shutil.copy(top / "Makefile", tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    served = start(tmp_path / "prospect-mock.json")
    httpx.put(f"{served.base}/__admin/workspaces/one", headers=AUTH)
    httpx.post(f"{served.base}/ws/one{PROSPECTS}", headers=AUTH, json={"company": "Kept"})
    served.process.kill()  # a crash leaves the log and the lock beside the snapshot
    served.process.wait()
    served.log.unlink()  # the test's record of the server's console, not the server's
    (tmp_path / ".prospect-mock.json.1a2b.tmp").write_text("left by a crash mid-fold")
    made = {p.name for p in tmp_path.iterdir()} - {".git", ".gitignore", "Makefile"}
    assert {
        "prospect-mock.json.wal",
        "prospect-mock.json.lock",
        "prospect-mock.json.workspaces",
    } <= made
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert sorted(filter(None, status)) == ["?? .gitignore", "?? Makefile"]
    subprocess.run(["make", "-s", "clean"], cwd=tmp_path, check=True)
    assert {p.name for p in tmp_path.iterdir()} == {".git", ".gitignore", "Makefile"}


def test_make_serve_installs_only_what_serving_needs(tmp_path: Path) -> None:
    top = Path(__file__).parents[2]
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(top / name, tmp_path)
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pip install --quiet --editable .\n" in planned
    assert "[test]" not in planned, "the test tools come with make install, not make serve"
    assert planned.rstrip().endswith("prospect-mock serve")
