"""The Playwright suite in ``e2e/`` (TypeScript, four workers at once) on the package in
``npm/playwright/``: its global set-up starts one ``prospect-mock serve`` (this venv's, found
on PATH) and its ``mock`` fixture gives every test a workspace; the app under test is served
from another origin.

It proves what the README promises frontend teams: every test gets its own data, and
scenarios make the server show every screen state. A skipped, flaky or missing Playwright
test fails this test too, and so does a type error in the suite against the package's types.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.node import (
    E2E,
    NODE_ENV,
    NPM,
    NPX,
    PROSPECT_MOCK,
    install_e2e,
    needs_node_and_chromium,
    node,
    outcomes,
)

pytestmark = [pytest.mark.system, *needs_node_and_chromium]


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


def test_the_playwright_suite_passes_with_four_workers(app_url: str) -> None:
    install_e2e()
    code, output = node(str(NPM), "run", "typecheck", cwd=E2E, env=NODE_ENV, timeout=120)
    assert code == 0, output
    # `prospect-mock` on PATH, as after `pip install prospect-mock`: no command configured.
    path = f"{PROSPECT_MOCK.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**NODE_ENV, "APP_URL": app_url, "PATH": path}
    code, listing = node(str(NPX), "playwright", "test", "--list", cwd=E2E, env=env, timeout=120)
    assert code == 0, listing
    total = re.search(r"^Total: (\d+) tests?", listing, re.M)
    assert total, listing

    run = (str(NPX), "playwright", "test", "--workers", "4", "--reporter=line")
    code, output = node(*run, cwd=E2E, env=env, timeout=600)
    assert code == 0 and outcomes(output) == {"passed": int(total[1])}, output[-20000:]
