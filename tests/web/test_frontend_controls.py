"""What a frontend team uses to build every screen state: forced responses, delays, the
request log."""

from __future__ import annotations

import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock.cli import LatencyRange
from tests.conftest import AUTH, LEADS, OPPORTUNITIES, PROSPECTS, assert_problem
from tests.servers import running


def test_prefer_code_answers_the_documented_response_with_its_example(client: TestClient) -> None:
    response = client.get(f"{PROSPECTS}/prospect_nope", headers={"Prefer": "code=200"})
    assert response.status_code == 200
    assert response.json()["id"] == "prospect_abc123"  # the spec's example
    assert response.headers["preference-applied"] == "code=200"

    forced = client.get(f"{PROSPECTS}/prospect_abc123", headers={"Prefer": "code=404"})
    assert_problem(forced, 404)
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
        ("code=418", "it documents 200, 400, 401 and any 5XX."),
        ("code=404", "is not a response of this operation"),
        ("code=600", "it documents 200, 400, 401 and any 5XX."),
        ("code=099", "it documents 200, 400, 401 and any 5XX."),
        ("code=5XX", "it documents 200, 400, 401 and any 5XX."),
        ("example=nope", "its named examples are: page"),
        ("code=500, example=unavailable", "its named examples are: none"),
    ],
)
def test_an_undocumented_preference_is_400_naming_what_exists(
    client: TestClient, prefer: str, fragment: str
) -> None:
    assert_problem(client.get(PROSPECTS, headers={"Prefer": prefer}), 400, fragment)


@pytest.mark.parametrize(
    ("code", "title"),
    [
        *[(status.value, status.phrase) for status in HTTPStatus if status.value >= 500],
        (599, "Server Error"),  # no registered phrase: the range's own name
    ],
)
def test_prefer_code_forces_any_server_error_the_5xx_range_covers(
    client: TestClient, code: int, title: str
) -> None:
    response = client.get(PROSPECTS, headers={"Prefer": f"code={code}"})
    assert assert_problem(response, code)["title"] == title
    assert response.headers["preference-applied"] == f"code={code}"


def test_prefer_code_and_example_pick_a_server_error_of_that_status(client: TestClient) -> None:
    response = client.get(PROSPECTS, headers={"Prefer": "code=503, example=unavailable"})
    assert_problem(response, 503, "The service is unavailable; try again later.")
    assert response.headers["preference-applied"] == "code=503, example=unavailable"


def test_a_forced_or_scenario_server_error_says_nothing_of_the_mocks_storage(
    client: TestClient,
) -> None:
    """An app shows ``detail`` on its error banner: the mock's file names and disk errors are
    for its real 503 and 507 only."""
    scenario = {"operation": "prospects.list", "respond": {"status": 503}}
    assert client.post("/__admin/scenarios", json=scenario).status_code == 201
    answers = [client.get(PROSPECTS)]
    answers += [client.get(LEADS, headers={"Prefer": f"code={code}"}) for code in (503, 507)]
    for answer in answers:
        detail = assert_problem(answer, answer.status_code)["detail"]
        assert ".json" not in detail and "file system" not in detail and "disk" not in detail


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "disproved"),
    [
        ("GET", PROSPECTS, None, 401, "No API key"),  # a valid key was sent
        ("GET", f"{PROSPECTS}/prospect_abc123", None, 404, "prospect_abc123"),  # it exists
        ("GET", PROSPECTS, None, 400, "attribute"),  # a list request has no body
        ("POST", PROSPECTS, {"company": "X"}, 415, "text/plain"),  # sent as JSON
        ("POST", PROSPECTS, {"company": "X"}, 413, "1048576"),  # a few bytes
        ("POST", f"{OPPORTUNITIES}/reorder", {"parent_id": "p", "ids": []}, 409, "lead"),  # no lead
    ],
)
def test_a_forced_error_says_no_more_than_its_status(
    client: TestClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    code: int,
    disproved: str,
) -> None:
    """A forced answer stands for any request: its sentence must not claim something about
    this one (a missing key, an unknown id) that the request itself disproves."""
    response = client.request(method, path, json=body, headers={"Prefer": f"code={code}"})
    assert disproved not in assert_problem(response, code)["detail"]


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


@pytest.mark.system
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


@pytest.mark.system
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
