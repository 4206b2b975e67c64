"""WireMock's stubs for the bench's routes, written from Python as the mapping files it loads
at start (``mappings/`` under its ``--root-dir``).

They answer the ceiling's canned bodies (bench/ceiling.py) as they are, with no response
templating: a retrieve answers the canned id and a create does not echo its body, as Prism
answers its examples. Like the ceiling, they match on method and path alone (no key checked,
no query or body read).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import api, ceiling

_ONE_PROSPECT = f"{api.PROSPECTS}/[^/]+"
_REORDERED = {
    "data": [
        {**ceiling.OPPORTUNITY, "id": f"{ceiling.OPPORTUNITY['id']}{idx}", "idx": idx}
        for idx in range(1, 4)
    ],
    "has_more": False,
    "total": 3,
}
_DELETED = {"id": ceiling.PROSPECT["id"], "deleted": True}

STUBS: dict[str, tuple[str, dict[str, str], int, Any]] = {
    # name: (method, how the path matches, status, body)
    "list": ("GET", {"urlPath": api.PROSPECTS}, 200, ceiling.PAGE),
    "create": ("POST", {"urlPath": api.PROSPECTS}, 201, ceiling.PROSPECT),
    "retrieve": ("GET", {"urlPathPattern": _ONE_PROSPECT}, 200, ceiling.PROSPECT),
    "update": ("PATCH", {"urlPathPattern": _ONE_PROSPECT}, 200, ceiling.PROSPECT),
    "delete": ("DELETE", {"urlPathPattern": _ONE_PROSPECT}, 200, _DELETED),
    "lead_create": ("POST", {"urlPath": api.LEADS}, 201, ceiling.LEAD),
    "reorder": ("POST", {"urlPath": api.OPPORTUNITY_REORDER}, 200, _REORDERED),
}
"""``urlPath`` ignores the query, so the list stub also answers the readiness probe."""


def write_mappings(root: Path) -> None:
    """One mapping file per stub in ``root/mappings``."""
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    for name, (method, path, status, body) in STUBS.items():
        mapping = {
            "name": name,
            "request": {"method": method, **path},
            "response": {
                "status": status,
                "headers": {"Content-Type": "application/json"},
                # A string rather than jsonBody: sent as it is, not serialised per request.
                "body": json.dumps(body, separators=(",", ":")),
            },
        }
        (mappings / f"{name}.json").write_text(json.dumps(mapping, indent=2) + "\n")
