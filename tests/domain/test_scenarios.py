"""Scenarios: a test makes the server answer what the contract allows (a documented answer,
a fault, the real answer late), over real HTTP through the package's pytest plugin; and a
scenario that would break the contract is refused with the rule named."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import schemathesis
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.contract.responses import exact_responses, operations
from prospect_mock.pytest_plugin import MockWorkspace
from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem

ANY_PROSPECT = f"{PROSPECTS}/prospect_abc123"
NOT_FOUND = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Gone."}


def refused(client: TestClient, definition: dict[str, Any], *fragments: str) -> None:
    response = client.post("/__admin/scenarios", json=definition)
    assert_problem(response, 400, *fragments)
    assert client.get("/__admin/scenarios").json()["total"] == 0


@pytest.mark.system
def test_respond_answers_the_documented_example(prospect_mock: MockWorkspace) -> None:
    scenario = prospect_mock.scenario("prospects.list", respond={"status": 503})
    answer = prospect_mock.http.get(PROSPECTS)
    assert answer.status_code == 503
    assert answer.headers["x-mock-scenario"] == scenario["id"]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The service is unavailable; try again later.",
    }
    [entry] = prospect_mock.requests(operation="prospects.list")
    assert entry["scenario"] == scenario["id"] and entry["status"] == 503


@pytest.mark.system
def test_respond_answers_a_named_example(prospect_mock: MockWorkspace) -> None:
    prospect_mock.scenario("prospects.list", respond={"status": 200, "example": "page"})
    page = prospect_mock.http.get(PROSPECTS).json()
    documented = exact_responses("prospects.list")["200"].example("page")
    assert page == documented


@pytest.mark.system
def test_respond_answers_a_body_that_keeps_the_contract(prospect_mock: MockWorkspace) -> None:
    body = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Gone."}
    headers = {"Retry-After": "3"}
    prospect_mock.scenario(
        "prospects.get", respond={"status": 404, "body": body, "headers": headers}
    )
    answer = prospect_mock.http.get(ANY_PROSPECT)
    assert (answer.status_code, answer.json(), answer.headers["retry-after"]) == (404, body, "3")


@pytest.mark.system
def test_a_server_error_the_contract_covers_with_5xx_is_allowed(
    prospect_mock: MockWorkspace,
) -> None:
    prospect_mock.scenario("prospects.delete", respond={"status": 500})
    answer = prospect_mock.http.delete(ANY_PROSPECT)
    assert_problem(answer, 500)
    assert answer.json()["title"] == "Internal Server Error"
    assert prospect_mock.http.get(ANY_PROSPECT).status_code == 200, "nothing was deleted"


@pytest.mark.system
def test_a_scenario_answer_changes_no_data(prospect_mock: MockWorkspace) -> None:
    prospect_mock.scenario("prospects.create", respond={"status": 201})
    created = prospect_mock.http.post(PROSPECTS, json={"company": "Never stored"})
    assert created.status_code == 201
    assert prospect_mock.http.get(PROSPECTS).json()["total"] == 35


@pytest.mark.parametrize(
    ("definition", "fragments"),
    [
        (
            {"operation": "prospects.list", "respond": {"status": 418}},
            ("prospects.list does not document the status 418", "200, 400, 401, 5XX"),
        ),
        (
            {"operation": "prospects.get", "respond": {"status": 200, "body": {"id": "x"}}},
            ("breaks the contract of the 200 response of prospects.get", "is required"),
        ),
        (
            {
                "operation": "prospects.get",
                "respond": {"status": 404, "body": {**NOT_FOUND, "detail": 4}},
            },
            ("breaks the contract", "'detail' must be a string"),
        ),
        (
            {"operation": "prospects.list", "respond": {"status": 200, "example": "nope"}},
            ("no example 'nope'", "page"),
        ),
        (
            {"operation": "prospects.list", "match": {"path": {"id": "x"}}, "delay_ms": 1},
            ("prospects.list has no path parameter 'id'",),
        ),
        (
            {"operation": "prospects.get", "match": {"query": {"limit": 1}}, "delay_ms": 1},
            ("prospects.get has no query parameter 'limit'",),
        ),
        (
            {"operation": "prospects.list", "match": {"body": {"a": 1}}, "delay_ms": 1},
            ("prospects.list takes no request body",),
        ),
        (
            {
                "operation": "prospects.list",
                "respond": {"status": 200, "headers": {"Content-Type": "x"}},
            },
            ("may not set Content-Type",),
        ),
        ({"operation": "prospects.list"}, ("needs one of: respond, fault, delay_ms",)),
        (
            {"operation": "prospects.list", "respond": {"status": 503}, "fault": "timeout"},
            ("may not have respond and fault together",),
        ),
        ({"operation": "prospect.list", "delay_ms": 1}, ("must be one of",)),
        ({"operation": "prospects.list", "fault": "explode"}, ("must be one of",)),
    ],
)
def test_a_scenario_the_contract_does_not_allow_is_refused(
    client: TestClient, definition: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    refused(client, definition, *fragments)


@pytest.mark.parametrize(
    ("headers", "fragments"),
    [
        pytest.param(
            {"X-Injected": "a\r\nSet-Cookie: x=1"}, ("X-Injected", "U+000D"), id="crlf-value"
        ),
        pytest.param({"X-Bad": "a\nb"}, ("X-Bad", "U+000A"), id="lf-value"),
        pytest.param({"X-Nul": "a\x00b"}, ("X-Nul", "U+0000"), id="nul-value"),
        pytest.param({"X-Accent": "caf\u00e9"}, ("X-Accent", "U+00E9"), id="non-ascii-value"),
        pytest.param(
            {"X-Padded": " 5"}, ("X-Padded", "starts with a space or tab"), id="leading-space"
        ),
        pytest.param(
            {"X-Padded": "5\t"}, ("X-Padded", "ends with a space or tab"), id="trailing-tab"
        ),
        pytest.param(
            {"X Space": "1"}, ("'X Space'", "U+0020", "RFC 9110 token"), id="space-in-name"
        ),
        pytest.param({"X-Nul\x00": "1"}, ("'X-Nul\\x00'", "U+0000"), id="nul-in-name"),
        pytest.param(
            {"X-Split\r\nSet-Cookie": "1"},
            ("'X-Split\\r\\nSet-Cookie'", "U+000D"),
            id="crlf-in-name",
        ),
        pytest.param({"": "1"}, ("''", "it is empty"), id="empty-name"),
        pytest.param({"X-Caf\u00e9": "1"}, ("'X-Caf\\xe9'", "U+00E9"), id="non-ascii-name"),
        pytest.param({"X-" + "a" * 99: "1"}, ("it has 101 characters",), id="long-name"),
        pytest.param(
            {"Connection": "close"}, ("may not set Connection", "hop-by-hop"), id="connection"
        ),
        pytest.param(
            {"keep-alive": "timeout=5"}, ("may not set keep-alive", "hop-by-hop"), id="keep-alive"
        ),
        pytest.param(
            {"Proxy-Connection": "close"}, ("may not set Proxy-Connection",), id="proxy-connection"
        ),
        pytest.param(
            {"Transfer-Encoding": "chunked"},
            ("may not set Transfer-Encoding",),
            id="transfer-encoding",
        ),
        pytest.param({"TE": "trailers"}, ("may not set TE",), id="te"),
        pytest.param({"Trailer": "X-Sum"}, ("may not set Trailer",), id="trailer"),
        pytest.param({"UPGRADE": "websocket"}, ("may not set UPGRADE",), id="upgrade"),
        pytest.param({"Content-Length": "0"}, ("may not set Content-Length",), id="content-length"),
        pytest.param(
            {"x-mock-scenario": "scenario_0"},
            ("may not set x-mock-scenario",),
            id="x-mock-scenario",
        ),
        pytest.param(
            {"Retry-After": "3", "X-Bad\x00": "1"}, ("'X-Bad\\x00'",), id="second-header-bad"
        ),
    ],
)
def test_a_header_outside_http_grammar_or_set_by_the_server_is_refused(
    client: TestClient, headers: dict[str, str], fragments: tuple[str, ...]
) -> None:
    definition = {"operation": "prospects.list", "respond": {"status": 503, "headers": headers}}
    response = client.post("/__admin/scenarios", json=definition)
    detail = assert_problem(response, 400, "respond.headers", *fragments)["detail"]
    assert detail.isprintable() and detail.isascii(), "the offending header is quoted safely"
    assert client.get("/__admin/scenarios").json() == {"data": [], "total": 0}


@pytest.mark.system
def test_legal_headers_reach_the_client_as_given(prospect_mock: MockWorkspace) -> None:
    headers = {"Retry-After": "5", "X-Custom": "a b\tc", "X-Empty": "", "X-!#$%&'*+.^_`|~": "~"}
    scenario = prospect_mock.scenario("prospects.list", respond={"status": 503, "headers": headers})
    answer = prospect_mock.http.get(PROSPECTS)
    assert answer.status_code == 503
    assert {name: answer.headers[name] for name in headers} == headers
    [entry] = prospect_mock.requests(operation="prospects.list")
    assert (entry["status"], entry["scenario"]) == (503, scenario["id"])


MATCH_BODY_LIMIT = 64 * 1024
COMPANY_AT_THE_LIMIT = "x" * (MATCH_BODY_LIMIT - len('{"company":""}'))


def test_a_match_body_is_at_most_64_kib_of_compact_json(client: TestClient) -> None:
    def definition(company: str) -> dict[str, Any]:
        return {
            "operation": "prospects.create",
            "match": {"body": {"company": company}},
            "delay_ms": 1,
        }

    refused(client, definition(COMPANY_AT_THE_LIMIT + "x"), "match.body", "65,537 bytes", "64 KiB")
    # Non-ASCII characters count by their UTF-8 bytes, not by escapes.
    refused(client, definition(COMPANY_AT_THE_LIMIT[:-1] + "\u00e9"), "65,537 bytes")
    assert (
        client.post("/__admin/scenarios", json=definition(COMPANY_AT_THE_LIMIT)).status_code == 201
    )


def test_every_documented_answer_conforms_to_the_contract(db_path: Path) -> None:
    """Whatever status a scenario may answer, its answer passes Schemathesis' response checks."""
    app = create_app(db_path)
    contract = schemathesis.openapi.from_asgi("/openapi.json", app)
    client = TestClient(app, headers=AUTH)
    prospect = client.post(PROSPECTS, json={"company": "P"}).json()["id"]
    lead = client.post(LEADS, json={"prospect_id": prospect, "lead": "L"}).json()["id"]
    requests = {
        "prospects.list": ("GET", PROSPECTS, None),
        "prospects.create": ("POST", PROSPECTS, {"company": "C"}),
        "prospects.update": ("PATCH", f"{PROSPECTS}/{prospect}", {}),
        "prospect_leads.reorder": (
            "POST",
            f"{LEADS}/reorder",
            {"parent_id": prospect, "ids": [lead]},
        ),
        "prospect_leads.delete": ("DELETE", f"{LEADS}/{lead}", None),
    }
    checked = 0
    for operation, (method, path, body) in requests.items():
        for status in [*exact_responses(operation), "500", "502", "503", "507"]:
            client.delete("/__admin/scenarios")
            created = client.post(
                "/__admin/scenarios",
                json={"operation": operation, "respond": {"status": int(status)}},
            )
            assert created.status_code == 201, created.text
            answer = client.request(method, path, json=body)
            assert answer.status_code == int(status) and "x-mock-scenario" in answer.headers
            template = next(
                t
                for t, item in contract.raw_schema["paths"].items()
                for op in item.values()
                if isinstance(op, dict) and op.get("operationId") == operation
            )
            contract[template][method].validate_response(answer)
            checked += 1
    assert checked == sum(len(exact_responses(op)) + 4 for op in requests)
    assert set(requests) <= set(operations())


@pytest.mark.system
def test_faults_drop_the_connection_as_named(prospect_mock: MockWorkspace) -> None:
    with httpx.Client(base_url=prospect_mock.url, headers=AUTH, timeout=10) as http:
        prospect_mock.scenario("prospects.list", fault="connection_reset", times=1)
        with pytest.raises(httpx.TransportError) as reset:
            http.get(PROSPECTS)
        assert "reset" in repr(reset.value).lower() or "disconnected" in repr(reset.value).lower()

        prospect_mock.scenario("prospects.list", fault="empty_response", times=1)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
            http.get(PROSPECTS)

        scenario = prospect_mock.scenario("prospects.get", fault="malformed_body", times=1)
        malformed = http.get(ANY_PROSPECT)
        assert malformed.status_code == 200
        assert malformed.headers["x-mock-scenario"] == scenario["id"]
        whole = json.dumps(exact_responses("prospects.get")["200"].example())
        assert malformed.text == whole[: len(whole.encode()) // 2]
        with pytest.raises(json.JSONDecodeError):
            malformed.json()

        assert http.get(PROSPECTS).status_code == 200, "the faults were used up"
    entries = prospect_mock.requests()
    assert [(e["status"], e["scenario"] is not None) for e in entries] == [
        (200, False),
        (200, True),
        (0, True),
        (0, True),
    ]


@pytest.mark.system
def test_a_request_held_by_timeout_never_holds_up_others(prospect_mock: MockWorkspace) -> None:
    scenario = prospect_mock.scenario("prospects.get", fault="timeout")
    address = urlsplit(prospect_mock.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as held:
        held.sendall(
            f"GET {address.path}{ANY_PROSPECT} HTTP/1.1\r\nHost: mock\r\n"
            f"Authorization: {AUTH['Authorization']}\r\n\r\n".encode()
        )
        wait_until_matched(prospect_mock, scenario["id"])
        for n in range(20):
            created = prospect_mock.http.post(PROSPECTS, json={"company": f"Meanwhile {n}"})
            assert created.status_code == 201
            assert prospect_mock.http.get(PROSPECTS).status_code == 200
        answered, _, _ = select.select([held], [], [], 0)
        assert not answered, "still held, with no byte sent, while 40 others were answered"
        with (
            httpx.Client(base_url=prospect_mock.url, headers=AUTH, timeout=0.3) as impatient,
            pytest.raises(httpx.ReadTimeout),
        ):
            impatient.get(ANY_PROSPECT)
    # Once the client gives up, the server lets go of the request and records it, unanswered.
    prospect_mock.wait_for(count=2, operation="prospects.get", timeout=10)
    gets = prospect_mock.requests(operation="prospects.get")
    assert [(e["status"], e["scenario"]) for e in gets] == [(0, scenario["id"])] * 2


def wait_until_matched(workspace: MockWorkspace, scenario_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = workspace.http.get("/__admin/scenarios").json()["data"]
        if any(s["id"] == scenario_id and s["matched"] for s in listed):
            return
        time.sleep(0.01)
    raise AssertionError("the held request never reached the scenario")


@pytest.mark.system
def test_delay_alone_gives_the_real_answer_late(prospect_mock: MockWorkspace) -> None:
    scenario = prospect_mock.scenario("prospects.create", delay_ms=300)
    started = time.monotonic()
    created = prospect_mock.http.post(PROSPECTS, json={"company": "Late but real"})
    assert time.monotonic() - started >= 0.3
    assert created.status_code == 201 and created.headers["x-mock-scenario"] == scenario["id"]
    stored = prospect_mock.http.get(f"{PROSPECTS}/{created.json()['id']}")
    assert stored.json()["company"] == "Late but real", "the real handling ran"


@pytest.mark.system
def test_times_uses_a_scenario_up(prospect_mock: MockWorkspace) -> None:
    scenario = prospect_mock.scenario("prospects.list", respond={"status": 503}, times=2)
    statuses = [prospect_mock.http.get(PROSPECTS).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert prospect_mock.http.get("/__admin/scenarios").json() == {"data": [], "total": 0}
    assert prospect_mock.count(status="503") == 2
    assert scenario["matched"] == 0


@pytest.mark.system
def test_match_on_path_query_and_body(prospect_mock: MockWorkspace) -> None:
    http = prospect_mock.http
    prospect_mock.scenario(
        "prospects.get", match={"path": {"id": "prospect_abc123"}}, respond={"status": 404}
    )
    prospect_mock.scenario(
        "prospects.list", match={"query": {"offset": 20, "limit": 5}}, respond={"status": 503}
    )
    prospect_mock.scenario(
        "prospects.create", match={"body": {"company": "Boom"}}, respond={"status": 400}
    )
    assert http.get(ANY_PROSPECT).status_code == 404
    other = http.get(PROSPECTS, params={"limit": 1}).json()["data"][0]["id"]
    assert http.get(f"{PROSPECTS}/{other}").status_code == 200
    assert http.get(PROSPECTS, params={"offset": 20, "limit": 5}).status_code == 503
    assert http.get(PROSPECTS, params={"offset": 20}).status_code == 200
    assert http.post(PROSPECTS, json={"company": "Boom", "industry": "X"}).status_code == 400
    assert http.post(PROSPECTS, json={"company": "Fine"}).status_code == 201
    matched = {s["operation"]: s["matched"] for s in http.get("/__admin/scenarios").json()["data"]}
    assert matched == {"prospects.get": 1, "prospects.list": 1, "prospects.create": 1}


@pytest.mark.system
def test_the_newest_matching_scenario_applies(prospect_mock: MockWorkspace) -> None:
    prospect_mock.scenario("prospects.list", respond={"status": 503})
    newest = prospect_mock.scenario("prospects.list", respond={"status": 500})
    answer = prospect_mock.http.get(PROSPECTS)
    assert (answer.status_code, answer.headers["x-mock-scenario"]) == (500, newest["id"])
    prospect_mock.http.delete(f"/__admin/scenarios/{newest['id']}")
    assert prospect_mock.http.get(PROSPECTS).status_code == 503


@pytest.mark.system
def test_auth_and_validation_come_first(prospect_mock: MockWorkspace) -> None:
    scenario = prospect_mock.scenario("prospects.create", respond={"status": 503})
    anonymous = httpx.post(f"{prospect_mock.url}{PROSPECTS}", json={"company": "X"})
    assert anonymous.status_code == 401 and "x-mock-scenario" not in anonymous.headers
    invalid = prospect_mock.http.post(PROSPECTS, json={"compnay": "X"})
    assert invalid.status_code == 400 and "x-mock-scenario" not in invalid.headers
    [listed] = prospect_mock.http.get("/__admin/scenarios").json()["data"]
    assert listed["id"] == scenario["id"] and listed["matched"] == 0


@pytest.mark.system
def test_a_scenario_comes_before_prefer_which_keeps_working(prospect_mock: MockWorkspace) -> None:
    prefer = {"Prefer": "code=401"}
    assert prospect_mock.http.get(PROSPECTS, headers=prefer).status_code == 401
    prospect_mock.scenario("prospects.list", respond={"status": 503}, times=1)
    assert prospect_mock.http.get(PROSPECTS, headers=prefer).status_code == 503
    assert prospect_mock.http.get(PROSPECTS, headers=prefer).status_code == 401


def test_scenarios_are_listed_deleted_and_cleared_by_a_reset(client: TestClient) -> None:
    ids = [
        client.post("/__admin/scenarios", json={"operation": op, "delay_ms": 1}).json()["id"]
        for op in ("prospects.list", "prospects.get", "prospects.create")
    ]
    assert [s["id"] for s in client.get("/__admin/scenarios").json()["data"]] == ids
    assert client.delete(f"/__admin/scenarios/{ids[0]}").json() == {"id": ids[0], "deleted": True}
    assert_problem(client.delete(f"/__admin/scenarios/{ids[0]}"), 404, ids[0])
    assert client.get("/ws/other/__admin/scenarios").json()["total"] == 0, "per workspace"
    client.post("/__admin/reset")
    assert client.get("/__admin/scenarios").json()["total"] == 0
    client.post("/__admin/scenarios", json={"operation": "prospects.list", "delay_ms": 1})
    assert client.delete("/__admin/scenarios").json() == {"deleted": 1}


def test_a_workspace_holds_at_most_100_scenarios(client: TestClient) -> None:
    for _ in range(100):
        client.post("/__admin/scenarios", json={"operation": "prospects.list", "delay_ms": 1})
    assert_problem(
        client.post("/__admin/scenarios", json={"operation": "prospects.list", "delay_ms": 1}),
        400,
        "maximum of 100 scenarios",
    )


@pytest.mark.system
def test_the_plugin_scenario_goes_with_the_test(prospect_mock: MockWorkspace) -> None:
    scenario = prospect_mock.scenario("prospects.list", respond={"status": 503})
    assert scenario["id"].startswith("scenario_") and scenario["operation"] == "prospects.list"
    listed = prospect_mock.http.get("/__admin/scenarios").json()["data"]
    assert [s["id"] for s in listed] == [scenario["id"]]
