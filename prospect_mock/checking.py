"""``prospect-mock check``: Schemathesis against any server, and a verdict that fails loudly
when nothing was really tested: a URL that is not one, a server that does not answer, or a key
that the server refuses."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import httpx

from prospect_mock.contract.documents import SPEC_PATH

# Exit statuses of `check` besides 0 (passed) and click's 2 (usage error).
FAILURES = 1
UNTESTED = 3

PROBE_TIMEOUT_S = 5.0

# Schemathesis' own exit status for a run that could not do its job (no failure found).
SCHEMATHESIS_ERROR = 2


class CouldNotTest(click.ClickException):
    """The server was not tested: one line, and exit status 3."""

    exit_code = UNTESTED


class BaseURL(click.ParamType[str]):
    """An http:// or https:// URL with a host, checked before anything is sent to it."""

    name = "URL"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        url = str(value)
        problem = _problem(url)
        if problem is not None:
            self.fail(f"{url!r} {problem}", param, ctx)
        return url


def _problem(url: str) -> str | None:
    """What keeps ``url`` from being a server's base URL, if anything."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an unclosed [IPv6 address
        return f"is not a URL ({error})"
    if parts.scheme not in ("http", "https"):
        hint = "" if "://" in url else f"; did you mean http://{url}?"
        return f"is not an http:// or https:// URL{hint}"
    if not parts.hostname:
        return "names no host"
    try:
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    return None


@dataclass(frozen=True)
class Check:
    """One ``prospect-mock check`` run: the server under test and how to test it."""

    base_url: str
    api_key: str
    max_examples: int
    junit: str | None
    seed: int | None

    def run(self, config: Path) -> int:
        """Test the server; return the exit status of ``check``, or raise ``CouldNotTest``."""
        probe(self.base_url)
        with tempfile.TemporaryDirectory(prefix="prospect-mock-check-") as folder:
            report = Path(folder) / "run.json"
            status = subprocess.call(self.schemathesis_arguments(config, report))
            refusal = _refusal(_read(report))
        if status == SCHEMATHESIS_ERROR:
            raise CouldNotTest(
                f"Schemathesis could not test {self.base_url}, for the reason above."
            )
        if refusal is None:
            return status
        if status == FAILURES:  # A violation found is one, whatever else was not tested.
            click.echo(f"Error: {refusal}", err=True)
            return FAILURES
        raise CouldNotTest(refusal)

    def schemathesis_arguments(self, config: Path, report: Path) -> list[str]:
        """The Schemathesis command line, writing its JSON run report to ``report``."""
        arguments = [
            sys.executable, "-m", "schemathesis.cli",
            "--config-file", str(config),
            "run", str(SPEC_PATH),
            "--url", self.base_url,
            "--header", f"Authorization: Bearer {self.api_key}",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(self.max_examples),
            "--report-json-path", str(report),
        ]  # fmt: skip
        if self.junit:
            arguments += ["--report", "json,junit", "--report-junit-path", self.junit]
        else:
            arguments += ["--report", "json"]
        if self.seed is not None:
            arguments += ["--seed", str(self.seed)]
        return arguments


def probe(base_url: str) -> None:
    """Fail in seconds where nothing answers HTTP at ``base_url``: Schemathesis would try
    every operation in turn, and print a traceback for each."""
    try:
        httpx.get(base_url, timeout=PROBE_TIMEOUT_S)
    except httpx.TimeoutException:
        raise CouldNotTest(
            f"{base_url} did not answer within {PROBE_TIMEOUT_S:g} s; nothing was tested."
        ) from None
    except httpx.TransportError as error:  # refused, unknown host, TLS, not HTTP
        raise CouldNotTest(f"Cannot reach {base_url} ({error}); nothing was tested.") from None


def _read(report: Path) -> dict[str, Any] | None:
    # Absent when Schemathesis stopped before writing it (a usage error, a crash).
    try:
        content: dict[str, Any] = json.loads(report.read_text())
    except (OSError, ValueError):
        return None
    return content


def _refusal(report: dict[str, Any] | None) -> str | None:
    """A sentence naming the operations that answered only 401 or 403, if any did: those
    were not tested, so a run where that is all that happened is no pass."""
    if report is None or not report["warnings"]["missing_auth"]:
        return None
    refused, tested = report["warnings"]["missing_auth"], report["operations"]["tested"]
    if len(refused) >= tested:
        return (
            "Every operation answered 401 or 403, so nothing was tested: is the key right? "
            "Give the server's key with --api-key KEY."
        )
    return (
        f"{len(refused)} of {tested} operations answered only 401 or 403, so they were not "
        f"tested: {', '.join(refused)}. Give a key they accept with --api-key KEY."
    )
