"""pytest fixtures for tests against prospect-mock: one server for the run, shared by every
worker under pytest-xdist, and a fresh workspace of it for every test.

    def test_a_new_prospect_is_listed_first(prospect_mock):
        # prospect_mock.http stands in for the app under test, given prospect_mock.url
        created = prospect_mock.http.post("/api/crm/prospect", json={"company": "Acme Ltd"})
        assert created.status_code == 201
        page = prospect_mock.http.get("/api/crm/prospect").json()
        assert page["data"][0]["company"] == "Acme Ltd"
        assert prospect_mock.count(operation="prospects.create") == 1

Installed with the package and registered through the ``pytest11`` entry point. Without
xdist, nothing starts unless a test asks for a fixture. Under xdist, the controller starts the
server as it starts its workers (it cannot see which fixtures their tests will ask for), hands
its address to each of them, and stops it at the end of the run, after Ctrl-C or a crashed
worker too. ``--prospect-mock-url URL`` uses a server already running instead of starting one;
``--prospect-mock-serve-args`` (or the ini option ``prospect_mock_serve_args``) gives the
server started its ``serve`` options, such as ``--seed-count 200``.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, Protocol

import httpx
import pytest

__all__ = ["MockServer", "MockWorkspace", "prospect_mock", "prospect_mock_server"]

API_KEY = "sk_test_pytest"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
SERVE_ARGS = "prospect_mock_serve_args"
"""The ini option, and where the command-line option is kept."""
HANDED_URL, HANDED_FAILURE = "prospect_mock_url", "prospect_mock_failure"
"""What the xdist controller puts in each worker's ``workerinput``: the server's address, or
why it did not start."""
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
        self.http = httpx.Client(
            base_url=self.url, headers=self.headers, timeout=30, verify=_tls_context()
        )

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
        """Return as soon as ``count`` requests match (how many do).

        Raises ``AssertionError`` with the server's sentence (how many matched) if fewer
        than ``count`` have arrived within ``timeout`` seconds, so that pytest reports a
        failed test rather than an error; ``RuntimeError`` if the server refuses the
        question (a filter the contract does not know, the workspace deleted)."""
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
        help="Use the prospect-mock serving at URL instead of starting one for the run.",
    )
    group.addoption(
        "--prospect-mock-api-key",
        metavar="KEY",
        default=API_KEY,
        help=f"The key the fixtures send, for a server started with --api-key. Default: {API_KEY}.",
    )
    group.addoption(
        "--prospect-mock-serve-args",
        dest=SERVE_ARGS,
        metavar="ARGS",
        help="Options for the `prospect-mock serve` the plugin starts, as one string: "
        f'"--seed-count 200 --seed 3". Replaces the ini option {SERVE_ARGS}.',
    )
    parser.addini(
        SERVE_ARGS,
        type="args",
        default=[],
        help="Options for the `prospect-mock serve` the plugin starts: --seed-count 200 --seed 3.",
    )


def pytest_configure(config: pytest.Config) -> None:
    # pytest refuses a plugin whose hook it does not know: pytest_configure_node is xdist's.
    if config.pluginmanager.hasplugin("xdist") and not config.getoption("prospect_mock_url"):
        config.pluginmanager.register(_ServerForEveryWorker(config), "prospect-mock-xdist")


class _Node(Protocol):
    """What the controller uses of an xdist worker (xdist ships no type hints)."""

    workerinput: dict[str, Any]


class _ServerForEveryWorker:
    """In the xdist controller: one server for the run, its address handed to every worker.

    It starts with the first worker, so not for ``--collect-only`` or ``-n 0``, which start
    none, and is stopped when pytest unconfigures, which it does after Ctrl-C and crashed
    workers too. A server that cannot start fails the tests that ask for it, not the run.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.handed: dict[str, str] | None = None

    def pytest_configure_node(self, node: _Node) -> None:
        if self.handed is None:
            self.handed = self._start()
        node.workerinput.update(self.handed)

    def _start(self) -> dict[str, str]:
        running = ExitStack()
        self.config.add_cleanup(running.close)
        folder = running.enter_context(TemporaryDirectory(prefix="prospect-mock-"))
        try:
            url = running.enter_context(_served(Path(folder), _serve_args(self.config)))
        except RuntimeError as failure:
            return {HANDED_FAILURE: str(failure)}
        return {HANDED_URL: url}


@pytest.fixture(scope="session")
def prospect_mock_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MockServer]:
    """The prospect-mock of the run: the one at ``--prospect-mock-url``, the one the xdist
    controller started for every worker, or else one started for this session, on a free
    port with a database of its own."""
    config = request.config
    key = config.getoption("prospect_mock_api_key")
    url = config.getoption("prospect_mock_url") or _handed_url(config)
    if url:
        yield MockServer(url.rstrip("/"), key)
        return
    with _served(tmp_path_factory.mktemp("prospect-mock"), _serve_args(config)) as url:
        yield MockServer(url, key)


@pytest.fixture
def prospect_mock(
    prospect_mock_server: MockServer, request: pytest.FixtureRequest
) -> Iterator[MockWorkspace]:
    """A fresh workspace for this test, seeded as the server seeds new data; deleted after."""
    workspace = prospect_mock_server.workspace(_name_for(request.node.name))
    workspace.reset()
    yield workspace
    workspace.delete()


def _handed_url(config: pytest.Config) -> str | None:
    """The address the xdist controller handed this worker, if it is a worker."""
    handed: dict[str, str] = getattr(config, "workerinput", {})
    if HANDED_FAILURE in handed:
        raise RuntimeError(handed[HANDED_FAILURE])
    return handed.get(HANDED_URL)


def _serve_args(config: pytest.Config) -> list[str]:
    """The options for ``serve``: the command line's, or else the ini file's."""
    given: str | None = config.getoption(SERVE_ARGS)
    if given is not None:
        return shlex.split(given)
    from_ini: list[str] = config.getini(SERVE_ARGS)
    return from_ini


@contextmanager
def _served(folder: Path, serve_args: list[str]) -> Iterator[str]:
    """``prospect-mock serve`` on a free port, with its database and log in ``folder``: its
    base URL while it runs."""
    command = [sys.executable, "-m", "prospect_mock", "serve", "--port", "0", "--quiet"]
    command += ["--db", str(folder / "prospect-mock.json"), *serve_args]
    output = folder / "server.log"
    # A session of its own: Ctrl-C reaches pytest alone, whose teardown still deletes
    # workspaces; the server is stopped after that.
    with (
        output.open("w") as log,
        subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True) as process,
    ):
        try:
            yield _address_printed(process, output)
        finally:
            _stop(process)


def _address_printed(process: subprocess.Popen[bytes], output: Path) -> str:
    """The base URL the server prints once it listens."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while process.poll() is None and time.monotonic() < deadline:
        if match := _ADDRESS.search(output.read_text()):
            return match.group(1)
        time.sleep(0.05)
    raise RuntimeError(f"prospect-mock did not start:\n{output.read_text()}".rstrip())


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()


@cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default one, built once: building it for every test's client took 20 ms, most
    of what the fixture itself costs a test."""
    return httpx.create_ssl_context()


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
