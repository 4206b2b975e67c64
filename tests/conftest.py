from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app
from prospect_mock.database import Database
from prospect_mock.seeding import EMPTY, FIXTURES

AUTH = {"Authorization": "Bearer sk_test_123"}
PROSPECTS = "/api/crm/prospect"
LEADS = "/api/crm/prospect-lead"
OPPORTUNITIES = "/api/crm/prospect-opportunity"


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


def assert_problem(response: Any, status: int, *fragments: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with one sentence that mentions ``fragments``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
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
    return response.json()
