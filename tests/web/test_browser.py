"""The docs page and CORS as a browser sees them: headless Chromium (Debian's package),
driven by Playwright, against a real ``prospect-mock serve``."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import PROSPECTS
from tests.servers import Served, free_port, running

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Chromium (Debian package 'chromium'; .ci/run installs it)"
    ),
]
# Without these, Chromium keeps calling home, and this machine refuses every such call.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with running(tmp_path / "db.json", "--quiet") as server:
        yield server


@pytest.fixture
def page() -> Iterator[Page]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1280, "height": 2000})
        browser.close()


def operation(page: Page, method: str, path: str) -> Locator:
    """Open an operation of the docs page and press "Try it out"."""
    block = page.locator(f".opblock-{method}", has=page.locator(f'[data-path="{path}"]'))
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    return block


def test_try_it_out_lists_and_creates_prospects(served: Served, page: Page) -> None:
    page.goto(f"{served.base}/")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() == 15
    page.click("button.authorize")
    page.fill(".auth-container input", "sk_test_browser")
    page.click(".auth-btn-wrapper button.authorize")
    page.click("button.btn-done")

    create = operation(page, "post", PROSPECTS)
    body = '{"company": "Clicked Ltd", "company_name": "Made in Chromium"}'
    create.locator("textarea.body-param__text").fill(body)
    create.locator("button.execute").click()
    status = create.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "201"

    listing = operation(page, "get", PROSPECTS)
    listing.locator("button.execute").click()
    status = listing.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert (
        "Made in Chromium"
        in listing.locator(".live-responses-table .microlight").first.inner_text()
    )


class _FrontendPage(BaseHTTPRequestHandler):
    """A page on another origin whose script calls the mock, as a frontend would."""

    api = ""

    def do_GET(self) -> None:
        body = f"""<!doctype html><script>
          window.result = fetch("{self.api}{PROSPECTS}?limit=3", {{
            headers: {{ Authorization: "Bearer sk_test_frontend", Accept: "application/json" }}
          }}).then(r => r.json().then(json => ({{ status: r.status, total: json.total }})))
            .catch(error => ({{ error: String(error) }}));
        </script>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_page_on_another_origin_can_fetch_with_the_bearer_key(served: Served, page: Page) -> None:
    handler = type("Page", (_FrontendPage,), {"api": served.base})
    frontend = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=frontend.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://localhost:{frontend.server_port}/")
        result = page.evaluate("window.result")
    finally:
        frontend.shutdown()
        frontend.server_close()
    assert result.get("status") == 200, result
    assert result["total"] >= 30
