"""Auth, CORS and the docs: what a browser and a curl user meet first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from prospect_mock import create_app
from tests.conftest import AUTH, PROSPECTS, assert_problem
from tests.servers import Served, running


@pytest.fixture
def anonymous(db_path: Path) -> TestClient:
    return TestClient(create_app(db_path))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PROSPECTS),
        ("POST", PROSPECTS),
        ("GET", f"{PROSPECTS}/prospect_abc123"),
        ("PATCH", f"{PROSPECTS}/prospect_abc123"),
        ("DELETE", f"{PROSPECTS}/prospect_abc123"),
        ("GET", "/api/crm/prospect-lead?parent_id=prospect_abc123"),
        ("POST", "/api/crm/prospect-lead"),
        ("POST", "/api/crm/prospect-opportunity/reorder"),
        ("DELETE", "/api/crm/prospect-opportunity/prospect-opportunity_abc123"),
    ],
)
def test_every_operation_needs_a_key(anonymous: TestClient, method: str, path: str) -> None:
    response = anonymous.request(method, path, json={"company": "A"})
    assert_problem(response, 401, "No API key was given")
    assert response.headers["www-authenticate"] == "Bearer"
    assert (
        anonymous.get(f"{PROSPECTS}/prospect_abc123", headers=_bearer("sk_test_1")).status_code
        == 200
    )


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    "header", ["Bearer sk_live_123", "Bearer sk_test_", "Basic c2tfdGVzdF8xOg==", "sk_test_1"]
)
def test_keys_that_are_not_test_keys_are_401(anonymous: TestClient, header: str) -> None:
    response = anonymous.get(PROSPECTS, headers={"Authorization": header})
    assert_problem(response, 401)


def test_explicit_api_keys_replace_the_test_key_rule(db_path: Path) -> None:
    client = TestClient(create_app(db_path, api_keys=["team-key-1", "team-key-2"]))
    assert client.get(PROSPECTS, headers=_bearer("team-key-2")).status_code == 200
    assert_problem(client.get(PROSPECTS, headers=_bearer("sk_test_1")), 401, "only the keys")
    assert_problem(client.get(PROSPECTS, headers=_bearer("team-key-3")), 401)


def test_auth_comes_before_validation(anonymous: TestClient) -> None:
    assert_problem(anonymous.get(PROSPECTS, params={"limit": 0}), 401)


def test_docs_and_spec_are_public(anonymous: TestClient) -> None:
    redirect = anonymous.get("/", follow_redirects=False)
    assert redirect.status_code in (302, 307) and redirect.headers["location"] == "/ui/"
    page = anonymous.get("/ui/")
    assert page.status_code == 200 and "swagger-ui" in page.text
    spec = anonymous.get("/openapi.json").json()
    operations = [
        op for item in spec["paths"].values() for op in item.values() if "operationId" in op
    ]
    assert len(operations) == 15
    assert [server["url"] for server in spec["servers"]] == [
        "http://testserver",
        "https://api.overplane.dev",
    ], "Try-it-out and imports call the mock first, the real API second"


def test_cors_preflight_allows_the_bearer_header(anonymous: TestClient) -> None:
    response = anonymous.options(
        PROSPECTS,
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "PATCH" in response.headers["access-control-allow-methods"]


def test_cors_headers_are_on_errors_too(anonymous: TestClient) -> None:
    origin = {"Origin": "http://localhost:5173"}
    assert anonymous.get(PROSPECTS, headers=origin).headers["access-control-allow-origin"] == "*"
    not_found = anonymous.get(f"{PROSPECTS}/nope", headers={**origin, **_bearer("sk_test_1")})
    assert not_found.headers["access-control-allow-origin"] == "*"


def test_cors_origin_narrows_the_allowed_origins(db_path: Path) -> None:
    client = TestClient(create_app(db_path, cors_origins=["http://app.example"]))
    allowed = client.get(
        PROSPECTS, headers={"Origin": "http://app.example", **_bearer("sk_test_1")}
    )
    assert allowed.headers["access-control-allow-origin"] == "http://app.example"
    other = client.get(PROSPECTS, headers={"Origin": "http://evil.example", **_bearer("sk_test_1")})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "headers", [{}, {"Origin": "http://localhost:5173"}, {"Access-Control-Request-Method": "GET"}]
)
def test_options_that_is_not_a_preflight_reveals_nothing(
    anonymous: TestClient, headers: dict[str, str]
) -> None:
    response = anonymous.options(f"{PROSPECTS}/prospect_abc123", headers=headers)
    assert_problem(response, 405)
    assert "Example Corp" not in response.text


def test_head_needs_a_key_like_get(anonymous: TestClient) -> None:
    assert anonymous.head(PROSPECTS).status_code == 401
    assert anonymous.head(PROSPECTS, headers=_bearer("sk_test_1")).status_code == 200


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running(tmp_path_factory.mktemp("surface") / "db.json", "--quiet") as server:
        yield server


@pytest.mark.system
def test_a_body_sent_in_chunks_without_a_length_is_read_whole(served: Served) -> None:
    body = json.dumps({"company": "Overplane Inc.", "company_name": "Chunked Ltd"}).encode()
    chunks = iter([body[:10], body[10:]])  # httpx sends an iterator chunked, with no length
    response = httpx.post(
        served.base + PROSPECTS,
        content=chunks,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 201, response.text
    assert response.json()["company_name"] == "Chunked Ltd"


@pytest.mark.system
def test_an_empty_chunked_body_is_an_empty_body(served: Served) -> None:
    response = httpx.post(
        served.base + PROSPECTS,
        content=iter([b""]),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "The request body is empty")


@pytest.mark.system
@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8"])
def test_a_media_type_is_read_in_any_case(served: Served, content_type: str) -> None:
    headers = {**AUTH, "Content-Type": content_type}
    misspelt = httpx.post(served.base + PROSPECTS, json={"compnay": "x"}, headers=headers)
    assert_problem(misspelt, 400, "compnay")
    created = httpx.post(served.base + PROSPECTS, json={"company": "Case Ltd"}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["company"] == "Case Ltd"
