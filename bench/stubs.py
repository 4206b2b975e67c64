"""WireMock's stubs for the bench's routes, written as the mapping files it loads at start
(``mappings/`` under its ``--root-dir``). They answer the ceiling's canned bodies as they are,
with no response templating: a retrieve answers the canned id and a create does not echo its
body, as Prism answers its examples. Like the ceiling, they match on method and path alone.
"""

from __future__ import annotations

import json
from pathlib import Path

from .ceiling import ANSWERS, OPPORTUNITY, PROSPECT, ROUTES

_SENT = {
    "prospect_opportunities.reorder": {
        "parent_id": PROSPECT["id"],
        "ids": [f"{OPPORTUNITY['id']}{idx}" for idx in range(1, 4)],
    }
}
"""The bodies the canned answers are made from (an empty one for the others)."""


def write_mappings(root: Path) -> None:
    """One mapping file per route in ``root/mappings``."""
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    for method, path, operation in ROUTES:
        body, status = ANSWERS[operation](PROSPECT["id"], _SENT.get(operation, {}))
        # urlPath ignores the query, so the list's stub also answers the readiness probe.
        where = {"urlPathPattern": path.replace("{id}", "[^/]+")} if "{id}" in path else {}
        mapping = {
            "name": operation,
            "request": {"method": method, **(where or {"urlPath": path})},
            "response": {
                "status": status,
                "headers": {"Content-Type": "application/json"},
                # A string rather than jsonBody: sent as it is, not serialised per request.
                "body": json.dumps(body, separators=(",", ":")),
            },
        }
        (mappings / f"{operation}.json").write_text(json.dumps(mapping, indent=2) + "\n")
