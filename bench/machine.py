"""What the figures were measured on: hardware, software versions, and the server's commit."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
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
        **{package: _version(package) for package in PACKAGES},
        "prospect_mock_commit": _server_commit(),
        "wrk": wrk_version() if client == "wrk" else None,
    }


def prototype_description() -> dict[str, str | None]:
    """What the prototype without Connexion runs: its module, and what encodes its answers
    (orjson where this environment has it, as the prototype picks by default; the json
    module otherwise), since its figures depend on that choice and the mock's do not."""
    orjson = _version("orjson")
    return {
        "module": "bench.without_connexion",
        "json": f"orjson {orjson}" if orjson else "json (stdlib)",
    }


def _cpu_model() -> str | None:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or None
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return None


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _server_commit() -> str | None:
    """The commit of the prospect_mock that ``prospect-mock serve`` imports, with "+changes"
    when its working tree differs from it."""
    try:
        checkout = Path(_installed_package_file()).parent
        commit = _git(checkout, "rev-parse", "--short", "HEAD")
        changed = _git(checkout, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed else "")


def _installed_package_file() -> str:
    # Asked of a fresh interpreter in isolated mode: here, the current directory (the checkout
    # holding bench/) comes first on sys.path and may hold another prospect_mock than the one
    # installed in the environment, which is what the console script serves.
    code = "import importlib.util; print(importlib.util.find_spec('prospect_mock').origin)"
    completed = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def _git(checkout: Path, *arguments: str) -> str:
    completed = subprocess.run(
        ["git", "-C", checkout, *arguments], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()
