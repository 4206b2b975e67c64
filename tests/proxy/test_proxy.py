"""``prospect-mock proxy``: real processes over real HTTP, in front of a deliberately
imperfect upstream (tests/proxy_upstream.py) and in front of the mock itself."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import httpx
import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from prospect_mock.cli import SCHEMATHESIS_CONFIG
from prospect_mock.contract.documents import SPEC_PATH, load_admin_spec, load_proxy_admin_spec
from prospect_mock.contract.responses import operations
from prospect_mock.proxy.exchange import ProxyApp
from prospect_mock.proxy.upstream import Upstream
from tests.proxy_upstream import BIG_BYTES
from tests.servers import CLI, free_port, run, running

if TYPE_CHECKING:
    # Schemathesis defines it for type checkers alone.
    from schemathesis.specs.openapi.schemas import OpenApiCase

SECRET = "sk_test_SECRET_never_written_4242"
AUTH = {"Authorization": f"Bearer {SECRET}"}
PROSPECT = "/api/crm/prospect/prospect_abc123"
ROOT = Path(__file__).parents[2]


@dataclass
class Proxy:
    base: str
    process: subprocess.Popen[str]
    log: Path

    def violations(self, **filters: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.base}/__admin/violations", params={"limit": 1000, **filters})
        assert answer.status_code == 200, answer.text
        violations: list[dict[str, Any]] = answer.json()["data"]
        return violations

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@contextmanager
def proxy(tmp_path: Path, upstream: str, *extra: str) -> Iterator[Proxy]:
    port, log = free_port(), tmp_path / f"proxy-{time.monotonic_ns()}.log"
    # As in CI: stdout is not a terminal, and no COLUMNS says how wide to print.
    environment = {name: value for name, value in os.environ.items() if name != "COLUMNS"}
    with log.open("w") as console:
        process = subprocess.Popen(
            [CLI, "proxy", "--upstream", upstream, "--port", str(port), *extra],
            stdout=console,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
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


@contextmanager
def serving_upstream(*mode: str) -> Iterator[str]:
    """``python -m tests.proxy_upstream`` on a free port, once it answers: its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.proxy_upstream", *mode, str(port)],
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


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving_upstream() as base:
        yield base


@pytest.fixture(scope="module")
def raw_upstream() -> Iterator[str]:
    """The upstream that frames its answers byte by byte (tests/proxy_upstream.py)."""
    with serving_upstream("--raw") as base:
        yield base


def get(proxied: Proxy, defect: str = "", path: str = PROSPECT) -> httpx.Response:
    return httpx.get(f"{proxied.base}{path}", headers={**AUTH, "X-Defect": defect}, timeout=30)


def summary(violations: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("side", "operation", "rule", "pointer", "status")
    return sorted(tuple(v[key] for key in keys) for v in violations)


def assert_problem(answer: httpx.Response | httpx2.Response, status: int) -> None:
    """A problem document (through the proxy with httpx, or from a ``TestClient``, whose
    answers are httpx2's)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert set(problem) == {"type", "title", "status", "detail"}
    assert problem["status"] == status
    assert problem["detail"].endswith(".") and "\n" not in problem["detail"]


def peak_resident_bytes(pid: int) -> int:
    """The most memory the process has held at once so far (Linux's VmHWM): what it holds
    now is no more."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM for {pid}")


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


@pytest.mark.system
def test_a_good_exchange_passes_untouched(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream) as proxied:
        answer = get(proxied)
        direct = httpx.get(f"{upstream}{PROSPECT}", headers=AUTH)
        assert answer.status_code == 200
        assert answer.content == direct.content
        assert answer.headers["x-saw-authorization"] == "yes"  # the key went on
        assert "x-contract-violations" not in answer.headers
        assert proxied.violations() == []


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
def test_a_slow_upstream_gets_504_after_the_timeout(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream, "--upstream-timeout", "0.5") as proxied:
        answer = get(proxied, "slow")
        assert answer.status_code == 504
        assert upstream in answer.json()["detail"]
        assert summary(proxied.violations()) == [
            ("response", "prospects.get", "upstream-timeout", None, None)
        ]


@pytest.mark.system
def test_an_unreachable_upstream_gets_502(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with proxy(tmp_path, nowhere) as proxied:
        answer = get(proxied)
        assert answer.status_code == 502
        assert nowhere in answer.json()["detail"]


@pytest.mark.system
def test_an_upstream_url_with_credentials_is_refused_at_the_start() -> None:
    """httpx would send them as Basic auth in place of every client's own key."""
    for upstream in ("http://user:s3cret@127.0.0.1:9", "http://user@127.0.0.1:9"):
        refused = run("proxy", "--upstream", upstream, "--port", "0")
        assert refused.returncode == 2, refused.stdout
        errors = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and "drop them" in errors[0], refused.stderr
        assert "s3cret" not in refused.stdout + refused.stderr
    with pytest.raises(ValueError, match="user name or password"):
        Upstream("http://user:s3cret@127.0.0.1:9")


@pytest.mark.system
@pytest.mark.parametrize("user", [b"Jos\xc3\xa9", b"Jos\xe9"], ids=["utf-8", "latin-1"])
def test_header_bytes_that_are_not_ascii_go_on_as_received(
    tmp_path: Path, upstream: str, user: bytes
) -> None:
    with proxy(tmp_path, upstream) as proxied:
        headers = {name.encode(): value.encode() for name, value in AUTH.items()}
        answer = httpx.get(f"{proxied.base}{PROSPECT}", headers={**headers, b"X-User": user})
        assert answer.status_code == 200, answer.text
        assert (b"x-saw-user", user) in answer.headers.raw  # there and back, byte for byte
        assert proxied.violations() == []


@pytest.mark.system
def test_a_websocket_gets_a_problem_and_a_violation(tmp_path: Path, upstream: str) -> None:
    handshake = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    with proxy(tmp_path, upstream) as proxied:
        answer = httpx.get(f"{proxied.base}{PROSPECT}", headers={**AUTH, **handshake})
        assert_problem(answer, 501)
        assert "WebSocket" in answer.json()["detail"]
        assert answer.headers["x-contract-violations"] == "1"
        assert summary(proxied.violations()) == [
            ("request", "prospects.get", "request-unforwardable", None, None)
        ]


def test_an_http_upgrade_to_websocket_gets_a_problem_unsent() -> None:
    """Where the server under the proxy has no WebSocket support, the handshake arrives as
    a plain request: it is refused as well, not sent on without its Upgrade."""
    app = ProxyApp(Upstream("http://127.0.0.1:9", timeout_s=1))
    client = TestClient(app, headers=AUTH)
    answer = client.get(PROSPECT, headers={"Connection": "Upgrade", "Upgrade": "websocket"})
    assert_problem(answer, 501)
    assert [v.rule for v in app.violations.newest(10)[0]] == ["request-unforwardable"]


@pytest.mark.system
def test_a_request_that_cannot_be_sent_on_gets_400_and_a_violation(upstream: str) -> None:
    """No HTTP server under the proxy lets a NUL into a header, but an ASGI scope can hold
    one: h11 refuses to send it, and the client is told so."""
    app = ProxyApp(Upstream(upstream, timeout_s=5))
    client = TestClient(app, headers=AUTH)
    answer = client.get(PROSPECT, headers={b"X-Odd": b"a\x00b"})
    assert_problem(answer, 400)
    assert answer.json()["detail"].startswith("The request cannot be sent on")
    [refused] = app.violations.newest(10)[0]
    assert (refused.side, refused.rule) == ("request", "request-unforwardable")


FRAMING_DEFECTS = [
    ("prospect_both", "both Content-Length and Transfer-Encoding"),
    ("prospect_after", "bytes came after its end"),
    ("prospect_twice", "more than one Content-Length"),
    ("prospect_differ", "conflicting Content-Length"),
    ("prospect_nan", "bad Content-Length"),
]


@pytest.mark.system
@pytest.mark.parametrize(
    ("prospect_id", "reason"), FRAMING_DEFECTS, ids=[d[0] for d in FRAMING_DEFECTS]
)
def test_a_broken_framing_gets_502_and_its_connection_is_never_reused(
    tmp_path: Path, raw_upstream: str, prospect_id: str, reason: str
) -> None:
    """What the upstream sends after an answer's uncertain end never reaches the next
    client: that connection is closed, and the next request gets its own answer."""
    with proxy(tmp_path, raw_upstream) as proxied:
        first = get(proxied)
        assert first.json()["id"] == "prospect_abc123"
        broken = get(proxied, path=f"/api/crm/prospect/{prospect_id}")
        assert_problem(broken, 502)
        assert reason in broken.json()["detail"] and raw_upstream in broken.json()["detail"]
        assert summary(proxied.violations()) == [
            ("response", "prospects.get", "upstream-framing", None, None)
        ]
        for _ in range(3):  # another client's requests, each answered by its own answer
            answer = get(proxied, path="/api/crm/prospect/prospect_next")
            assert answer.status_code == 200
            assert answer.json()["id"] == "prospect_next"
            # The connection of the broken answer (the first's, reused) was closed.
            assert answer.headers["x-connection"] != first.headers["x-connection"]


@pytest.mark.system
def test_an_answer_over_max_upstream_body_gets_502_and_is_not_kept(
    tmp_path: Path, raw_upstream: str
) -> None:
    with proxy(tmp_path, raw_upstream, "--max-upstream-body", "65536") as proxied:
        first = get(proxied)
        before = peak_resident_bytes(proxied.process.pid)
        answer = get(proxied, path="/api/crm/prospect/prospect_big")  # 64 MiB
        assert_problem(answer, 502)
        assert "larger than 65536 bytes" in answer.json()["detail"]
        assert peak_resident_bytes(proxied.process.pid) - before < BIG_BYTES // 8
        assert summary(proxied.violations()) == [
            ("response", "prospects.get", "upstream-too-large", None, None)
        ]
        after = get(proxied)
        assert after.json()["id"] == "prospect_abc123"
        assert after.headers["x-connection"] != first.headers["x-connection"]
        inflated = get(proxied, path="/api/crm/prospect/prospect_bomb")  # 64 KiB, 64 MiB decoded
        assert_problem(inflated, 502)
        assert peak_resident_bytes(proxied.process.pid) - before < BIG_BYTES // 8
        assert [v["rule"] for v in proxied.violations()] == ["upstream-too-large"] * 2


@pytest.mark.system
def test_an_encoded_answer_is_checked_decoded_and_passed_on_as_sent(
    tmp_path: Path, raw_upstream: str
) -> None:
    def raw_body(base: str) -> bytes:
        with httpx.stream("GET", f"{base}/api/crm/prospect/prospect_gzip", headers=AUTH) as got:
            assert got.status_code == 200
            assert got.headers["content-encoding"] == "gzip"
            return b"".join(got.iter_raw())

    with proxy(tmp_path, raw_upstream) as proxied:
        assert raw_body(proxied.base) == raw_body(raw_upstream)
        assert proxied.violations() == []  # its body was checked decoded
        broken = get(proxied, path="/api/crm/prospect/prospect_notgzip")
        assert_problem(broken, 502)
        assert summary(proxied.violations()) == [
            ("response", "prospects.get", "upstream-encoding", None, None)
        ]


@pytest.mark.system
def test_max_upstream_body_is_16_mib_unless_told() -> None:
    shown = run("proxy", "--help")
    assert shown.returncode == 0
    assert "--max-upstream-body" in shown.stdout and "16777216" in shown.stdout


@pytest.mark.system
def test_the_timeout_bounds_the_whole_answer_not_each_read(
    tmp_path: Path, raw_upstream: str
) -> None:
    """The answer's bytes come every 0.1 s: each read is quick, the whole answer is not."""
    with proxy(tmp_path, raw_upstream, "--upstream-timeout", "1") as proxied:
        started = time.monotonic()
        answer = get(proxied, path="/api/crm/prospect/prospect_drip")
        assert_problem(answer, 504)
        assert time.monotonic() - started < 3
        assert summary(proxied.violations()) == [
            ("response", "prospects.get", "upstream-timeout", None, None)
        ]
        assert get(proxied).json()["id"] == "prospect_abc123"


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
def test_sigterm_without_violations_exits_0(tmp_path: Path, upstream: str) -> None:
    with proxy(tmp_path, upstream, "--fail-on-violations") as proxied:
        get(proxied)
        assert proxied.stop() == 0


def send_wrong_requests(proxied: Proxy) -> None:
    """What an app sends wrong on purpose, to test its own handling of a 401 or a 400: the
    upstream answers each as the contract says, so the violations are the requests'."""
    httpx.get(f"{proxied.base}{PROSPECT}")  # no key
    httpx.patch(f"{proxied.base}{PROSPECT}", headers=AUTH, json={"company": 1})
    assert [v["rule"] for v in proxied.violations(side="request")] == ["body-schema", "credentials"]
    assert proxied.violations(side="response") == []


FAIL_ON = [
    ("response-with-wrong-requests", ("--fail-on-violations=response",), "requests", 0),
    ("response-with-a-wrong-answer", ("--fail-on-violations=response",), "both", 1),
    ("request-with-a-wrong-answer", ("--fail-on-violations", "request"), "responses", 0),
    ("request-with-wrong-requests", ("--fail-on-violations=request",), "requests", 1),
    ("any-with-wrong-requests", ("--fail-on-violations=any",), "requests", 1),
    # Alone, before another option, the flag means `any`, as it did before it took a value.
    (
        "bare-with-wrong-requests",
        ("--fail-on-violations", "--upstream-timeout", "30"),
        "requests",
        1,
    ),
    ("bare-with-a-wrong-answer", ("--fail-on-violations",), "responses", 1),
]


@pytest.mark.system
@pytest.mark.parametrize(
    ("options", "wrong", "status"), [case[1:] for case in FAIL_ON], ids=[c[0] for c in FAIL_ON]
)
def test_fail_on_violations_fails_on_the_side_it_is_given(
    tmp_path: Path, upstream: str, options: tuple[str, ...], wrong: str, status: int
) -> None:
    with proxy(tmp_path, upstream, *options) as proxied:
        if wrong in ("requests", "both"):
            send_wrong_requests(proxied)
        if wrong in ("responses", "both"):
            get(proxied, "missing-field")
            assert proxied.violations(side="response")
        assert proxied.stop() == status, proxied.log.read_text()


@pytest.mark.system
def test_fail_on_violations_says_its_choices() -> None:
    shown = run("proxy", "--help")
    assert shown.returncode == 0
    assert "--fail-on-violations [any|response|request]" in shown.stdout
    refused = run("proxy", "--upstream", "http://127.0.0.1:9", "--fail-on-violations=some")
    assert refused.returncode == 2 and "'some' is not one of" in refused.stderr


@pytest.mark.system
def test_the_tables_name_every_operation_whole_in_a_ci_log(tmp_path: Path, upstream: str) -> None:
    """Rich draws at 80 columns where stdout is not a terminal: the statuses wrap, and an
    operation's name is never cut (it was, to ``prospect_opportunities…``)."""
    with proxy(tmp_path, upstream) as proxied:
        httpx.get(f"{proxied.base}/api/crm/nowhere", headers=AUTH)
        assert proxied.stop() == 0
    console = proxied.log.read_text()
    rows = [line for line in console.splitlines() if line.startswith("│")]
    assert max(len(row) for row in rows) <= 80  # drawn at the default width
    for name in (*operations(), "(no operation of the contract)"):
        assert re.search(rf"│ {re.escape(name)} +│", console), name


@pytest.mark.system
def test_each_junit_failure_names_its_violations_one_a_line(tmp_path: Path, upstream: str) -> None:
    junit = tmp_path / "junit.xml"
    with proxy(tmp_path, upstream, "--junit", str(junit)) as proxied:
        get(proxied, "wrong-type")
        get(proxied, "wrong-type")  # the same violation again: one line, counted
        get(proxied, "missing-field")
        # Characters XML escapes, and a control character XML 1.0 cannot hold at all.
        httpx.get(f"{proxied.base}/api/crm/%3Cb%3E%26%22'%01", headers=AUTH)
        seen = {v["pointer"]: v["detail"] for v in proxied.violations()}
        assert proxied.stop() == 0
    assert "&lt;b&gt;&amp;" in junit.read_text()
    failures = {
        case.get("name"): failure
        for case in ElementTree.parse(junit).getroot().iter("testcase")
        if (failure := case.find("failure")) is not None
    }
    assert set(failures) == {"prospects.get", "(no operation of the contract)"}
    fetched = failures["prospects.get"]
    assert fetched.get("message") == "3 violation(s): 3x response body-schema"
    assert fetched.text is not None
    wrong_type, missing = fetched.text.splitlines()
    assert wrong_type == (
        f"response body-schema, GET {PROSPECT} -> 200, at /company_name: "
        f"{seen['/company_name']} (2 times)"
    )
    assert (
        missing == f"response body-schema, GET {PROSPECT} -> 200, at /company: {seen['/company']}"
    )
    unknown = failures["(no operation of the contract)"]
    assert unknown.get("message") == "1 violation(s): 1x request unknown-path"
    assert unknown.text == (
        "request unknown-path, GET /api/crm/<b>&\"'U+0001 -> 200: "
        "There is no resource at /api/crm/<b>&\"'U+0001."
    )


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
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


@pytest.mark.system
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
def test_the_proxys_admin_api_conforms_to_its_contract(case: OpenApiCase) -> None:
    case.call_and_validate()
