"""``prospect-mock proxy``: real processes over real HTTP, in front of a deliberately
imperfect upstream (tests/proxy_upstream.py) and in front of the mock itself."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from prospect_mock.cli import SCHEMATHESIS_CONFIG
from prospect_mock.contract import SPEC_PATH, load_admin_spec, load_proxy_admin_spec
from prospect_mock.proxy.exchange import ProxyApp
from prospect_mock.proxy.upstream import Upstream
from prospect_mock.responses import operations

from .servers import CLI, free_port, run, running

SECRET = "sk_test_SECRET_never_written_4242"
AUTH = {"Authorization": f"Bearer {SECRET}"}
PROSPECT = "/api/crm/prospect/prospect_abc123"
ROOT = Path(__file__).parent.parent


@dataclass
class Proxy:
    base: str
    process: subprocess.Popen[str]
    log: Path

    def violations(self, **filters: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.base}/__admin/violations", params={"limit": 1000, **filters})
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@contextmanager
def proxy(tmp_path: Path, upstream: str, *extra: str) -> Iterator[Proxy]:
    port, log = free_port(), tmp_path / f"proxy-{time.monotonic_ns()}.log"
    with log.open("w") as console:
        process = subprocess.Popen(
            [CLI, "proxy", "--upstream", upstream, "--port", str(port), *extra],
            stdout=console,
            stderr=subprocess.STDOUT,
            text=True,
        )
    started = Proxy(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{started.base}/__admin/coverage", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the proxy did not start"
                time.sleep(0.05)
        yield started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.proxy_upstream", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}{PROSPECT}", timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
    yield base
    process.kill()
    process.wait()


def get(proxied: Proxy, defect: str = "", path: str = PROSPECT) -> httpx.Response:
    return httpx.get(f"{proxied.base}{path}", headers={**AUTH, "X-Defect": defect}, timeout=30)


def summary(violations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("side", "operation", "rule", "pointer", "status")
    return sorted(tuple(v[key] for key in keys) for v in violations)


DEFECTS = [
    ("wrong-type", 200, [("response", "prospects.get", "body-schema", "/company_name", 200)]),
    ("missing-field", 200, [("response", "prospects.get", "body-schema", "/company", 200)]),
    (
        "undocumented-status",
        418,
        [("response", "prospects.get", "undocumented-status", None, 418)],
    ),
    ("html-500", 500, [("response", "prospects.get", "content-type", None, 500)]),
    ("drop", 502, [("response", "prospects.get", "upstream-unreachable", None, None)]),
]


def test_a_good_exchange_passes_untouched(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream) as proxied:
        answer = get(proxied)
        direct = httpx.get(f"{upstream}{PROSPECT}", headers=AUTH)
        assert answer.status_code == 200
        assert answer.content == direct.content
        assert answer.headers["x-saw-authorization"] == "yes"  # the key went on
        assert "x-contract-violations" not in answer.headers
        assert proxied.violations() == []


@pytest.mark.parametrize(("defect", "status", "expected"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_report_mode_lists_exactly_the_upstreams_defects(
    tmp_path: Path, upstream: str, defect: str, status: int, expected: list[tuple[Any, ...]]
) -> None:
    with proxy(tmp_path, upstream) as proxied:
        answer = get(proxied, defect)
        assert answer.status_code == status
        if status != 502:  # the upstream's own answer, as it came
            direct = httpx.get(f"{upstream}{PROSPECT}", headers={**AUTH, "X-Defect": defect})
            assert answer.content == direct.content
        assert answer.headers["x-contract-violations"] == "1"
        found = proxied.violations()
        assert summary(found) == expected
        assert all(v["detail"].endswith(".") and "\n" not in v["detail"] for v in found)


@pytest.mark.parametrize(
    ("defect", "status", "expected"), DEFECTS[:4], ids=[d[0] for d in DEFECTS[:4]]
)
def test_enforce_mode_turns_a_broken_response_into_502(
    tmp_path: Path, upstream: str, defect: str, status: int, expected: list[tuple[Any, ...]]
) -> None:
    with proxy(tmp_path, upstream, "--enforce") as proxied:
        answer = get(proxied, defect)
        assert answer.status_code == 502
        assert answer.headers["content-type"] == "application/problem+json"
        assert expected[0][2] in answer.json()["detail"]
        assert summary(proxied.violations()) == expected


def test_enforce_mode_refuses_a_broken_request_without_sending_it(
    tmp_path: Path, upstream: str
) -> None:
    with proxy(tmp_path, upstream, "--enforce") as proxied:
        answer = httpx.get(f"{proxied.base}/api/crm/prospect?limit=0", headers=AUTH)
        assert answer.status_code == 400
        assert "'limit' must be at least 1" in answer.json()["detail"]
        assert summary(proxied.violations()) == [
            ("request", "prospects.list", "parameter-schema", None, None)
        ]
        body = httpx.post(f"{proxied.base}/api/crm/prospect", headers=AUTH, json={"company": 1})
        assert body.status_code == 400
        assert proxied.violations(side="request")[0]["pointer"] == "/company"


def test_a_slow_upstream_gets_504_after_the_timeout(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream, "--upstream-timeout", "0.5") as proxied:
        answer = get(proxied, "slow")
        assert answer.status_code == 504
        assert upstream in answer.json()["detail"]
        assert summary(proxied.violations()) == [
            ("response", "prospects.get", "upstream-timeout", None, None)
        ]


def test_an_unreachable_upstream_gets_502(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with proxy(tmp_path, nowhere) as proxied:
        answer = get(proxied)
        assert answer.status_code == 502
        assert nowhere in answer.json()["detail"]


def test_the_admin_filters_and_the_unknown_path(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream) as proxied:
        get(proxied, "wrong-type")
        httpx.get(f"{proxied.base}/api/crm/nowhere", headers=AUTH)
        httpx.get(f"{proxied.base}{PROSPECT}")  # no key
        assert [v["rule"] for v in proxied.violations(side="request")] == [
            "credentials",
            "unknown-path",
        ]
        assert proxied.violations(side="request")[1]["operation"] is None
        assert [v["rule"] for v in proxied.violations(operation="prospects.get")] == [
            "credentials",
            "body-schema",
        ]
        bad = httpx.get(f"{proxied.base}/__admin/violations", params={"side": "both"})
        assert bad.status_code == 400
        coverage = httpx.get(f"{proxied.base}/__admin/coverage").json()
        by_operation = {row["operation"]: row for row in coverage["operations"]}
        assert list(by_operation) == list(operations())
        assert by_operation["prospects.get"]["statuses"]["200"] == 2
        assert coverage["covered"] == 1
        assert coverage["share"] == round(1 / coverage["documented"], 4)


def test_sigterm_prints_and_writes_the_reports_and_fails_on_violations(
    tmp_path: Path, upstream: str
) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    extra = ("--report", str(report), "--junit", str(junit), "--fail-on-violations")
    with proxy(tmp_path, upstream, *extra) as proxied:
        get(proxied)
        get(proxied, "missing-field")
        assert proxied.stop() == 1
    console = proxied.log.read_text()
    assert "Contract coverage" in console and "Contract violations" in console
    written = json.loads(report.read_text())
    assert written["violations"]["total"] == 1
    assert written["violations"]["data"][0]["pointer"] == "/company"
    cases = ElementTree.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == len(operations())
    failed = [case.get("name") for case in cases if case.find("failure") is not None]
    assert failed == ["prospects.get"]
    for text in (console, report.read_text(), junit.read_text()):
        assert SECRET not in text


def test_sigterm_without_violations_exits_0(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream, "--fail-on-violations") as proxied:
        get(proxied)
        assert proxied.stop() == 0


def test_the_mock_through_the_proxy_keeps_the_contract_and_covers_every_operation(
    tmp_path: Path,
) -> None:
    with running(tmp_path / "db.json") as mock, proxy(tmp_path, mock.base) as proxied:
        checked = run("check", proxied.base, "--max-examples", "5", "--seed", "1")
        assert checked.returncode == 0, checked.stdout[-3000:]
        coverage = httpx.get(f"{proxied.base}/__admin/coverage").json()
        assert all(row["exchanges"] > 0 for row in coverage["operations"])
        # Schemathesis sends invalid requests on purpose: those are request violations.
        assert proxied.violations(side="request")
        assert proxied.violations(side="response") == [], "the mock keeps its contract"


def test_a_valid_contract_run_through_the_proxy_finds_no_violation_at_all(
    tmp_path: Path,
) -> None:
    """Schemathesis with valid data only, every phase and every check but the one that omits
    the key on purpose, through the proxy to the mock: not one request nor one answer breaks
    the contract."""
    with running(tmp_path / "db.json") as mock, proxy(tmp_path, mock.base) as proxied:
        command = [
            sys.executable, "-m", "schemathesis.cli",
            "--config-file", str(SCHEMATHESIS_CONFIG),
            "run", str(SPEC_PATH), "--url", proxied.base,
            "--header", "Authorization: Bearer sk_test_check",
            "--mode", "positive", "--phases", "examples,coverage,fuzzing,stateful",
            # The one check that sends a request without a key on purpose (to see it refused).
            "--exclude-checks", "ignored_auth",
            "--max-examples", "5", "--seed", "1",
        ]  # fmt: skip
        checked = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert checked.returncode == 0, checked.stdout[-3000:]
        coverage = httpx.get(f"{proxied.base}/__admin/coverage").json()
        assert all(row["exchanges"] > 0 for row in coverage["operations"])
        # Before testing, Schemathesis probes the server with a path no contract has.
        found = [v for v in proxied.violations() if "schemathesis-probe" not in v["path"]]
        assert found == [], [(v["rule"], v["detail"], v["path"]) for v in found]


def test_mock_operations_and_recordings_round_trip(tmp_path: Path, upstream: str) -> None:
    recorded = tmp_path / "recorded"
    extra = ("--mock-operations", "prospects.list,prospects.create", "--record", str(recorded))
    with proxy(tmp_path, upstream, *extra) as proxied:
        created = httpx.post(
            f"{proxied.base}/api/crm/prospect", headers=AUTH, json={"company": "Not yet real"}
        )
        assert created.status_code == 201  # the upstream has no such operation
        listed = httpx.get(f"{proxied.base}/api/crm/prospect?limit=100", headers=AUTH).json()
        assert created.json() in listed["data"]
        fetched = get(proxied)  # not mocked: the upstream answers
        assert fetched.headers["x-saw-authorization"] == "yes"
        assert proxied.violations() == []
        assert proxied.stop() == 0
    prospects = json.loads((recorded / "prospects.json").read_text())
    assert {p["id"] for p in prospects} == {p["id"] for p in listed["data"]} | {
        fetched.json()["id"]
    }
    for path in recorded.iterdir():
        assert SECRET not in path.read_text()
    with running(tmp_path / "seeded.json", "--fixtures", str(recorded)) as seeded:
        served = httpx.get(
            f"{seeded.base}/api/crm/prospect?limit=100",
            headers={"Authorization": "Bearer sk_test_1"},
        ).json()
    assert sorted(served["data"], key=lambda p: p["id"]) == sorted(prospects, key=lambda p: p["id"])


def test_serve_refuses_fixtures_that_do_not_fit(tmp_path: Path) -> None:
    (tmp_path / "prospect_leads.json").write_text('[{"id": "prospect-lead_1"}]')
    refused = run("serve", "--db", str(tmp_path / "db.json"), "--fixtures", str(tmp_path))
    assert refused.returncode == 1
    assert "Cannot seed from" in refused.stderr


def test_the_proxys_admin_operations_are_a_document_of_their_own() -> None:
    validate(load_proxy_admin_spec())
    assert set(load_proxy_admin_spec()["paths"]) == {"/violations", "/coverage"}
    assert not {"/violations", "/coverage"} & set(load_admin_spec()["paths"])
    assert "Proxy" not in [tag["name"] for tag in load_admin_spec()["tags"]]


@pytest.fixture
def proxy_admin_contract() -> schemathesis.schemas.BaseSchema:
    """The proxy's admin API, with violations and coverage to show: an unreachable upstream
    and a path the contract lacks."""
    app = ProxyApp(Upstream("http://127.0.0.1:9", timeout_s=1))
    client = TestClient(app, headers=AUTH)
    client.get("/api/crm/prospect")
    client.get("/nowhere")
    contract = schemathesis.openapi.from_dict(copy.deepcopy(load_proxy_admin_spec()))
    contract.app = app
    return contract


proxy_admin_schema = schemathesis.pytest.from_fixture("proxy_admin_contract")


@proxy_admin_schema.parametrize()
@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_proxys_admin_api_conforms_to_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()
