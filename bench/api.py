"""The Prospect API as the bench sees it: its key, its paths, and one untimed GET for setup
(readiness, ids to aim at, waiting for a server to finish its backlog)."""

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


def get(port: int, path: str, timeout: float) -> tuple[int, Any]:
    """GET ``path`` on a fresh connection: (status, parsed JSON body or None).

    Raises OSError (connection refused, timeout) like the socket below it.
    """
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Authorization": AUTHORIZATION})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    is_json = response.getheader("Content-Type", "").startswith("application/json")
    return response.status, json.loads(body) if is_json else None


def get_ok(port: int, path: str, timeout: float) -> Any:
    """The JSON body of a GET that must answer 200."""
    status, body = get(port, path, timeout)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body}")
    return body
