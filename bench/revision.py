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
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from .machine import installed, versions
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
    venv: Path

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "prospect-mock"

    def describe(self) -> dict[str, object]:
        """Its commit and its versions of the packages the machine's description names."""
        site_packages = [str(path) for path in self.venv.glob("lib/python*/site-packages")]
        found = installed(importlib.metadata.distributions(path=site_packages))
        return {"revision": self.name, "commit": self.commit, **versions(found)}


def install(name: str, progress: Console) -> Revision:
    """The revision's venv, made on first use."""
    try:
        commit = _run("git", "-C", str(REPO), "rev-parse", "--verify", f"{name}^{{commit}}")
    except RevisionFailed:
        raise RevisionFailed(f"{name!r} names no commit of this repository ({REPO}).") from None
    home = CACHE / commit
    revision, mark = Revision(name, commit, home / "venv"), home / READY_MARK
    python = platform.python_version()
    ready = mark.is_file() and revision.executable.is_file()
    if not ready or json.loads(mark.read_text()).get("python") != python:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        with progress.status(f"{name}: installing {commit[:12]} in {home}"):
            _install(revision, progress)
        mark.write_text(json.dumps({"python": python, "commit": commit}) + "\n")
    progress.print(f"{name}: installed in {home}", soft_wrap=True)
    return revision


def _install(revision: Revision, progress: Console) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-revision-") as scratch:
        source, constraints = Path(scratch) / "source", Path(scratch) / "constraints.txt"
        _run("git", "-C", str(REPO), "archive", "--output", f"{source}.tar", revision.commit)
        with tarfile.open(f"{source}.tar") as tar:
            # The package's links to the top-level contract and folders stay links inside it.
            tar.extractall(source, filter="data")
        _run(sys.executable, "-m", "venv", str(revision.venv))
        # Every package of the bench's environment but prospect-mock, at its version here.
        pins = installed(importlib.metadata.distributions())
        pins.pop("prospect-mock", None)
        constraints.write_text("".join(f"{name}=={pin}\n" for name, pin in sorted(pins.items())))
        pip = [
            str(revision.venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            str(source),
        ]
        try:
            _run(*pip, "--constraint", str(constraints))
        except RevisionFailed:
            progress.print(
                f"[yellow]{escape(revision.name)} does not install with this environment's "
                "versions; installing it with the versions its own pyproject.toml allows."
            )
            _run(*pip)


def _run(*command: str) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr)[-OUTPUT_TAIL:]
        raise RevisionFailed(
            f"{' '.join(command[:4])} failed (exit {completed.returncode}):\n{output}"
        )
    return completed.stdout.strip()
