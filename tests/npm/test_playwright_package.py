"""``@prospect-mock/playwright`` as a user gets it: ``npm pack``'s tarball, installed with
``@playwright/test`` into a project of its own, whose config and specs are the TypeScript
blocks of README.md and docs/ (the config extended, in ``tests/data/playwright-user/``, with
this machine's Chromium and the app the documented specs drive, ``e2e/app``) beside specs
of its own that use every member of ``mock``; compiled with ``tsc`` and run with four
workers in Debian's Chromium.

Each run must pass whole (nothing skipped, failed or flaky), and every test must have had a
workspace of its own on one and the same server: the one the global set-up started and
stopped, or the one ``PROSPECT_MOCK_URL`` named, left running with no workspace behind.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.markdown_docs import user_typescript
from tests.node import (
    E2E,
    NODE_ENV,
    NPX,
    PACKAGE,
    PROJECT,
    PROSPECT_MOCK,
    install_package,
    locked_version,
    needs_node_and_chromium,
    node,
    npm,
)
from tests.servers import Served, running

pytestmark = [pytest.mark.system, *needs_node_and_chromium]
USER_PROJECT = PROJECT / "tests" / "data" / "playwright-user"
REPORTING = 9  # the tests of USER_PROJECT/tests, each of which reports its workspace
DOCUMENTED = sum(  # the tests of the docs' spec blocks
    len(re.findall(r"^\s*test\(", text, re.M))
    for path, text in user_typescript().items()
    if path.endswith(".spec.ts")
)
TESTS = REPORTING + DOCUMENTED
AUTH = {"Authorization": "Bearer sk_test_package"}


def pack(destination: Path) -> Path:
    """The package's tarball, as ``npm pack`` makes it (its prepack compiles ``dist/``)."""
    install_package()  # tsc, which prepack runs
    npm("pack", "--pack-destination", str(destination), cwd=PACKAGE)
    [tarball] = destination.glob("prospect-mock-playwright-*.tgz")
    return tarball


@pytest.fixture(scope="module")
def user_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of a user's own: the tarball, with the Playwright e2e/ uses, installed."""
    tarball = pack(tmp_path_factory.mktemp("tarball"))
    project = tmp_path_factory.mktemp("user") / "project"
    shutil.copytree(USER_PROJECT, project)
    # The docs' blocks, as the files they name; their config is extended by the project's.
    documented = user_typescript()
    assert {"playwright.config.ts", "tests/prospects.spec.ts"} <= documented.keys()
    for path, text in documented.items():
        target = project / ("documented.config.ts" if path == "playwright.config.ts" else path)
        assert not target.exists(), f"{path} is a file of tests/data/playwright-user too"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    manifest = {
        "name": "a-users-app",
        "private": True,
        "devDependencies": {
            "@playwright/test": locked_version(E2E, "@playwright/test"),
            "@prospect-mock/playwright": f"file:{tarball}",
            "@types/node": locked_version(PACKAGE, "@types/node"),
            "typescript": locked_version(PACKAGE, "typescript"),
        },
    }
    (project / "package.json").write_text(json.dumps(manifest, indent=2))
    # Offline where npm's cache has them already (e2e/ and npm/playwright/ installed them).
    npm("install", "--prefer-offline", cwd=project)
    return project


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """The app the documented specs drive: ``e2e/app``, on another origin than the mock's."""
    handler = partial(_QuietFiles, directory=str(E2E / "app"))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_port}"
    finally:
        site.shutdown()
        site.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def run_playwright(project: Path, app: str, **env: str) -> dict[str, Any]:
    """``npx playwright test`` with four workers, the app at ``app``; its JSON report, once
    it passed whole."""
    report = project / "report.json"
    environment = {**NODE_ENV, "PLAYWRIGHT_JSON_OUTPUT_NAME": str(report), "APP_URL": app, **env}
    command = (str(NPX), "playwright", "test", "--workers", "4", "--reporter=line,json")
    code, output = node(*command, cwd=project, env=environment, timeout=300)
    assert code == 0, output[-20000:]
    results: dict[str, Any] = json.loads(report.read_text())
    stats = results["stats"]
    outcome = {kind: stats[kind] for kind in ("expected", "unexpected", "flaky", "skipped")}
    assert outcome == {"expected": TESTS, "unexpected": 0, "flaky": 0, "skipped": 0}, output
    return results


def reported_tests(report: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every test of a JSON report, from suites nested in files and describes."""
    suites = list(report["suites"])
    while suites:
        suite = suites.pop()
        suites += suite.get("suites", [])
        for spec in suite.get("specs", []):
            yield from spec["tests"]


def workspaces_seen(report: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The servers (``http://host:port``) and the workspace names of the ``mock.url`` each
    test reported (tests/data/playwright-user/tests/browser.ts)."""
    urls = [
        annotation["description"]
        for test in reported_tests(report)
        for annotation in test["annotations"]
        if annotation["type"] == "workspace"
    ]
    split = [url.split("/ws/") for url in urls]
    return {server for server, _ in split}, [name for _, name in split]


def test_the_types_ship_in_the_tarball(user_project: Path) -> None:
    code, output = node(
        str(NPX), "tsc", "--project", ".", cwd=user_project, env=NODE_ENV, timeout=120
    )
    assert code == 0, output


def test_the_global_setup_starts_one_server_for_four_workers_and_stops_it(
    user_project: Path, app_url: str
) -> None:
    report = run_playwright(user_project, app_url, PROSPECT_MOCK_COMMAND=str(PROSPECT_MOCK))
    servers, names = workspaces_seen(report)
    assert len(servers) == 1 and len(set(names)) == REPORTING, names
    workers = {
        result["parallelIndex"] for test in reported_tests(report) for result in test["results"]
    }
    assert workers == {0, 1, 2, 3}
    [server] = servers
    with pytest.raises(httpx.TransportError):  # the global teardown stopped it
        httpx.get(f"{server}/openapi.json", timeout=5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with running(tmp_path / "db.json", "--quiet") as server:
        yield server


def test_a_server_named_by_prospect_mock_url_is_used_and_left_clean(
    user_project: Path, served: Served, tmp_path: Path, app_url: str
) -> None:
    # A command that cannot run: the global set-up must start nothing.
    missing = str(tmp_path / "no-such-prospect-mock")
    report = run_playwright(
        user_project, app_url, PROSPECT_MOCK_URL=served.base, PROSPECT_MOCK_COMMAND=missing
    )
    servers, names = workspaces_seen(report)
    assert servers == {served.base} and len(set(names)) == REPORTING, names
    left = httpx.get(f"{served.base}/__admin/workspaces", headers=AUTH, timeout=5).json()
    assert [workspace["name"] for workspace in left["data"]] == ["default"]
