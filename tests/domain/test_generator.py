"""Generated seed data: realistic, valid, consistent, and the same for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from connexion.json_schema import Draft4ResponseValidator, resolve_refs

from prospect_mock.contract.documents import load_spec
from prospect_mock.contract.validation import FORMAT_CHECKER
from prospect_mock.domain.datasets import DataSet, check_fits
from prospect_mock.domain.generator import generate
from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.domain.seeding import load_fixtures
from tests.conftest import AUTH, PROSPECTS
from tests.servers import run, running

SCHEMAS = resolve_refs(load_spec())["components"]["schemas"]


@pytest.fixture(scope="module")
def generated() -> DataSet:
    return generate(300, seed=11, fixtures=load_fixtures())


def test_every_generated_record_matches_its_schema(generated: DataSet) -> None:
    for kind in RESOURCE_TYPES:
        validator = Draft4ResponseValidator(SCHEMAS[kind.schema], format_checker=FORMAT_CHECKER)
        for record in generated[kind.name]:
            validator.validate(record)


def test_generated_data_fits_together_with_line_items_on_most_prospects(generated: DataSet) -> None:
    check_fits(generated)
    assert len(generated["prospects"]) == 300
    with_leads = {lead["prospect_id"] for lead in generated["prospect_leads"]}
    with_opportunities = {o["prospect_id"] for o in generated["prospect_opportunities"]}
    assert len(with_leads) > 150 and len(with_opportunities) > 150
    assert len({p["industry"] for p in generated["prospects"]}) >= 10


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    fixtures = load_fixtures()
    assert generate(40, 5, fixtures) == generate(40, 5, fixtures)
    assert generate(40, 5, fixtures) != generate(40, 6, fixtures)


@pytest.mark.system
def test_reset_with_a_seed_count_is_repeatable(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for db in (first, second):
        result = run("reset", "--db", str(db), "--seed-count", "120", "--seed", "7")
        assert result.returncode == 0 and "120 generated prospects" in result.stdout
    first_data, second_data = (json.loads(db.read_text()) for db in (first, second))
    assert first_data.pop("meta") != second_data.pop("meta"), "each file has its own generation"
    assert first_data == second_data
    assert len(first_data["prospects"]) == 120


@pytest.mark.system
def test_serve_seeds_a_new_database_with_generated_prospects(tmp_path: Path) -> None:
    with running(tmp_path / "db.json", "--seed-count", "250", "--seed", "1", "--quiet") as server:
        page = httpx.get(f"{server.base}{PROSPECTS}", headers=AUTH).json()
    assert page["total"] == 250 and page["has_more"] is True


@pytest.mark.system
def test_the_database_file_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    assert run("reset", "--db", str(db)).returncode == 0
    assert db.stat().st_mode & 0o777 == 0o644
    db.chmod(0o640)
    assert run("reset", "--db", str(db), "--no-seed").returncode == 0
    assert db.stat().st_mode & 0o777 == 0o640
