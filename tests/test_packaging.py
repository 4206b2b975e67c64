"""The package as pip builds and installs it, from a wheel or from an sdist.

``prospect_mock/`` links to the top-level contract, handlers, fixtures and Schemathesis
settings; both distributions must carry the files those links point to, and an install must
work from any directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

from tests.test_pytest_plugin import serve_processes, serve_processes_seen, users_project

pytestmark = pytest.mark.system

PROJECT = Path(__file__).parents[1]
PACKAGE = PROJECT / "prospect_mock"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]


def linked_files() -> dict[str, Path]:
    """Every file the package reaches through a link, by its path inside the package."""
    files = {}
    for link in sorted(path for path in PACKAGE.iterdir() if path.is_symlink()):
        targets = [link] if link.is_file() else sorted(link.rglob("*"))
        for target in targets:
            if target.is_file() and "__pycache__" not in target.parts:
                files[target.relative_to(PACKAGE).as_posix()] = target
    return files


def build_sdist(out: Path) -> Path:
    """Build an sdist as a PEP 517 frontend does: the declared backend, in its own env."""
    build_system = tomllib.loads((PROJECT / "pyproject.toml").read_text())["build-system"]
    backend = out / "backend"
    requires = build_system["requires"]
    subprocess.run([*PIP, "install", "--target", str(backend), *requires], check=True)
    hook = (
        "import importlib, sys; "
        f"print(importlib.import_module({build_system['build-backend']!r}).build_sdist(sys.argv[1]))"
    )
    # -S leaves this venv's site-packages out, so the backend sees only what it declared.
    built = subprocess.run(
        [sys.executable, "-S", "-c", hook, str(out)],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(backend)},
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    return out / built.stdout.strip().splitlines()[-1]


def assert_installs_and_works_from_any_directory(distribution: Path, tmp_path: Path) -> None:
    """pip installs ``distribution`` on its own; from another folder, the installed package
    (not this checkout) seeds a database, and every linked file is there as a real file."""
    target, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(target), str(distribution)], check=True
    )
    script = (
        "import prospect_mock, prospect_mock.cli as cli; "
        "print(prospect_mock.__file__); cli.main(['reset', '--db', 'db.json'])"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(target))
    seeded = json.loads((elsewhere / "db.json").read_text())["prospects"]
    fixtures = json.loads((PROJECT / "fixtures" / "prospects.json").read_text())
    assert len(seeded) == len(fixtures) >= 30
    installed = target / "prospect_mock"
    for name, source in linked_files().items():
        assert not (installed / name).is_symlink(), name
        assert (installed / name).read_bytes() == source.read_bytes(), name


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sdist(tmp_path_factory.mktemp("sdist"))


def test_the_package_links_to_the_contract_handlers_fixtures_and_settings() -> None:
    assert {
        "openapi.yaml",
        "admin.yaml",
        "schemathesis.toml",
        "fixtures/prospects.json",
        "handlers/prospects.py",
    } <= linked_files().keys()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([*PIP, "wheel", "--no-deps", "-w", str(wheels), str(PROJECT)], check=True)
    (built,) = wheels.glob("prospect_mock-*.whl")
    return built


def test_a_wheel_install_works_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    assert_installs_and_works_from_any_directory(wheel, tmp_path)


USERS_TESTS = """
import os
from pathlib import Path

import pytest

PROSPECTS = "/api/crm/prospect"
SEEDED = 7  # pytest.ini: prospect_mock_serve_args = --seed-count 7


@pytest.mark.parametrize("n", range(8))
def test_each_test_has_its_own_prospects(prospect_mock, n):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    Path(__file__).with_name(f"address-{n}").write_text(f"{worker} {prospect_mock.server.url}")
    for i in range(3):
        created = prospect_mock.http.post(PROSPECTS, json={"company": f"Mine {n}-{i}"})
        assert created.status_code == 201
    page = prospect_mock.http.get(PROSPECTS, params={"limit": 100}).json()
    mine = sorted(p["company"] for p in page["data"] if p["company"].startswith("Mine"))
    assert mine == [f"Mine {n}-{i}" for i in range(3)]
    assert page["total"] == SEEDED + 3
    assert prospect_mock.wait_for(count=3, operation="prospects.create") == 3
    assert prospect_mock.count(method="GET") == 1
"""


def test_the_pytest_plugin_works_from_a_wheel_in_a_fresh_venv_with_xdist(
    wheel: Path, tmp_path: Path
) -> None:
    """What a user gets: ``pip install prospect-mock pytest-xdist``, commands that print no
    warning, fixtures with no configuration but the serve options in pytest.ini, one server
    for 4 workers, each test with its own workspace, and no server left once the run ends."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet", "install"]
    subprocess.run([*pip, str(wheel), "pytest>=8,<9.2", "pytest-xdist>=3.5,<4"], check=True)
    for command in ([], ["serve"], ["reset"], ["check"], ["proxy"]):
        shown = subprocess.run(
            [str(venv / "bin" / "prospect-mock"), *command, "--help"],
            capture_output=True,
            text=True,
        )
        assert shown.returncode == 0 and shown.stderr == "", "no warning after a plain install"
    project = users_project(tmp_path, USERS_TESTS, "prospect_mock_serve_args = --seed-count 7")
    help_text = subprocess.run(
        [python, "-m", "pytest", "--help"], cwd=project, capture_output=True, text=True
    ).stdout
    assert "--prospect-mock-url" in help_text, "registered through the pytest11 entry point"
    with serve_processes_seen(project) as servers:
        result = subprocess.run(
            [python, "-m", "pytest", "-n", "4", "-p", "no:cacheprovider"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
    reports = [path.read_text().split() for path in project.glob("address-*")]
    assert len({worker for worker, _ in reports}) == 4
    assert len({url for _, url in reports}) == 1, "every worker used the same server"
    assert len(servers) == 1, "and it was the only one started"
    assert serve_processes(project) == set(), "and it is gone with the run"


def test_the_sdist_holds_real_files_where_the_package_has_links(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        members = archive.getmembers()
        root = sdist.name.removesuffix(".tar.gz")
        links = [member.name for member in members if member.issym() or member.islnk()]
        assert links == []
        names = [member.name for member in members]
        assert len(names) == len(set(names))
        for name, source in linked_files().items():
            member = archive.extractfile(f"{root}/prospect_mock/{name}")
            assert member is not None, name
            assert member.read() == source.read_bytes(), name


def test_an_sdist_install_works_from_any_directory(sdist: Path, tmp_path: Path) -> None:
    assert_installs_and_works_from_any_directory(sdist, tmp_path)
