"""The ``prospect-mock`` command as a user runs it: a real process on a real port."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from .conftest import AUTH, PROSPECTS
from .servers import Served, free_port, run, running


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


def test_check_passes_against_the_mock_and_writes_junit(served: Served, tmp_path: Path) -> None:
    base = served.base
    junit = tmp_path / "contract.xml"
    result = run("check", base, "--max-examples", "10", "--junit", str(junit))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "15 selected" in result.stdout or "Selected: 15/15" in result.stdout
    assert 'failures="0"' in junit.read_text()


def broken_backend() -> Starlette:
    """A backend that lists prospects with ``total`` as a string: a contract violation."""

    async def list_prospects(_request: object) -> JSONResponse:
        return JSONResponse({"data": [], "has_more": False, "total": "none"})

    return Starlette(routes=[Route("/api/crm/prospect", list_prospects)])


def test_check_fails_against_a_backend_that_breaks_the_contract(tmp_path: Path) -> None:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(broken_backend(), port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        result = run("check", f"http://127.0.0.1:{port}", "--max-examples", "5")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert result.returncode != 0
    assert "GET /api/crm/prospect" in result.stdout
    assert "Response violates schema" in result.stdout
    assert '"none" is not of type "integer"' in result.stdout
    assert "/components/schemas/ProspectList/properties/total" in result.stdout
    assert "curl -X GET" in result.stdout
