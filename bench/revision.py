"""``--against REV``: another revision of this repository, installed in a venv of its own, so
that one run measures it beside the working tree and a speed-up is a ratio from that run.

The revision is exported with ``git archive`` and installed (not editable) in a venv made by
the bench's own Python, with the bench environment's versions of every package it shares as
constraints, so that the ratio measures the code and not a newer uvicorn. Venvs are kept by
full commit hash in ``~/.cache/prospect-mock-bench`` (outside the checkout: nothing to
ignore, and shared by every checkout), so only the first run against a revision installs it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .machine import PACKAGES
from .servers import REPO

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "prospect-mock-bench"
READY_MARK = "installed.json"
"""Written last, so that an install cut short is done again rather than used."""
OUTPUT_TAIL = 3000


class RevisionFailed(RuntimeError):
    """The revision is unknown, or would not install; the message says which."""


@dataclass(frozen=True)
class Revision:
    name: str
    """As given on the command line (e908b52, HEAD~3, a tag)."""
    commit: str
    executable: Path
    """Its ``prospect-mock`` console script."""
    versions: dict[str, str | None] = field(default_factory=dict)
    """Its versions of the packages the machine description names."""

    def describe(self) -> dict[str, object]:
        return {"revision": self.name, "commit": self.commit, **self.versions}


def resolve(name: str) -> str:
    """The full hash of the commit ``name`` names in this repository."""
    command = ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RevisionFailed(f"{name!r} names no commit of this repository ({REPO}).")
    return completed.stdout.strip()


def install(name: str, progress: Console) -> Revision:
    """The revision's venv, made on first use."""
    commit = resolve(name)
    home = CACHE / commit
    venv = home / "venv"
    executable = venv / "bin" / "prospect-mock"
    mark = home / READY_MARK
    python = platform.python_version()
    installed = mark.is_file() and executable.is_file()
    if installed and json.loads(mark.read_text()).get("python") == python:
        progress.print(f"{name}: installed in {home}", soft_wrap=True)
        return Revision(name, commit, executable, _versions(venv))
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-revision-") as scratch,
        progress.status(f"{name}: exporting {commit[:12]}") as status,
    ):
        source = Path(scratch) / "source"
        _export(commit, source)
        status.update(f"{name}: making a venv with Python {python}")
        _run([sys.executable, "-m", "venv", str(venv)], "python -m venv")
        status.update(f"{name}: installing it and its dependencies (pip)")
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text(_constraints())
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)]
        try:
            _run([*pip, "--constraint", str(constraints)], "pip install")
        except RevisionFailed:
            progress.print(
                f"[yellow]{escape(name)} does not install with this environment's versions; "
                "installing it with the versions its own pyproject.toml allows."
            )
            _run(pip, "pip install")
    mark.write_text(json.dumps({"python": python, "commit": commit}) + "\n")
    seconds = time.perf_counter() - started
    progress.print(f"{name}: installed in {home} in {seconds:.0f} s", soft_wrap=True)
    return Revision(name, commit, executable, _versions(venv))


def _export(commit: str, destination: Path) -> None:
    archive = destination.with_suffix(".tar")
    _run(["git", "-C", str(REPO), "archive", "--output", str(archive), commit], "git archive")
    with tarfile.open(archive) as tar:
        # The package's links to the top-level contract and folders stay links inside it.
        tar.extractall(destination, filter="data")


def _constraints() -> str:
    """``name==version`` for every package of the bench's environment but prospect-mock."""
    pins = {
        distribution.metadata["Name"].lower(): distribution.version
        for distribution in importlib.metadata.distributions()
        if distribution.metadata["Name"]  # a broken .dist-info has none
    }
    pins.pop("prospect-mock", None)
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


def _versions(venv: Path) -> dict[str, str | None]:
    code = (
        "import importlib.metadata as m, json, sys\n"
        "def version(name):\n"
        "    try:\n"
        "        return m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "print(json.dumps({name: version(name) for name in sys.argv[1:]}))\n"
    )
    command = [str(venv / "bin" / "python"), "-I", "-c", code, *PACKAGES]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    versions: dict[str, str | None] = json.loads(completed.stdout)
    return versions


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr)[-OUTPUT_TAIL:]
        raise RevisionFailed(f"{what} failed (exit {completed.returncode}):\n{output}")
