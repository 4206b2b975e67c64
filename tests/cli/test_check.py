"""``prospect-mock check`` as a user runs it: a real process against real servers. It passes
only where it tested the server, and says in one line why it could not."""

from __future__ import annotations

import socket
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from prospect_mock import create_app
from prospect_mock.cli import SCHEMATHESIS_CONFIG
from prospect_mock.contract.documents import load_admin_spec, load_spec
from prospect_mock.domain.seeding import load_fixtures
from tests.servers import free_port, run, running

pytestmark = pytest.mark.system

# Few examples: these tests are about what `check` concludes, not about the contract.
FEW = ("--max-examples", "5")


def test_check_passes_against_the_mock_without_a_warning_and_writes_junit(
    tmp_path: Path,
) -> None:
    junit = tmp_path / "contract.xml"
    with running(tmp_path / "db.json") as mock:
        result = run("check", mock.base, "--max-examples", "10", "--junit", str(junit))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Selected: 15/15" in result.stdout
    assert "WARNINGS" not in result.stdout, result.stdout[result.stdout.find("WARNINGS") :]
    assert "No issues found" in result.stdout
    assert 'failures="0"' in junit.read_text()


def test_check_fails_with_one_sentence_when_every_operation_refuses_the_key(
    tmp_path: Path,
) -> None:
    with running(tmp_path / "db.json", "--api-key", "sk_live_rotated") as server:
        result = run("check", server.base, "--api-key", "sk_live_before_rotation", *FEW)
    assert result.returncode == 3, result.stdout[-3000:]
    assert result.stderr == (
        "Error: Every operation answered 401 or 403, so nothing was tested: is the key right? "
        "Give the server's key with --api-key KEY.\n"
    )


def refusing_deletes(app: ASGIApp) -> ASGIApp:
    """``app``, but every DELETE is refused as a server refuses a key that may not delete."""
    refusal = JSONResponse(
        {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "No."},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
        media_type="application/problem+json",
    )

    async def refuse_deletes(scope: Scope, receive: Receive, send: Send) -> None:
        answer = refusal if scope["type"] == "http" and scope["method"] == "DELETE" else app
        await answer(scope, receive, send)

    return refuse_deletes


def test_check_names_the_operations_that_refused_the_key_and_does_not_pass(
    tmp_path: Path,
) -> None:
    with serving(refusing_deletes(create_app(tmp_path / "db.json"))) as base:
        result = run("check", base, *FEW)
    assert result.returncode == 3, result.stdout[-3000:]
    assert result.stderr == (
        "Error: 3 of 15 operations answered only 401 or 403, so they were not tested: "
        "DELETE /api/crm/prospect-lead/{id}, DELETE /api/crm/prospect-opportunity/{id}, "
        "DELETE /api/crm/prospect/{id}. Give a key they accept with --api-key KEY.\n"
    )


def test_check_of_a_server_that_is_not_there_fails_at_once_with_one_line() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    result = run("check", base)
    assert time.monotonic() - started < 10, "no Schemathesis run, no retries"
    assert result.returncode == 3
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: Cannot reach {base} ("), line
    assert line.endswith("); nothing was tested."), line


def test_check_of_a_server_that_never_answers_gives_up_within_seconds() -> None:
    # Connections are queued by the kernel, and never answered.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        base = f"http://127.0.0.1:{silent.getsockname()[1]}"
        result = run("check", base)
    assert result.returncode == 3
    assert result.stderr == f"Error: {base} did not answer within 5 s; nothing was tested.\n"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "127.0.0.1:8000",
            "is not an http:// or https:// URL; did you mean http://127.0.0.1:8000?",
        ),
        ("ftp://127.0.0.1:8000", "is not an http:// or https:// URL"),
        ("http://", "names no host"),
        ("http://127.0.0.1:80000", "has a port that is not a number from 0 to 65535"),
    ],
    ids=["no scheme", "not http", "no host", "bad port"],
)
def test_check_refuses_what_is_not_a_base_url_with_its_own_usage_error(
    url: str, problem: str
) -> None:
    result = run("check", url)
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: prospect-mock check [OPTIONS] BASE_URL\n")
    *_, error = result.stderr.splitlines()
    assert error == f"Error: Invalid value for 'BASE_URL': '{url}' {problem}"


def test_each_project_of_schemathesis_toml_is_a_contract_by_its_title() -> None:
    """Schemathesis picks a [[project]] by the document's info.title: a contract renamed
    without it would lose its settings without a word."""
    projects = tomllib.loads(SCHEMATHESIS_CONFIG.read_text())["project"]
    titles = [spec["info"]["title"] for spec in (load_spec(), load_admin_spec())]
    assert sorted(project["title"] for project in projects) == sorted(titles)


def test_the_prospects_that_schemathesis_toml_names_have_no_line_items() -> None:
    """A reorder of such a prospect is complete with no ids: the one Schemathesis can send."""
    config = tomllib.loads(SCHEMATHESIS_CONFIG.read_text())
    named = set(config["dictionaries"]["prospects-without-line-items"]["values"])
    fixtures = load_fixtures()
    assert named <= {prospect["id"] for prospect in fixtures["prospects"]}
    for kind in ("prospect_leads", "prospect_opportunities"):
        assert not named & {item["prospect_id"] for item in fixtures[kind]}, kind


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """``app`` on a free port, in this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def broken_backend() -> Starlette:
    """A backend that lists prospects with ``total`` as a string: a contract violation."""

    async def list_prospects(_request: object) -> JSONResponse:
        return JSONResponse({"data": [], "has_more": False, "total": "none"})

    return Starlette(routes=[Route("/api/crm/prospect", list_prospects)])


def test_check_fails_against_a_backend_that_breaks_the_contract() -> None:
    with serving(broken_backend()) as base:
        result = run("check", base, *FEW)
    assert result.returncode == 1
    assert "GET /api/crm/prospect" in result.stdout
    assert "Response violates schema" in result.stdout
    assert '"none" is not of type "integer"' in result.stdout
    assert "/components/schemas/ProspectList/properties/total" in result.stdout
    assert "curl -X GET" in result.stdout
