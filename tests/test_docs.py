"""Every code block of README.md and docs/*.md is run or checked, and every relative link
resolves, so that the documentation cannot go stale.

Sybil parses the Markdown (one example per fenced block, whatever its language) and each
example is a test of its own, evaluated by its language:

- ``sh``: each command runs in bash, in a scratch folder per page, against one live
  ``prospect-mock serve`` (``127.0.0.1:8000`` in the text is its address); a page's blocks run
  in order, from a reset server, sharing their variables. Each command must exit 0; a curl
  must get a status under 500, and what a comment after it claims (``# 201 {"id": ...}``,
  ``...`` for the rest), or the ``json`` block under it shows. Commands that run until stopped
  (``make serve``, ``prospect-mock serve`` and ``proxy``) run until they print their ``API:``
  line, on a free port, then get SIGTERM and must exit 0. Commands too slow or too wide to run
  here are checked by their form, each by a rule below that says how (``make test`` is what
  ``.ci/run`` runs; npm lines are run by tests/npm/test_playwright_package.py and
  tests/npm/test_e2e.py). A command no rule knows fails.
- ``python``: test files, written into one scratch project (its ``pyproject.toml`` the ``toml``
  block that names it) and run with ``pytest -n 2`` on the pytest plugin.
- ``ts``: a user's Playwright project, compiled and run by tests/npm/test_playwright_package.py;
  an excerpt of ``e2e/`` must be lines of that file, in order.
- ``js``: run by Node against the live server.
- ``yaml``: GitHub Actions jobs, parsed; each ``prospect-mock`` command parsed by the real
  command line, and prospect-mock installed from a checkout named as the docs say.
- ``toml``, ``json``: parsed; a JSON answer compared with the real one.
- no language: a usage synopsis lists exactly the command's options; an output sample is the
  real output of what produces it; a folder layout names files that exist.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
import yaml
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from prospect_mock import __version__
from prospect_mock.cli import main as prospect_mock_cli
from tests.markdown_docs import (
    DOCUMENTS,
    PROJECT,
    anchors,
    code_blocks,
    github_slug,
    links,
    named_path,
    user_typescript,
)
from tests.servers import CLI

VENV_BIN = Path(sys.executable).parent
AUTH = {"Authorization": "Bearer sk_test_docs"}
DOCUMENTED = "127.0.0.1:8000"
"""The address the docs use for the mock: commands get the live server's instead."""
API_LINE = re.compile(r"API:\s+(http://\S+?)/api/crm/prospect")
ELLIPSIS = "\u2026"


# -- Sybil: every fenced block is an example -------------------------------------------------


class FencedBlocks:
    """A Sybil parser for every fenced code block, whatever its language (or none): each
    becomes an example, evaluated by :func:`evaluate` according to its language."""

    lexer = RawFencedCodeBlockLexer(info_pattern=re.compile(r"(?P<language>[^\n]*)$\n", re.M))

    def __call__(self, document: Document) -> Iterator[Region]:
        for region in self.lexer(document):
            region.lexemes["language"] = region.lexemes["language"].strip()
            region.parsed = str(region.lexemes["source"])
            region.evaluator = evaluate
            yield region


def language(example: Example) -> str:
    value: str = example.region.lexemes["language"]
    return value


def example_id(example: Example) -> str:
    where = Path(example.path).relative_to(PROJECT)
    return f"{where}:{example.line}:{language(example) or 'text'}"


def evaluate(example: Example) -> None:
    docs: Docs = example.namespace["docs"]
    kind = language(example)
    check = EVALUATORS.get(kind)
    assert check is not None, f"no test knows a {kind!r} block: add one to tests/test_docs.py"
    check(docs, example)


SYBIL = Sybil(parsers=[FencedBlocks()], path=str(PROJECT), patterns=["README.md", "docs/*.md"])
PARSED = {path: SYBIL.parse(path) for path in DOCUMENTS if SYBIL.should_parse(path)}
EXAMPLES = {path: list(document) for path, document in PARSED.items()}


# -- The live server and the scratch folders --------------------------------------------------


@dataclass
class Result:
    """What one documented command did."""

    command: str
    code: int
    stdout: str
    stderr: str
    statuses: list[int] = field(default_factory=list)


@dataclass
class Command:
    """A command of an ``sh`` block, continuation lines included, the comment on its last
    line, and the comment lines right under it."""

    text: str
    comment: str
    below: str = ""

    @property
    def claim(self) -> str:
        """What the docs say it answers: the lines under it, or else its own comment."""
        return self.below or self.comment


class Docs:
    """The state the docs' examples share: one live server, a scratch folder per page, the
    results of the ``sh`` blocks run so far, and the pytest project of the ``python`` blocks."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.live_folder = root / "live"
        self.live_folder.mkdir()
        self.log = self.live_folder / "server.log"
        # Not --quiet: the request log and the banner are documented output.
        with self.log.open("w") as console:
            self.server = subprocess.Popen(
                [CLI, "serve", "--port", "0", "--db", "prospect-mock.json"],
                cwd=self.live_folder,
                stdout=console,
                stderr=subprocess.STDOUT,
                env=clean_environment(),
                start_new_session=True,
            )
        self.base = wait_for_api_line(self.server, self.log, 60)
        self.address = self.base.removeprefix("http://")
        self.http = httpx.Client(base_url=self.base, headers=AUTH, timeout=30)
        self.bin = root / "bin"
        self.bin.mkdir()
        write_pip_wrapper(self.bin / "pip")
        self.site = root / "site"
        self.done: dict[tuple[str, int], list[Result]] = {}
        self.variables: dict[str, list[str]] = {}
        self.python_outcomes: dict[str, list[str]] | None = None
        self.python_output = ""
        self.python_project = root / "python-project"

    def close(self) -> None:
        self.http.close()
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()

    def folder(self, example: Example) -> Path:
        """The page's scratch folder, beside a checkout named ``prospect-mock`` (this one)."""
        folder = self.root / Path(example.path).stem
        if not folder.exists():
            folder.mkdir()
            (folder / "prospect-mock").symlink_to(PROJECT, target_is_directory=True)
        return folder

    def environment(self, **extra: str) -> dict[str, str]:
        env = clean_environment()
        env["PATH"] = f"{self.bin}:{VENV_BIN}:{env['PATH']}"
        env["DOCS_SITE"] = str(self.site)
        env["DOCS_PYTHON"] = sys.executable
        return {**env, **extra}

    def reset_live_server(self) -> None:
        """The live server as it started: seeded, only ``default``, nothing journaled."""
        for workspace in self.http.get("/__admin/workspaces").json()["data"]:
            if workspace["name"] != "default":
                self.http.delete(f"/__admin/workspaces/{workspace['name']}").raise_for_status()
        self.http.post("/__admin/reset").raise_for_status()
        self.http.delete("/__admin/requests").raise_for_status()
        self.http.delete("/__admin/scenarios").raise_for_status()

    # -- sh blocks ------------------------------------------------------------------------

    def shell_results(self, example: Example) -> list[Result]:
        """Run the page's ``sh`` blocks up to this one (each once), in order, from a reset
        server; this block's results."""
        key = (example.path, example.start)
        if key not in self.done:
            page = [each for each in EXAMPLES[Path(example.path)] if language(each) == "sh"]
            if not any((example.path, each.start) in self.done for each in page):
                self.reset_live_server()
            for each in page:
                if (example.path, each.start) in self.done:
                    continue
                self.done[(example.path, each.start)] = []  # a failure runs once
                self.done[(example.path, each.start)] = self.run_block(each)
                if each.start == example.start:
                    break
        return self.done[key]

    def run_block(self, example: Example) -> list[Result]:
        variables = self.variables.setdefault(example.path, [])
        results = []
        for command in commands(self.rewrite(example.parsed)):
            if is_assignment(command.text):
                variables.append(command.text)
                continue
            check = rule_for(command.text)
            where = f"{example_id(example)}: `{command.text}`"
            result = check(self, example, command, "\n".join(variables))
            if result is not None:
                assert result.code == 0, f"{where} exited {result.code}:\n{result.stderr}"
                check_claim(where, command.claim, result)
                results.append(result)
        return results

    def rewrite(self, text: str) -> str:
        return text.replace(DOCUMENTED, self.address)

    def bash(
        self, script: str, cwd: Path, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", PRELUDE + script],
            cwd=cwd,
            env=self.environment(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    # -- python blocks ----------------------------------------------------------------------

    def python_results(self) -> dict[str, list[str]]:
        """Each python block's test file, run with ``pytest -n 2`` in one project: the
        outcome of each of its tests, by file name."""
        if self.python_outcomes is None:
            self.python_outcomes = {}
            project = self.build_python_project()
            report = project / "junit.xml"
            command = [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider"]
            finished = subprocess.run(
                [*command, f"--junitxml={report}"],
                cwd=project,
                env=self.environment(),
                capture_output=True,
                text=True,
                timeout=300,
            )
            self.python_output = finished.stdout + finished.stderr
            outcomes: dict[str, list[str]] = {}
            for case in ElementTree.parse(report).getroot().iter("testcase"):
                module = case.get("classname", "").split(".")[0]
                verdicts = [child.tag for child in case if child.tag != "system-out"]
                outcomes.setdefault(f"{module}.py", []).append(
                    verdicts[0] if verdicts else "passed"
                )
            self.python_outcomes = outcomes
        return self.python_outcomes

    def build_python_project(self) -> Path:
        project = self.python_project
        if project.exists():
            return project
        project.mkdir()
        pyproject = "[tool.pytest.ini_options]\n"
        for document in DOCUMENTS:
            for block in code_blocks(document):
                if block.language == "toml" and named_path(block) == "pyproject.toml":
                    pyproject = block.text
                elif block.language == "python":
                    name = python_file_name(block)
                    assert not (project / name).exists(), f"two python blocks are {name}"
                    (project / name).write_text(block.text)
        (project / "pyproject.toml").write_text(pyproject)
        # The folder of fixture files that the documented command line names: as
        # `prospect-mock proxy --record` writes them, which is the fixtures' own format.
        recorded = project / "recorded fixtures"
        recorded.mkdir()
        for fixture in (PROJECT / "fixtures").glob("*.json"):
            shutil.copy(fixture, recorded / fixture.name)
        return project


def clean_environment() -> dict[str, str]:
    """This environment without what would change a documented command: prospect-mock's
    own variables and the outer pytest's."""
    prefixes = ("PROSPECT_MOCK_", "PYTEST_", "PLAYWRIGHT_", "MAKE", "MFLAGS")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}


def wait_for_api_line(process: subprocess.Popen[Any], log: Path, timeout: float) -> str:
    """The base URL a starting server (or proxy) prints on its ``API:`` line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if match := API_LINE.search(log.read_text()):
            return match.group(1)
        if process.poll() is not None:
            raise AssertionError(f"exited {process.returncode}:\n{log.read_text()[-5000:]}")
        time.sleep(0.05)
    raise AssertionError(f"no API: line within {timeout:.0f} s:\n{log.read_text()[-5000:]}")


def write_pip_wrapper(path: Path) -> None:
    """``pip`` for the documented commands: what they install goes to a folder of its own,
    without dependencies (this environment has them), so that no test changes this venv."""
    path.write_text(
        "#!/bin/sh\n"
        'PIP="$DOCS_PYTHON -m pip --disable-pip-version-check --quiet"\n'
        'case "$1" in\n'
        '  install) shift; rm -rf "$DOCS_SITE";'
        ' exec $PIP install --no-deps --target "$DOCS_SITE" "$@" ;;\n'
        '  wheel) shift; exec $PIP wheel "$@" ;;\n'
        '  *) echo "pip $1: not run by tests/test_docs.py" >&2; exit 2 ;;\n'
        "esac\n"
    )
    path.chmod(0o755)


PRELUDE = (
    "set -o pipefail\n"
    # Every curl's status, on stderr, for the test to read; its output is left as it is.
    "curl() { command curl --silent --show-error"
    " --write-out '%{stderr}@@HTTP %{http_code}\\n' \"$@\"; }\n"
)


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docs]:
    shared = Docs(tmp_path_factory.mktemp("docs"))
    try:
        yield shared
    finally:
        shared.close()


# -- Reading an sh block ----------------------------------------------------------------------


def split_comment(line: str) -> tuple[str, str]:
    """A shell line's command and its comment (an unquoted ``#`` after a space)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def commands(source: str) -> list[Command]:
    found: list[Command] = []
    lines = source.split("\n")
    index, after_command = 0, False
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            after_command = False
            continue
        if line.lstrip().startswith("#"):
            if after_command:  # a comment right under a command is about its output
                below = found[-1].below
                found[-1].below = f"{below} {line.lstrip()[1:].strip()}".strip()
            continue
        text, comment = split_comment(line)
        while text.endswith("\\") and index < len(lines):
            more, comment = split_comment(lines[index])
            text = f"{text}\n{more}"
            index += 1
        found.append(Command(text, comment))
        after_command = True
    return found


def is_assignment(text: str) -> bool:
    words = shlex.split(text)
    return len(words) == 1 and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0], re.S) is not None


CLAIM = re.compile(r"(?P<status>[1-5]\d\d)?\s*(?P<body>[\[{].*)?", re.S)


def check_claim(where: str, comment: str, result: Result) -> None:
    """A curl's status is under 500 unless its comment claims that very status, and its
    output is what the comment claims, if it claims any (a status, a JSON body, or both)."""
    claim = CLAIM.fullmatch(comment)
    status = claim["status"] if claim else None
    body = claim["body"] if claim else None
    for got in result.statuses:
        if status:
            assert got == int(status), f"{where}: answered {got}, the docs say {status}"
        else:
            assert got < 500, f"{where}: answered {got}:\n{result.stdout}"
    if body:
        assert_json_claim(where, body, result.stdout)


def json_pattern(text: str) -> Any:
    """JSON in which ``...`` stands for more: ``, ...}`` more members, ``, ...]`` more items,
    ``"abc..."`` any string that starts with ``abc``."""
    text = re.sub(r",\s*\.\.\.\s*}", f', "{ELLIPSIS}": null}}', text)
    text = re.sub(r",\s*\.\.\.\s*]", f', "{ELLIPSIS}"]', text)
    text = text.replace('..."', f'{ELLIPSIS}"')
    return json.loads(text)


def matches(pattern: Any, actual: Any) -> bool:
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return False
        keys = set(pattern) - {ELLIPSIS}
        if ELLIPSIS not in pattern and set(actual) != keys:
            return False
        return all(key in actual and matches(pattern[key], actual[key]) for key in keys)
    if isinstance(pattern, list):
        if not isinstance(actual, list):
            return False
        if pattern and pattern[-1] == ELLIPSIS:
            pattern = pattern[:-1]
            actual = actual[: len(pattern)]
        return len(pattern) == len(actual) and all(map(matches, pattern, actual))
    if isinstance(pattern, str) and pattern.endswith(ELLIPSIS):
        return isinstance(actual, str) and actual.startswith(pattern[: -len(ELLIPSIS)])
    return type(pattern) is type(actual) and pattern == actual


def assert_json_claim(where: str, claim: str, output: str) -> None:
    try:
        actual = json.loads(output)
    except ValueError:
        raise AssertionError(f"{where}: the answer is not JSON:\n{output}") from None
    assert matches(json_pattern(claim), actual), f"{where}: the docs say\n{claim}\ngot\n{output}"


# -- The rules for sh commands: each says how it is tested ------------------------------------

Rule = Callable[[Docs, Example, Command, str], "Result | None"]
RULES: list[tuple[re.Pattern[str], Rule]] = []


def rule(pattern: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        RULES.append((re.compile(pattern, re.S), function))
        return function

    return register


def rule_for(text: str) -> Rule:
    for pattern, function in RULES:
        if pattern.match(text):
            return function
    raise AssertionError(f"no rule of tests/test_docs.py knows how to test `{text}`")


def run(docs: Docs, example: Example, command: Command, variables: str) -> Result:
    """Run it, in the page's folder, with the variables the page set before it."""
    done = docs.bash(f"{variables}\n{command.text}\n", docs.folder(example))
    statuses = [int(status) for status in re.findall(r"^@@HTTP (\d+)$", done.stderr, re.M)]
    stderr = re.sub(r"^@@HTTP \d+\n", "", done.stderr, flags=re.M)
    return Result(command.text, done.returncode, done.stdout, stderr, statuses)


rule(r"curl\s")(run)


@rule(r"prospect-mock (check|reset)\s")
def prospect_mock_command(docs: Docs, example: Example, command: Command, variables: str) -> Result:
    """Run as written (this venv's ``prospect-mock``): it must exit 0."""
    return run(docs, example, command, variables)


@rule(r"(make serve|\.venv/bin/prospect-mock serve|prospect-mock (serve|proxy))\b")
def until_stopped(docs: Docs, example: Example, command: Command, variables: str) -> Result:
    """Commands that serve until stopped: on a free port (``--port N`` becomes ``--port 0``),
    until their ``API:`` line, then SIGTERM; they must exit 0, having written the reports
    they were asked for. ``make`` and ``.venv/bin`` run in the checkout, with their database
    in the scratch folder (``PROSPECT_MOCK_DB``)."""
    text = re.sub(r"--port \d+", "--port 0", command.text)
    in_checkout = not text.startswith("prospect-mock")
    cwd = PROJECT if in_checkout else docs.folder(example)
    db = docs.folder(example) / f"served-{len(list(docs.folder(example).glob('*.log')))}.json"
    env = {"PROSPECT_MOCK_PORT": "0"}
    if "--db" not in text:
        env["PROSPECT_MOCK_DB"] = str(db)
    # make runs with the PATH a user has, without this venv: it finds python3 itself.
    environment = {**clean_environment(), **env} if in_checkout else docs.environment(**env)
    log = db.with_suffix(".log")
    with log.open("w") as output:
        process = subprocess.Popen(
            ["bash", "-c", f"{variables}\nexec {text}\n"],
            cwd=cwd,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # make installs first if pyproject.toml changed since .venv was made.
        base = wait_for_api_line(process, log, 600 if text.startswith("make") else 60)
        ready = "/__admin/coverage" if " proxy " in f" {text} " else "/openapi.json"
        assert httpx.get(f"{base}{ready}", timeout=10).status_code == 200
        if text.startswith("make"):
            # The server's own pid (its lock names it): make then exits as the server does.
            holder = json.loads(Path(f"{db}.lock").read_text())["pid"]
            os.kill(holder, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    words = shlex.split(text)
    for option in ("--report", "--junit"):
        if option in words:
            written = docs.folder(example) / words[words.index(option) + 1]
            assert written.exists(), f"{option} was not written"
    if text.startswith("make serve"):
        # "on http://127.0.0.1:8000": what serve listens on unless told otherwise.
        serve = prospect_mock_cli.commands["serve"]
        defaults = {parameter.name: parameter.default for parameter in serve.params}
        assert (defaults["host"], defaults["port"]) == ("127.0.0.1", 8000)
    return Result(command.text, code, log.read_text(), "")


@rule(r"make test$")
def make_test(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run here (it runs this very suite): it is exactly what CI runs, and it installs,
    then runs ruff, mypy, the import layers' check and the whole test suite."""
    assert "make test" in (PROJECT / ".ci" / "run").read_text().split("\n")
    recipe = make_recipe("test")
    assert recipe["prerequisites"] == ["install"]
    assert recipe["lines"] == [
        "$(BIN)/ruff check .",
        "$(BIN)/ruff format --check .",
        "$(BIN)/mypy",
        "$(BIN)/lint-imports",
        "$(BIN)/pytest",
    ]
    return None


@rule(r"\.venv/bin/pytest$")
def venv_pytest(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run here (it is this very suite): the last step of ``make test``."""
    assert "$(BIN)/pytest" in make_recipe("test")["lines"]
    assert "BIN := $(VENV)/bin" in makefile() and "VENV := .venv" in makefile()
    return None


@rule(r'\.venv/bin/pytest -m "not system" -n 2$')
def venv_pytest_fast(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run here (it is this very suite, less its system tests): ``make test-fast``."""
    assert make_recipe("test-fast")["lines"] == ['$(BIN)/pytest -m "not system" -n 2']
    assert make_recipe("test-fast")["prerequisites"] == ["install"]
    return None


@rule(r"python3 -m venv \.venv && \.venv/bin/pip install -e '\.\[test\]'$")
def contributor_install(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run here (it would install everything anew): what ``make install`` does."""
    assert "PYTHON ?= python3" in makefile()
    assert "$(PYTHON) -m venv $(VENV)" in make_recipe("$(SERVE_STAMP)")["lines"]
    assert "$(BIN)/pip install --quiet --editable '.[test]'" in make_recipe("$(STAMP)")["lines"]
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    assert "test" in pyproject["project"]["optional-dependencies"]
    return None


@rule(r"pip (install|wheel)\s")
def pip(docs: Docs, example: Example, command: Command, variables: str) -> Result:
    """Run, with a ``pip`` that installs into a folder of its own and no dependencies; what
    it installed must be this version of prospect-mock, whole, working from that folder."""
    result = run(docs, example, command, variables)
    if command.text.startswith("pip wheel"):
        built = [wheel.name for wheel in (docs.folder(example) / "dist").glob("*.whl")]
        said = command.comment.replace("VERSION", __version__).removeprefix("dist/")
        assert built == [said] and said.startswith(f"prospect_mock-{__version__}-"), built
        return result
    assert result.code == 0, result.stderr
    [installed] = docs.site.glob("prospect_mock-*.dist-info")
    assert installed.name == f"prospect_mock-{__version__}.dist-info"
    for shipped in ("openapi.yaml", "admin.yaml", "schemathesis.toml", "fixtures/prospects.json"):
        assert (docs.site / "prospect_mock" / shipped).is_file(), shipped
    script = "import prospect_mock, sys; sys.stdout.write(prospect_mock.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", script],
        cwd=docs.root,
        env={**docs.environment(), "PYTHONPATH": str(docs.site)},
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(docs.site)), where
    return result


@rule(r"pytest\s")
def user_pytest(docs: Docs, example: Example, command: Command, variables: str) -> Result:
    """Run in the project of the python blocks (with its ``recorded fixtures``)."""
    project = docs.build_python_project()
    done = docs.bash(f"{variables}\n{command.text}\n", project, timeout=300)
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout
    return Result(command.text, done.returncode, done.stdout, done.stderr)


@rule(r"schemathesis run\s")
def schemathesis_run(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Parsed by Schemathesis' own command line (a whole run takes minutes), from the
    checkout's top folder, where ``schemathesis.toml`` is."""
    from schemathesis.cli import schemathesis as schemathesis_cli

    words = shlex.split(command.text.replace("\\\n", " "))
    schemathesis_cli.commands["run"].make_context("run", words[2:])
    assert (PROJECT / "schemathesis.toml").is_file()
    return None


@rule(r"(sudo )?apt-get install\s")
def apt_get(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run (it changes the machine): each package is one Debian knows, where this
    machine's package lists say so."""
    if shutil.which("apt-cache") is None or apt_cache("chromium") is False:
        return None
    packages = [word for word in shlex.split(command.text) if not word.startswith("-")]
    for package in packages[packages.index("install") + 1 :]:
        assert apt_cache(package), f"Debian has no package {package}"
    return None


def apt_cache(package: str) -> bool:
    shown = subprocess.run(["apt-cache", "show", package], capture_output=True, text=True)
    return shown.returncode == 0 and "Package:" in shown.stdout


@rule(r"(git checkout (?P<revision>\w+) && )?make bench\b")
def make_bench(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run (it takes a quarter of an hour): ``BENCH_ARGS`` parsed by the bench's own
    command line. A revision checked out is in this repository's history, and its
    ``bench/results/latest.md`` is the one the docs' tables come from."""
    import bench.__main__

    words = shlex.split(command.text)
    if words[0] == "git":
        revision = words[2]
        history = PROJECT / ".git"
        shallow = subprocess.run(
            ["git", "rev-parse", "--is-shallow-repository"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
        )
        if history.exists() and shallow.stdout.strip() == "false":
            shown = subprocess.run(
                ["git", "show", f"{revision}:bench/results/latest.md"],
                cwd=PROJECT,
                capture_output=True,
                text=True,
            )
            assert shown.returncode == 0, shown.stderr
            assert shown.stdout == (PROJECT / "bench" / "results" / "latest.md").read_text()
        words = words[words.index("&&") + 1 :]
    assert "$(BENCH_ARGS)" in " ".join(make_recipe("bench")["lines"])
    arguments = [word.split("=", 1)[1] for word in words if word.startswith("BENCH_ARGS=")]
    bench.__main__.main.make_context("bench", shlex.split(arguments[0]) if arguments else [])
    return None


@rule(r"\(?cd \S+ && (npm|PATH=)")
def npm_lines(docs: Docs, example: Example, command: Command, variables: str) -> None:
    """Not run here: tests/npm/test_playwright_package.py packs the package and installs the
    tarball in a user's project, and tests/npm/test_e2e.py installs the package by path and runs
    ``npx playwright test``. Here, every folder named exists, every ``npm run`` names a
    script, and a tarball's name is the one ``npm pack`` gives."""
    package = json.loads((PROJECT / "npm" / "playwright" / "package.json").read_text())
    tarball = f"{package['name'].lstrip('@').replace('/', '-')}-{package['version']}.tgz"
    text = command.text.strip("()")
    cwd: Path | None = PROJECT
    for step in text.split(" && "):
        words = shlex.split(step)
        if words[0] == "cd":
            # From the folder that holds the checkout (prospect-mock) and the app (your-app),
            # or from the checkout itself.
            target = words[1]
            if target.startswith("prospect-mock/"):
                cwd = PROJECT / target.removeprefix("prospect-mock/")
            elif target == "your-app":
                cwd = None
            else:
                cwd = PROJECT / target
            assert cwd is None or cwd.is_dir(), target
            continue
        if cwd is None:  # the user's app: its arguments point into the checkout
            assert words[:3] == ["npm", "install", "--save-dev"], step
            for word in words[3:]:
                if word.startswith("../prospect-mock/"):
                    path = PROJECT / word.removeprefix("../prospect-mock/")
                    if word.endswith(".tgz"):
                        assert (
                            path.name == tarball and path.parent == PROJECT / "npm" / "playwright"
                        )
                    else:
                        assert (path / "package.json").is_file(), word
                elif not word.startswith("--"):
                    assert word in package["peerDependencies"], word
            continue
        manifest = json.loads((cwd / "package.json").read_text())
        while words and "=" in words[0]:
            words = words[1:]  # PATH=... before the command
        if words[:2] == ["npm", "ci"]:
            assert (cwd / "package-lock.json").is_file()
        elif words[:2] == ["npm", "pack"]:
            assert command.comment == tarball, f"npm pack makes {tarball}"
        elif words[:2] == ["npm", "run"]:
            assert words[2] in manifest["scripts"], step
        elif words[:3] == ["npx", "playwright", "test"]:
            assert "@playwright/test" in manifest["devDependencies"]
            runner = (PROJECT / "tests" / "npm" / "test_e2e.py").read_text()
            assert '(str(NPX), "playwright", "test"' in runner, "tests/npm/test_e2e.py runs it"
        else:
            raise AssertionError(f"no check for `{step}`")
    return None


# -- The Makefile, as the rules read it -------------------------------------------------------


def makefile() -> str:
    return (PROJECT / "Makefile").read_text()


def make_recipe(target: str) -> dict[str, list[str]]:
    lines = makefile().split("\n")
    for index, line in enumerate(lines):
        if line.startswith(f"{target}:"):
            recipe = []
            for following in lines[index + 1 :]:
                if not following.startswith("\t"):
                    break
                recipe.append(following.strip())
            return {"prerequisites": line.split(":", 1)[1].split(), "lines": recipe}
    raise AssertionError(f"the Makefile has no target {target}")


# -- The evaluators, by language --------------------------------------------------------------


def check_sh(docs: Docs, example: Example) -> None:
    docs.shell_results(example)


def check_json(docs: Docs, example: Example) -> None:
    """Parsed; right under an ``sh`` block, it is what that block's last command answered."""
    before = previous(example)
    between = example.document.text[before.end : example.start] if before else "x"
    if before is not None and language(before) == "sh" and not between.strip():
        [*_, last] = docs.shell_results(before)
        assert_json_claim(example_id(example), example.parsed, last.stdout)
    else:
        json.loads(example.parsed)


def previous(example: Example) -> Example | None:
    page = EXAMPLES[Path(example.path)]
    index = [each.start for each in page].index(example.start)
    return page[index - 1] if index else None


def check_toml(docs: Docs, example: Example) -> None:
    """Parsed; a pytest configuration's serve options are options ``serve`` takes, and it is
    the configuration of the project the python blocks run in."""
    settings = tomllib.loads(example.parsed)
    options = settings.get("tool", {}).get("pytest", {}).get("ini_options", {})
    if "prospect_mock_serve_args" in options:
        serve = prospect_mock_cli.commands["serve"]
        serve.make_context("serve", shlex.split(options["prospect_mock_serve_args"]))
        assert docs.python_results(), "the python blocks ran with it"


def python_file_name(block: Any) -> str:
    named = named_path(block)
    if named:
        return named
    return f"test_{Path(block.path).stem.replace('-', '_')}_{block.line}.py"


def check_python(docs: Docs, example: Example) -> None:
    """The block is a test file; run with ``pytest -n 2``, every test in it passes."""
    [block] = [
        block
        for block in code_blocks(Path(example.path))
        if block.line == example.line and block.language == "python"
    ]
    name = python_file_name(block)
    outcomes = docs.python_results().get(name)
    assert outcomes, f"{name} ran no test:\n{docs.python_output[-5000:]}"
    assert set(outcomes) == {"passed"}, f"{name}: {outcomes}\n{docs.python_output[-5000:]}"


def check_typescript(docs: Docs, example: Example) -> None:
    """A file of a user's project is one that tests/npm/test_playwright_package.py compiles and
    runs; an excerpt of this project's e2e suite is lines of that file, in order."""
    first = example.parsed.split("\n", 1)[0]
    path = re.match(r"// ([\w./-]+\.ts)\b", first)
    assert path, f"{example_id(example)}: a ts block starts with `// the/file.ts`"
    if path.group(1).startswith("e2e/"):
        lines = (PROJECT / path.group(1)).read_text().split("\n")
        shown = example.parsed.rstrip("\n").split("\n")[1:]
        position = 0
        for line in shown:
            assert line in lines[position:], f"{path.group(1)} has no line, after the last:\n{line}"
            position = lines.index(line, position) + 1
    else:
        assert user_typescript()[path.group(1)] == example.parsed


def check_javascript(docs: Docs, example: Example) -> None:
    """Run by Node, as a module, against the live server; the names it takes from the
    answer are those of a list page."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node")
    code = docs.rewrite(example.parsed) + (
        "\nif (!res.ok || !Array.isArray(data) || typeof has_more !== 'boolean' ||"
        " typeof total !== 'number') throw new Error(`not a list page: ${res.status}`);\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def check_yaml(docs: Docs, example: Example) -> None:
    """A GitHub Actions job: prospect-mock installed from a checkout of its repository in
    the job's organisation (the same ``pip install`` the README runs), each ``prospect-mock``
    command accepted by the real command line."""
    assert "OWNER" not in example.parsed
    jobs = yaml.safe_load(example.parsed)
    for job in jobs.values():
        assert job["runs-on"]
        checkouts: dict[str, str] = {}
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"actions/[\w-]+@v\d+", step["uses"]), step
                if step["uses"].startswith("actions/checkout@") and "with" in step:
                    checkouts[step["with"]["path"]] = step["with"]["repository"]
                continue
            for words in shell_commands(step["run"]):
                if words[:2] == ["pip", "install"]:
                    [folder] = words[2:]
                    name = folder.removeprefix("./")
                    repository = "${{ github.repository_owner }}/prospect-mock"
                    assert checkouts.get(name) == repository, f"{folder} is no checkout of it"
                    assert any(
                        command.text == f"pip install {folder}"
                        for block in code_blocks(PROJECT / "README.md")
                        if block.language == "sh"
                        for command in commands(block.text)
                    ), "the README runs the same install"
                elif words[0] == "prospect-mock":
                    prospect_mock_cli.commands[words[1]].make_context(words[1], words[2:])


def shell_commands(script: str) -> Iterator[list[str]]:
    """The simple commands of a shell script, as words, without their redirections;
    ``${{ ... }}`` expressions are one word."""
    script = re.sub(r"\$\{\{[^}]*\}\}", "EXPRESSION", script.replace("\\\n", " "))
    script = re.sub(r"\s\d?>>?(&\d+|\s*\S+)", " ", script)
    for line in script.split("\n"):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for word in lexer:
            if word in {"&&", "||", ";", "|", "&"}:
                if words:
                    yield words
                words = []
            else:
                words.append(word)
        if words:
            yield words


def check_text(docs: Docs, example: Example) -> None:
    """A block without a language: a usage synopsis, a sample of output, or a layout."""
    text = example.parsed
    for pattern, check in TEXT_CHECKS:
        if re.match(pattern, text):
            check(docs, text)
            return
    raise AssertionError(f"{example_id(example)}: no check knows this block")


def check_synopsis(docs: Docs, text: str) -> None:
    """Each command's synopsis names exactly its options (and its arguments)."""
    synopses = re.split(r"\n(?=prospect-mock )", text.strip())
    for synopsis in synopses:
        name = synopsis.split()[1]
        command = prospect_mock_cli.commands[name]
        real = {
            option
            for parameter in command.params
            if isinstance(parameter, click.Option)
            for option in parameter.opts
        }
        assert set(re.findall(r"--[a-z][a-z0-9-]*", synopsis)) == real, name
        for argument in command.params:
            if isinstance(argument, click.Argument):
                assert argument.human_readable_name in synopsis, name


def check_banner(docs: Docs, text: str) -> None:
    """What ``serve`` prints as it starts: the live server printed it."""
    expected = docs.rewrite(text).rstrip("\n").split("\n")
    deadline = time.monotonic() + 10
    while True:
        printed = [line.rstrip() for line in docs.log.read_text().split("\n")]
        if printed[: len(expected)] == expected or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert printed[: len(expected)] == expected


def check_in_use(docs: Docs, text: str) -> None:
    """A second ``serve`` on the live server's file prints this (its process, its address)."""
    second = subprocess.run(
        [CLI, "serve", "--port", "0"],
        cwd=docs.live_folder,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_environment(),
    )
    assert second.returncode != 0
    pattern = re.escape(docs.rewrite(text.strip())).replace("4242", r"\d+")
    assert re.fullmatch(pattern, second.stderr.strip() or second.stdout.strip()), second


def check_request_log(docs: Docs, text: str) -> None:
    """The live server logs these requests as shown, durations aside."""
    for line in text.strip().split("\n"):
        method, path, status, _duration, _unit = line.split()
        answer = docs.http.request(method, path, json={} if method == "PATCH" else None)
        assert answer.status_code == int(status)
        pattern = rf"^{re.escape(method)} {re.escape(path)} {status} \d+(\.\d+)? ms$"
        deadline = time.monotonic() + 10  # the line is written once the answer has left
        while not re.search(pattern, docs.log.read_text(), re.M):
            assert time.monotonic() < deadline, f"not logged: {line}"
            time.sleep(0.05)


def check_layout(docs: Docs, text: str) -> None:
    """Every file and folder of the layout exists (a line of its own, or after one that
    ends with ``/``, indented)."""
    lines = text.rstrip("\n").split("\n")
    description = re.search(r"\S\s{2,}(\S)", lines[0])
    assert description, "a layout line is a name and what it is"
    column = description.start(1)
    folder = ""
    for line in lines:
        indent = len(line) - len(line.lstrip())
        if indent >= column:
            continue  # a description's second line
        names = re.split(r",\s*", line[:column].strip())
        base = PROJECT if indent == 0 else PROJECT / folder
        for name in names:
            assert (base / name).exists(), f"{name} ({line.strip()}) does not exist"
        if indent == 0:
            folder = names[0] if names[0].endswith("/") else ""


TEXT_CHECKS: list[tuple[str, Callable[[Docs, str], None]]] = [
    (r"prospect-mock (serve|reset|check|proxy) ", check_synopsis),
    (r"prospect-mock serving ", check_banner),
    (r"Error: .* is in use by process", check_in_use),
    (r"(GET|POST|PUT|PATCH|DELETE) /", check_request_log),
    (r"[\w.-]+/?\s{2,}\S", check_layout),
]

EVALUATORS: dict[str, Callable[[Docs, Example], None]] = {
    "sh": check_sh,
    "python": check_python,
    "ts": check_typescript,
    "js": check_javascript,
    "json": check_json,
    "toml": check_toml,
    "yaml": check_yaml,
    "": check_text,
}


# -- The tests --------------------------------------------------------------------------------


@pytest.mark.system
@pytest.mark.parametrize(
    "example",
    [example for page in EXAMPLES.values() for example in page],
    ids=example_id,
)
def test_code_block(example: Example, docs: Docs) -> None:
    example.namespace["docs"] = docs
    example.evaluate()


def test_every_fenced_block_is_an_example() -> None:
    """Sybil found every block the Markdown has, so none goes untested."""
    assert set(EXAMPLES) == set(DOCUMENTS)
    for path, examples in EXAMPLES.items():
        assert [example.line for example in examples] == [
            block.line for block in code_blocks(path)
        ], path.name


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_resolves(path: Path) -> None:
    """Each ``[text](path)`` names a file or folder of this repository, and each
    ``#anchor`` a heading of that file (GitHub's anchors)."""
    for line, target in links(path):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        resolved = (path.parent / file).resolve() if file else path
        where = f"{path.name}:{line}: {target}"
        assert resolved.is_relative_to(PROJECT) and resolved.exists(), where
        if anchor:
            assert resolved.suffix == ".md", where
            assert anchor in anchors(resolved), f"{where}: {sorted(anchors(resolved))}"


def test_github_slugs() -> None:
    assert github_slug("Contract-test proxy: `prospect-mock proxy`") == (
        "contract-test-proxy-prospect-mock-proxy"
    )
    assert github_slug("What a workspace costs") == "what-a-workspace-costs"


def test_the_readme_is_short() -> None:
    assert len((PROJECT / "README.md").read_text().split("\n")) <= 250


def test_the_command_line_page_describes_every_option() -> None:
    """docs/cli.md has a section per command that names each of its options, and every
    option of serve, reset and proxy reads PROSPECT_MOCK_ and its name, as the page says."""
    page = (PROJECT / "docs" / "cli.md").read_text()
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", page, re.M | re.S))
    for name, command in prospect_mock_cli.commands.items():
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                for option in parameter.opts:
                    assert f"`{option}" in sections[name], f"{name} {option}"
                if name != "check":
                    variable = parameter.opts[0][2:].upper().replace("-", "_")
                    assert parameter.envvar == f"PROSPECT_MOCK_{variable}", parameter.opts
            else:
                assert parameter.human_readable_name in sections[name]


def test_the_performance_tables_are_the_results_of_the_run() -> None:
    """Every table of bench/results/latest.md is in docs/performance.md, figure for figure."""
    results = (PROJECT / "bench" / "results" / "latest.md").read_text()
    page = (PROJECT / "docs" / "performance.md").read_text()
    tables = re.findall(r"(?:^\|.*\|\n)+", results, re.M)
    assert tables
    for table in tables:
        assert table in page, table.split("\n")[0]


TEST_ROW = re.compile(r"^\| `(tests/(?:\w+/)*test_\w+\.py)` \|.*\| (all|some|none)\b[^|]*\|$", re.M)
"""A row of docs/testing.md's tables: a test file, what it proves, and which of its tests
are ``system`` tests."""


def test_the_tests_page_has_a_row_for_every_test_file() -> None:
    page = (PROJECT / "docs" / "testing.md").read_text()
    described = set(re.findall(r"`(tests/(?:\w+/)*test_\w+\.py)`", page))
    present = {path.relative_to(PROJECT).as_posix() for path in PROJECT.glob("tests/**/test_*.py")}
    assert described == present
    rows = dict(TEST_ROW.findall(page))
    assert rows.keys() == present, "each file has one row, which says which tests are system"
    for path, system in rows.items():
        source = (PROJECT / path).read_text()
        whole = re.search(r"^pytestmark = \[?\s*pytest\.mark\.system\b", source, re.M)
        marked = "pytest.mark.system" in source
        assert (system, bool(whole), marked) in {
            ("all", True, True),
            ("some", False, True),
            ("none", False, False),
        }, f"{path}: the page says {system!r}"


def test_the_architecture_map_lists_every_module() -> None:
    page = (PROJECT / "ARCHITECTURE.md").read_text()
    for module in sorted((PROJECT / "prospect_mock").rglob("*.py")):
        if not module.name.startswith("__") and "handlers" not in module.parts:
            assert re.search(rf"\b{re.escape(module.name)}\b", page), module.name
    for package in sorted((PROJECT / "prospect_mock").glob("*/__init__.py")):
        if package.parent.name != "handlers":
            assert f"`{package.parent.name}/`" in page, package.parent.name


def test_json_patterns() -> None:
    pattern = json_pattern('{"id": "scenario_...", "times": 1, ...}')
    assert matches(pattern, {"id": "scenario_5f0c", "times": 1, "matched": 0})
    assert not matches(pattern, {"id": "other", "times": 1})
    assert not matches(json_pattern('{"count": 1}'), {"count": 1, "more": 2})
    assert matches(json_pattern("[1, ...]"), [1, 2, 3])
    assert not matches(json_pattern('{"count": 1}'), {"count": True})
