"""The ``prospect-mock`` command as a user runs it: a real process on a real port."""

from __future__ import annotations

import json
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

from prospect_mock.lock import read_holder

from .conftest import AUTH, PROSPECTS
from .servers import CLI, Served, free_port, run, running


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
            [CLI, "serve", "--host", host, "--port", "0", "--db", str(db), "--quiet"],
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
