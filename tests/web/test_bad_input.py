"""Bad input gets a 4xx problem with one clear sentence, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import AUTH, LEADS, PROSPECTS, assert_problem

JSON_HEADERS = {**AUTH, "Content-Type": "application/json"}


def snapshot(client: TestClient) -> dict[str, Any]:
    page: dict[str, Any] = client.get(PROSPECTS, params={"limit": 100}).json()
    return page


@pytest.mark.parametrize(
    ("content", "status", "fragment"),
    [
        (b"{bad", 400, "not valid JSON"),
        (b"\xff\xfe{}", 400, "not valid UTF-8"),
        (b'{"company": NaN}', 400, "NaN is not a JSON number"),
        (b'{"company": "A", "annual_revenue": Infinity}', 400, "Infinity is not a JSON number"),
        (b'{"company": "A", "annual_revenue": 1e400}', 400, "too large"),
        (b'{"company": "A", "annual_revenue": 1' + b"0" * 400 + b"}", 400, "too large"),
        (b'{"company": "A", "annual_revenue": 1' + b"0" * 9000 + b"}", 400, "is too large."),
        (b"[" * 50_000 + b"]" * 50_000, 400, "nested too deeply"),
        (b'"just a string"', 400, "must be a JSON object, not a string"),
        (b"null", 400, "The request body"),
        (b"", 400, "The request body is empty"),
        (json.dumps({"company": "x" * 100_000}).encode(), 400, "at most 140 characters"),
        (b"x" * (1024 * 1024 + 1), 413, "larger than 1048576 bytes"),
    ],
    ids=[
        "malformed",
        "not-utf8",
        "nan",
        "infinity",
        "float-overflow",
        "huge-integer",
        "9000-digit-integer",
        "deep-nesting",
        "string",
        "null",
        "empty",
        "100k-string",
        "over-1MiB",
    ],
)
def test_bad_bodies_are_refused(
    client: TestClient, content: bytes, status: int, fragment: str
) -> None:
    before = snapshot(client)
    response = client.post(PROSPECTS, content=content, headers=JSON_HEADERS)
    assert_problem(response, status, fragment)
    assert snapshot(client) == before


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({"Content-Type": "text/plain"}, "must be application/json, not 'text/plain'"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "must be application/json"),
        ({}, "no Content-Type"),
    ],
)
def test_wrong_or_missing_content_type_is_415(
    client: TestClient, headers: dict[str, str], fragment: str
) -> None:
    before = snapshot(client)
    response = client.post(PROSPECTS, content=b'{"company": "A"}', headers={**AUTH, **headers})
    assert_problem(response, 415, fragment)
    assert snapshot(client) == before


@pytest.mark.parametrize(
    "prospect_id",
    ["..", "%2e%2e", "a%2Fb", "prospect_%00", "caf%C3%A9", "%E2%9C%93" * 40, "x" * 5000],
)
def test_strange_ids_are_404(client: TestClient, prospect_id: str) -> None:
    assert_problem(client.get(f"{PROSPECTS}/{prospect_id}"), 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", PROSPECTS, "GET, HEAD, POST"),
        ("PUT", f"{PROSPECTS}/prospect_abc123", "DELETE, GET, HEAD, PATCH"),
        ("GET", f"{LEADS}/prospect-lead_abc123", "DELETE, PATCH"),
        ("DELETE", LEADS, "GET, HEAD, POST"),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert_problem(response, 405, f"use {allow}")
    assert response.headers["allow"] == allow


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/crm/prospects"), 404, "There is no resource at")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_form_content_type_on_a_bodyless_operation_is_ignored(
    client: TestClient, method: str
) -> None:
    """Connexion parses any multipart body for files; a broken one (no boundary) made a GET
    answer an undocumented 400. The proxy's contract run found it."""
    response = client.request(
        method, f"{PROSPECTS}/prospect_abc123", headers={"Content-Type": "multipart/form-data"}
    )
    assert response.status_code == 200, response.text
