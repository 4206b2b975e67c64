"""The Prospect API as the bench sees it: its key, its paths, and one untimed GET for setup
(readiness, records to aim at, waiting for a server to finish its backlog)."""

from __future__ import annotations

import http.client
import json
from typing import Any

API_KEY = "sk_test_bench"
AUTHORIZATION = f"Bearer {API_KEY}"
HOST = "127.0.0.1"
PROSPECTS = "/api/crm/prospect"
LEADS = "/api/crm/prospect-lead"
OPPORTUNITIES = "/api/crm/prospect-opportunity"
OPPORTUNITY_REORDER = f"{OPPORTUNITIES}/reorder"
READY_PATH = f"{PROSPECTS}?limit=1"
"""The request whose first success ends the start-up time."""
REQUEST_TIMEOUT_S = 10
"""Under load, a response slower than this counts as a timeout error (not in the latencies)."""
SETUP_TIMEOUT_S = 120.0


def get(port: int, path: str, timeout: float = SETUP_TIMEOUT_S) -> tuple[int, Any]:
    """(status, JSON body or None) of a GET on a fresh connection; OSError if none answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Authorization": AUTHORIZATION})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(body) if is_json else None


def get_ok(port: int, path: str) -> Any:
    """The JSON body of a GET that must answer 200."""
    status, body = get(port, path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body}")
    return body
