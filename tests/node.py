"""Node, npm and Playwright for the tests that run TypeScript: the package in
``npm/playwright/`` built, and projects that install it, each in a process group of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).parents[1]
E2E = PROJECT / "e2e"
PACKAGE = PROJECT / "npm" / "playwright"
NPM, NPX = shutil.which("npm"), shutil.which("npx")
CHROMIUM = shutil.which("chromium")
# This venv's `prospect-mock`, which the package's global set-up starts.
PROSPECT_MOCK = Path(sys.executable).with_name("prospect-mock")

needs_node_and_chromium = [
    pytest.mark.skipif(NPM is None or NPX is None, reason="needs Node's npm and npx"),
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Chromium (Debian package 'chromium'; .ci/run installs it)"
    ),
]
# Debian's Chromium only: nothing may download a browser of its own. The server for the run
# is the one each test asks for, never one the caller's environment names.
NODE_ENV = {
    **{key: value for key, value in os.environ.items() if not key.startswith("PROSPECT_MOCK_")},
    "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    "FORCE_COLOR": "0",
    "CHROMIUM": str(CHROMIUM),
}
# The line reporter's closing counts: "  2 failed", "  1 flaky", "  12 passed (9.8s)".
OUTCOME = re.compile(r"^\s+(\d+) (passed|failed|flaky|skipped|interrupted|did not run)\b", re.M)


def node(*command: str, cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run ``command`` in ``cwd``; its exit code and its output, stderr included.

    On timeout the whole process group goes: Playwright's workers, browsers and server too."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
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


def npm(*args: str, cwd: Path, timeout: float = 300) -> str:
    """``npm ARGS`` in ``cwd``, which must succeed; its output."""
    code, output = node(
        str(NPM), *args, "--no-audit", "--no-fund", cwd=cwd, env=NODE_ENV, timeout=timeout
    )
    assert code == 0, output[-20000:]
    return output


def outcomes(output: str) -> dict[str, int]:
    """How many tests ended each way, from the line reporter's closing counts."""
    return {kind: int(count) for count, kind in OUTCOME.findall(output)}


def installed_from(folder: Path) -> bool:
    """Whether ``folder/node_modules`` is what ``folder/package-lock.json`` says."""
    installed = folder / "node_modules" / ".package-lock.json"  # npm writes it on every install
    lock = folder / "package-lock.json"
    return installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime


def install_package() -> None:
    """``npm/playwright``'s own dependencies (tsc, Playwright's types), as its lock says."""
    if not installed_from(PACKAGE):
        npm("ci", cwd=PACKAGE)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def same_package(installed: Path) -> bool:
    """Whether ``installed`` holds the package's manifest and build exactly as built here."""
    manifest = installed / "package.json"
    return (
        manifest.exists()
        and manifest.read_bytes() == (PACKAGE / "package.json").read_bytes()
        and _files(installed / "dist") == _files(PACKAGE / "dist")
    )


def install_e2e() -> None:
    """``e2e/node_modules`` as its lock says, with the package as built from the sources now.

    e2e installs the package as a copy (``install-links`` in e2e/.npmrc), so a copy built
    from older sources is replaced."""
    install_package()
    npm("run", "build", cwd=PACKAGE)  # dist/ from the sources as they are now
    copy = E2E / "node_modules" / "@prospect-mock" / "playwright"
    if not (installed_from(E2E) and same_package(copy)):
        npm("ci", cwd=E2E)


def locked_version(folder: Path, package: str) -> str:
    """The version of ``package`` that ``folder/package-lock.json`` pins."""
    lock = json.loads((folder / "package-lock.json").read_text())
    version: str = lock["packages"][f"node_modules/{package}"]["version"]
    return version
