"""The Playwright suite in ``e2e/`` (TypeScript, four workers at once) against one real
``prospect-mock serve``, with the app under test served from another origin.

It proves what the README promises frontend teams: every test gets its own data, and
scenarios make the server show every screen state. A skipped, flaky or missing Playwright
test fails this test too.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .servers import Served, running

E2E = Path(__file__).parents[1] / "e2e"
NPM, NPX = shutil.which("npm"), shutil.which("npx")
CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.skipif(NPM is None or NPX is None, reason="needs Node's npm and npx"),
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Chromium (Debian package 'chromium'; .ci/run installs it)"
    ),
]
# The suite drives Debian's Chromium; nothing may download a browser of its own.
NODE_ENV = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "FORCE_COLOR": "0"}
# The line reporter's closing counts: "  2 failed", "  1 flaky", "  12 passed (9.8s)".
OUTCOME = re.compile(r"^\s+(\d+) (passed|failed|flaky|skipped|interrupted|did not run)\b", re.M)


def node(*command: str, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run ``command`` in ``e2e/``; its exit code and its output, stderr included.

    On timeout the whole process group goes: Playwright's workers and browsers as well."""
    process = subprocess.Popen(
        command,
        cwd=E2E,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{' '.join(command)} took over {timeout:.0f} s:\n{output[-20000:]}")
    return process.returncode, output


def install_node_modules() -> None:
    """``npm ci`` unless ``node_modules`` is already what ``package-lock.json`` says."""
    installed = E2E / "node_modules" / ".package-lock.json"  # npm writes it on every install
    lock = E2E / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    code, output = node(NPM, "ci", "--no-audit", "--no-fund", env=NODE_ENV, timeout=300)
    assert code == 0, output


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_url() -> Iterator[str]:
    """``e2e/app`` served as a static site, on another origin than the mock's."""
    handler = partial(_QuietFiles, directory=str(E2E / "app"))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_port}"
    finally:
        site.shutdown()
        site.server_close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with running(tmp_path / "db.json", "--quiet") as server:
        yield server


def test_the_playwright_suite_passes_with_four_workers(served: Served, app_url: str) -> None:
    install_node_modules()
    env = {**NODE_ENV, "MOCK_URL": served.base, "APP_URL": app_url, "CHROMIUM": str(CHROMIUM)}
    code, listing = node(NPX, "playwright", "test", "--list", env=env, timeout=120)
    assert code == 0, listing
    total = re.search(r"^Total: (\d+) tests?", listing, re.M)
    assert total, listing

    code, output = node(
        NPX, "playwright", "test", "--workers", "4", "--reporter=line", env=env, timeout=600
    )
    outcomes = {kind: int(count) for count, kind in OUTCOME.findall(output)}
    assert code == 0 and outcomes == {"passed": int(total[1])}, output[-20000:]
