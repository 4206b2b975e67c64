"""pytest fixtures for tests against prospect-mock: one server per test session (one per
worker under pytest-xdist), and a fresh workspace of it for every test.

    def test_the_form_sends_one_update(prospect_mock):
        app = start_the_app_under_test(api_base=prospect_mock.url)
        prospect_mock.scenario("prospects.list", respond={"status": 503}, times=1)
        app.change_industry("Retail")
        prospect_mock.wait_for(operation="prospects.update")
        [update] = prospect_mock.requests(method="PATCH")
        assert json.loads(update["request_body"]) == {"industry": "Retail"}

Installed with the package and registered through the ``pytest11`` entry point; nothing
starts unless a test asks for a fixture. ``--prospect-mock-url URL`` uses a server already
running instead of starting one.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = ["MockServer", "MockWorkspace", "prospect_mock", "prospect_mock_server"]

API_KEY = "sk_test_pytest"
START_TIMEOUT_S = 60
_ADDRESS = re.compile(r"API:\s+(\S+)/api/crm/prospect")


@dataclass(frozen=True)
class MockServer:
    """A running prospect-mock: where it serves, and the key it takes."""

    url: str
    api_key: str = API_KEY

    def workspace(self, name: str) -> MockWorkspace:
        return MockWorkspace(self, name)


class MockWorkspace:
    """One workspace of a :class:`MockServer`, and the questions a test asks of it.

    ``url`` is the base URL an app under test is given (``/api/crm/prospect`` follows it);
    ``http`` is an HTTP client for it, with the key already set.
    """

    def __init__(self, server: MockServer, name: str) -> None:
        self.server, self.name = server, name
        self.url = f"{server.url}/ws/{name}"
        self.headers = {"Authorization": f"Bearer {server.api_key}"}
        self.http = httpx.Client(base_url=self.url, headers=self.headers, timeout=30)

    def reset(self, *, empty: bool = False) -> dict[str, int]:
        """Create the workspace, or put its data back, as the server seeds it (or empty);
        how many records of each resource it holds now."""
        response = self._admin("PUT", f"/__admin/workspaces/{self.name}", params=_flag(empty))
        counts: dict[str, int] = response.json()["counts"]
        return counts

    def load(self, data: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
        """Make the workspace hold exactly ``data`` (as ``PUT /__admin/data`` takes it)."""
        counts: dict[str, int] = self._admin("PUT", "/__admin/data", json=data).json()
        return counts

    def requests(self, **filters: str | int) -> list[dict[str, Any]]:
        """The journal's entries (newest first) that match every filter given: ``operation``,
        ``method``, ``path`` (``*`` for any characters), ``status`` (``201`` or ``2XX``)."""
        params = {"limit": 500, **filters}
        entries: list[dict[str, Any]] = self._admin(
            "GET", "/__admin/requests", params=params
        ).json()["data"]
        return entries

    def count(self, **filters: str | int) -> int:
        """How many requests in the journal match every filter given."""
        response = self._admin("GET", "/__admin/requests/count", params=filters)
        count: int = response.json()["count"]
        return count

    def wait_for(self, count: int = 1, timeout: float = 5.0, **filters: str | int) -> int:
        """Return as soon as ``count`` requests match (how many do); fail the test, saying
        how many arrived, if they have not within ``timeout`` seconds."""
        params = {"count": count, "timeout_ms": round(timeout * 1000), **filters}
        response = self.http.get("/__admin/requests/wait", params=params, timeout=timeout + 30)
        if response.status_code == 408:
            raise AssertionError(response.json()["detail"])
        matched: int = _checked(response).json()["count"]
        return matched

    def scenario(self, operation: str, **definition: Any) -> dict[str, Any]:
        """Make the workspace answer requests to ``operation`` as ``definition`` says
        (``match``, ``respond``, ``fault``, ``delay_ms``, ``times``, as
        ``POST /__admin/scenarios`` takes them); the scenario created, with its ``id``. It
        goes with the test's workspace at the end of the test."""
        body = {"operation": operation, **definition}
        scenario: dict[str, Any] = self._admin("POST", "/__admin/scenarios", json=body).json()
        return scenario

    def delete(self) -> None:
        self._admin("DELETE", f"/__admin/workspaces/{self.name}")
        self.http.close()

    def _admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return _checked(self.http.request(method, path, **kwargs))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("prospect-mock")
    group.addoption(
        "--prospect-mock-url",
        metavar="URL",
        help="Use the prospect-mock serving at URL instead of starting one for the session.",
    )
    group.addoption(
        "--prospect-mock-api-key",
        metavar="KEY",
        default=API_KEY,
        help=f"The key to send to the server of --prospect-mock-url. Default: {API_KEY}.",
    )


@pytest.fixture(scope="session")
def prospect_mock_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MockServer]:
    """A prospect-mock for the session, on a free port, with a database of its own."""
    url = request.config.getoption("prospect_mock_url")
    if url:
        yield MockServer(url.rstrip("/"), request.config.getoption("prospect_mock_api_key"))
        return
    folder = tmp_path_factory.mktemp("prospect-mock")
    command = [sys.executable, "-m", "prospect_mock", "serve", "--port", "0", "--quiet"]
    output = folder / "server.log"
    with (
        output.open("w") as log,
        subprocess.Popen(
            [*command, "--db", str(folder / "prospect-mock.json")], stdout=log, stderr=log
        ) as process,
    ):
        try:
            yield MockServer(_address_printed(process, output))
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def prospect_mock(
    prospect_mock_server: MockServer, request: pytest.FixtureRequest
) -> Iterator[MockWorkspace]:
    """A fresh workspace for this test, seeded as the server seeds new data; deleted after."""
    workspace = prospect_mock_server.workspace(_name_for(request.node.name))
    workspace.reset()
    yield workspace
    workspace.delete()


def _address_printed(process: subprocess.Popen[bytes], output: Path) -> str:
    """The base URL the server prints once it listens."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        if match := _ADDRESS.search(output.read_text()):
            return match.group(1)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"prospect-mock did not start:\n{output.read_text()}".rstrip())


def _name_for(test_name: str) -> str:
    """A workspace name that says which test it is for, unique across workers and runs."""
    readable = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:40]
    return f"t-{readable}-{os.getpid()}-{secrets.token_hex(3)}"


def _flag(value: bool) -> dict[str, str]:
    return {"empty": "true"} if value else {}


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise RuntimeError(
            f"prospect-mock answered {response.request.method} {response.request.url} with "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response
