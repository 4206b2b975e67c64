"""The ``prospect-mock`` command as a user runs it: a real process on a real port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from prospect_mock.database import Database

from .conftest import AUTH, PROSPECTS

CLI = str(Path(sys.executable).with_name("prospect-mock"))
PROJECT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start within 30 s")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    port, db = free_port(), tmp_path / "served.json"
    process = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, base)
        yield base, process, db
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_answers_with_seeded_data_and_stops_cleanly_on_sigterm(served) -> None:
    base, process, db = served
    page = httpx.get(f"{base}{PROSPECTS}", headers=AUTH).json()
    assert page["total"] >= 30 and len(page["data"]) == 20
    created = httpx.post(f"{base}{PROSPECTS}", headers=AUTH, json={"company": "Live"}).json()
    assert httpx.get(f"{base}/", follow_redirects=True).status_code == 200
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"{base}/ui/" in output and f"{base}/api/crm/prospect" in output
    assert created["id"] in db.read_text()


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


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


def test_a_wheel_install_works_from_any_directory(tmp_path: Path) -> None:
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(PROJECT)], check=True)
    (wheel,) = wheels.glob("prospect_mock-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    script = (
        "import prospect_mock, prospect_mock.cli as cli; "
        "print(prospect_mock.__file__); cli.main(['reset', '--db', 'db.json'])"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(target))
    records = Database(elsewhere / "db.json")
    with records.transaction() as db:
        assert len(db.table("prospects")) >= 30
    for shipped in ("openapi.yaml", "fixtures/prospects.json", "handlers/prospects.py"):
        assert (target / "prospect_mock" / shipped).is_file(), shipped
