"""Every curl line of the API reference, replayed against the mock, gets exactly the
documented fields back."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from starlette.testclient import TestClient

REFERENCE = Path(__file__).parents[2] / "shared" / "seed" / "prospect-api-reference.txt"
CURL_AND_RESPONSE = re.compile(r"(curl .*?)\nResponse\n(\{.*?\n\})", re.DOTALL)


def reference_calls() -> list[tuple[str, str, dict | None, dict]]:
    if not REFERENCE.exists():
        pytest.skip(f"the API reference is not beside the project ({REFERENCE})")
    calls = []
    for curl, documented in CURL_AND_RESPONSE.findall(REFERENCE.read_text()):
        words = shlex.split(curl.replace("\\\n", " "))
        url = words[1].removeprefix("https://api.overplane.dev")
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        body = json.loads(words[words.index("-d") + 1]) if "-d" in words else None
        # The reference's timestamps have stray spaces ("09: 30: 00Z"); the fields are what count.
        calls.append((method, url, body, json.loads(documented)))
    return calls


def test_every_curl_line_of_the_reference_is_found() -> None:
    assert [(m, u) for m, u, _, _ in reference_calls()] == [
        ("GET", "/api/crm/prospect/prospect_abc123"),
        ("GET", "/api/crm/prospect"),
        ("POST", "/api/crm/prospect"),
        ("PATCH", "/api/crm/prospect/prospect_abc123"),
        ("DELETE", "/api/crm/prospect/prospect_abc123"),
    ]


def test_every_curl_line_gets_exactly_the_documented_fields(client: TestClient) -> None:
    for method, url, body, documented in reference_calls():
        response = client.request(method, url, json=body)
        assert response.status_code in (200, 201), (method, url, response.text)
        got = response.json()
        assert set(got) == set(documented), (method, url)
        if "data" in documented:
            assert set(got["data"][0]) == set(documented["data"][0])
        if body:
            assert {key: got[key] for key in body} == body
