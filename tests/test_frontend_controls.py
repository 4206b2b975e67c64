"""What a frontend team uses to build every screen state: forced responses, delays, the
request log."""

from __future__ import annotations

import threading
from pathlib import Path

import click
import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock.cli import LatencyRange

from .conftest import AUTH, LEADS, PROSPECTS, assert_problem
from .servers import running


def test_prefer_code_answers_the_documented_response_with_its_example(client: TestClient) -> None:
    response = client.get(f"{PROSPECTS}/prospect_nope", headers={"Prefer": "code=200"})
    assert response.status_code == 200
    assert response.json()["id"] == "prospect_abc123"  # the spec's example
    assert response.headers["preference-applied"] == "code=200"

    forced = client.get(f"{PROSPECTS}/prospect_abc123", headers={"Prefer": "code=404"})
    assert_problem(forced, 404, "No prospect has the id")
    assert forced.headers["preference-applied"] == "code=404"


def test_prefer_example_picks_a_named_example(client: TestClient) -> None:
    response = client.get(PROSPECTS, headers={"Prefer": "example=page"})
    assert response.status_code == 200
    assert response.json()["total"] == 1 and response.json()["data"][0]["id"] == "prospect_abc123"
    combined = client.post(
        PROSPECTS, json={"company": "X"}, headers={"Prefer": "code=201, example=created"}
    )
    assert combined.status_code == 201 and combined.json()["company"] == "Example Corp"


@pytest.mark.parametrize(
    ("prefer", "fragment"),
    [
        ("code=418", "it documents 200, 400, 401"),
        ("code=404", "is not a response of this operation"),
        ("example=nope", "its named examples are: page"),
    ],
)
def test_an_undocumented_preference_is_400_naming_what_exists(
    client: TestClient, prefer: str, fragment: str
) -> None:
    assert_problem(client.get(PROSPECTS, headers={"Prefer": prefer}), 400, fragment)


def test_a_forced_response_changes_no_data(client: TestClient) -> None:
    before = client.get(PROSPECTS, params={"limit": 100}).json()
    client.post(PROSPECTS, json={"company": "X"}, headers={"Prefer": "code=201"})
    client.delete(f"{PROSPECTS}/prospect_abc123", headers={"Prefer": "code=200"})
    client.post(
        LEADS, json={"prospect_id": "prospect_abc123", "lead": "L"}, headers={"Prefer": "code=201"}
    )
    assert client.get(PROSPECTS, params={"limit": 100}).json() == before


def test_auth_and_validation_come_before_a_forced_response(client: TestClient) -> None:
    forced_ok = {"Prefer": "code=200"}
    assert_problem(client.get(PROSPECTS, params={"limit": 0}, headers=forced_ok), 400, "'limit'")
    no_key = {**forced_ok, "Authorization": ""}
    assert_problem(client.get(PROSPECTS, headers=no_key), 401)


def test_the_admin_api_ignores_forced_responses(client: TestClient) -> None:
    client.delete(f"{PROSPECTS}/prospect_abc123")
    response = client.post("/__admin/reset", headers={"Prefer": "code=400"})
    assert response.status_code == 200 and "preference-applied" not in response.headers
    assert client.get(f"{PROSPECTS}/prospect_abc123").status_code == 200


def test_a_forced_401_says_how_to_authenticate(client: TestClient) -> None:
    response = client.get(PROSPECTS, headers={"Prefer": "code=401"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("delay", ["-1", "30001", "soon", "1.5"])
def test_a_bad_delay_is_400(client: TestClient, delay: str) -> None:
    response = client.get(PROSPECTS, headers={"Prefer": f"delay={delay}"})
    assert_problem(response, 400, "Prefer: delay must be a whole number of milliseconds")


def test_a_delayed_request_does_not_hold_up_others(tmp_path: Path) -> None:
    with running(tmp_path / "db.json", "--quiet") as server:
        slow_done = threading.Event()

        def slow() -> None:
            headers = {**AUTH, "Prefer": "delay=3000"}
            assert httpx.get(f"{server.base}{PROSPECTS}", headers=headers, timeout=30).is_success
            slow_done.set()

        thread = threading.Thread(target=slow)
        thread.start()
        for _ in range(5):
            assert httpx.get(f"{server.base}{PROSPECTS}", headers=AUTH, timeout=30).is_success
        assert not slow_done.is_set(), "five quick requests finished while the slow one waited"
        thread.join()
        assert slow_done.is_set()


@pytest.mark.parametrize(
    ("text", "bounds"), [("0", (0, 0)), ("250", (250, 250)), ("100-800", (100, 800))]
)
def test_latency_takes_a_value_or_a_range(text: str, bounds: tuple[int, int]) -> None:
    assert LatencyRange().convert(text, None, None) == bounds


@pytest.mark.parametrize("text", ["fast", "800-100", "-5", "0-30001", "1.5"])
def test_latency_refuses_what_is_not_a_range(text: str) -> None:
    with pytest.raises(click.BadParameter):
        LatencyRange().convert(text, None, None)


def test_serve_logs_one_line_per_request_unless_quiet(tmp_path: Path) -> None:
    with running(tmp_path / "loud.json") as server:
        httpx.get(f"{server.base}{PROSPECTS}?limit=2", headers=AUTH)
        httpx.get(f"{server.base}{PROSPECTS}/nope", headers=AUTH)
        server.process.terminate()
        server.process.wait()
    log = server.log.read_text()
    assert "GET /api/crm/prospect?limit=2 200 " in log and " ms" in log
    assert "GET /api/crm/prospect/nope 404 " in log
    with running(tmp_path / "quiet.json", "--quiet") as server:
        httpx.get(f"{server.base}{PROSPECTS}", headers=AUTH)
        server.process.terminate()
        server.process.wait()
    assert "GET /api/crm/prospect" not in server.log.read_text()
