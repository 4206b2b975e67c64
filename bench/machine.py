"""What the figures were measured on: hardware, software versions, and the server's commit."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from collections.abc import Iterable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .load import wrk_version

PACKAGES = ("prospect-mock", "connexion", "starlette", "uvicorn", "uvloop", "httptools")


def describe(client: str) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions(installed(importlib.metadata.distributions())),
        "prospect_mock_commit": _server_commit(),
        "wrk": wrk_version() if client == "wrk" else None,
    }


def installed(distributions: Iterable[importlib.metadata.Distribution]) -> dict[str, str]:
    """The version of each distribution by name (a broken .dist-info has none)."""
    return {d.metadata["Name"].lower(): d.version for d in distributions if d.metadata["Name"]}


def versions(installed: dict[str, str]) -> dict[str, str | None]:
    return {package: installed.get(package) for package in PACKAGES}


def _cpu_model() -> str | None:
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if "model name" in line:
                return line.split(":", 1)[1].strip()
        return None
    return platform.processor() or None


def _server_commit() -> str | None:
    """The commit of the prospect_mock that ``prospect-mock serve`` imports, with "+changes"
    when its working tree differs from it."""
    # Asked of a fresh interpreter in isolated mode: here, the current directory (the checkout
    # holding bench/) comes first on sys.path and may hold another prospect_mock than the one
    # installed in the environment, which is what the console script serves.
    code = "import importlib.util; print(importlib.util.find_spec('prospect_mock').origin)"
    try:
        found = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, check=True)
        checkout = Path(found.stdout.decode().strip()).parent
        commit = _git(checkout, "rev-parse", "--short", "HEAD")
        changed = _git(checkout, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed else "")


def _git(checkout: Path, *arguments: str) -> str:
    command = ["git", "-C", str(checkout), *arguments]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
