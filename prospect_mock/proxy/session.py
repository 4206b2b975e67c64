"""One run of ``prospect-mock proxy``: the app it serves, made from the command's options,
and what it reports when it stops."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path

import httpx
from rich.console import Console
from starlette.types import ASGIApp

from prospect_mock.proxy.exchange import ProxyApp
from prospect_mock.proxy.recording import FixtureRecorder
from prospect_mock.proxy.report import print_summary, write_json, write_junit
from prospect_mock.proxy.upstream import Upstream
from prospect_mock.proxy.violations import Violations

__all__ = ["ProxySession"]

MOCK_URL = "http://prospect-mock"
"""How the built-in mock is named in messages; it is called in the process, not over HTTP."""


class ProxySession:
    def __init__(
        self,
        upstream_url: str,
        *,
        timeout_s: float,
        max_answer_bytes: int,
        enforce: bool = False,
        mock_operations: Collection[str] = (),
        build_mock: Callable[[str], ASGIApp] | None = None,
        db_path: str | None = None,
        record_dir: str | None = None,
    ) -> None:
        self.upstream_url = upstream_url
        self._temporary: Path | None = None
        mock = None
        if mock_operations:
            # The mock is handed in by the command line: the proxy does not import it.
            assert build_mock is not None, "mock_operations need build_mock"
            if db_path is None:
                self._temporary = Path(tempfile.mkdtemp(prefix="prospect-mock-proxy-"))
                db_path = str(self._temporary / "mock.json")
            mock_app = build_mock(db_path)
            transport = httpx.ASGITransport(app=mock_app)
            mock = (Upstream(MOCK_URL, timeout_s, max_answer_bytes, transport=transport), mock_app)
        self.app = ProxyApp(
            Upstream(upstream_url, timeout_s, max_answer_bytes),
            enforce=enforce,
            mock=mock,
            mock_operations=mock_operations,
            recorder=FixtureRecorder(Path(record_dir)) if record_dir else None,
        )

    def finish(self, console: Console, report: str | None, junit: str | None) -> Violations:
        """Print the coverage and the violations, write the reports asked for, and return
        the violations."""
        violations, coverage = self.app.violations, self.app.coverage
        print_summary(coverage, violations, console)
        if report:
            write_json(Path(report), coverage, violations)
        if junit:
            write_junit(Path(junit), coverage, violations)
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
        return violations
