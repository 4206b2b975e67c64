from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import pytest
from connexion.spec import Specification
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.domain.records import Collection, LineItems
from prospect_mock.domain.seeding import EMPTY, FIXTURES
from prospect_mock.domain.workspaces import build_records
from prospect_mock.storage.database import Database

AUTH = {"Authorization": "Bearer sk_test_123"}
PROSPECTS = "/api/crm/prospect"
LEADS = "/api/crm/prospect-lead"
OPPORTUNITIES = "/api/crm/prospect-opportunity"


@pytest.fixture(scope="session", autouse=True)
def _each_contract_validated_once() -> Iterator[None]:
    """Connexion validates a document against the OpenAPI schema each time an app adds it, and
    most tests create an app of their own: the same two contracts validated anew were a third
    of the in-process tests' time (637 times, 35 s of 100). Here each document is validated
    once per test process, with the same outcome: one that fails is validated, and refused,
    every time."""
    validate = Specification._validate_spec.__func__
    valid: set[tuple[type[Specification], str]] = set()

    def once(cls: type[Specification], spec: dict[str, Any]) -> None:
        document = (cls, json.dumps(spec, sort_keys=True, default=repr))
        if document not in valid:
            validate(cls, spec)
            valid.add(document)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Specification, "_validate_spec", classmethod(once))
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db.json"


@pytest.fixture
def client(db_path: Path) -> Iterator[TestClient]:
    """A seeded mock on its own database file, every request authenticated."""
    with TestClient(create_app(db_path), headers=AUTH) as test_client:
        yield test_client


@pytest.fixture
def empty_client(db_path: Path) -> Iterator[TestClient]:
    """An unseeded mock, every request authenticated."""
    with TestClient(create_app(db_path, seed=EMPTY), headers=AUTH) as test_client:
        yield test_client


def open_database(path: Path, *, seed: bool = True) -> Database:
    """The database file opened as the server opens it: a new one seeded, if asked."""
    database = Database(path)
    if database.is_new and seed:
        FIXTURES.fill(database)
    return database


class Records(TypedDict):
    """The records of a database by resource, typed: the prospects are a collection, their
    leads and opportunities line items."""

    prospects: Collection
    prospect_leads: LineItems
    prospect_opportunities: LineItems


def records_of(database: Database) -> Records:
    """:func:`~prospect_mock.domain.workspaces.build_records`, typed by resource."""
    built = build_records(database)
    assert set(built) == set(Records.__annotations__), built
    prospects, leads = built["prospects"], built["prospect_leads"]
    opportunities = built["prospect_opportunities"]
    assert isinstance(prospects, Collection)
    assert isinstance(leads, LineItems) and isinstance(opportunities, LineItems)
    return Records(prospects=prospects, prospect_leads=leads, prospect_opportunities=opportunities)


def assert_problem(response: Any, status: int, *fragments: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with one sentence that mentions ``fragments``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert body["type"] == "about:blank"
    detail = body["detail"]
    assert "\n" not in detail and len(detail) < 400 and detail.endswith("."), detail
    for fragment in fragments:
        assert fragment in detail, detail
    return body


def create_prospect(client: TestClient, **attributes: Any) -> dict[str, Any]:
    response = client.post(PROSPECTS, json={"company": "Acme Ltd", **attributes})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
