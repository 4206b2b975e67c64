"""The phases of a run, in the order they run, and the requests each one sends.

The order keeps the database at its size for as long as possible: reads first, then writes
that change records in place or add line items, then create, then delete (of exactly the
prospects that create made). Reorder works on opportunities, so that the leads added by the
line-item phase cannot make a prepared reorder list stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import api
from .targets import Targets

PHASES = (
    "retrieve",
    "list_first",
    "list_deep",
    "update",
    "lead_create",
    "reorder",
    "create",
    "delete",
)
LABELS = {
    "retrieve": "retrieve",
    "list_first": "list, first page",
    "list_deep": "list, deep offset",
    "update": "update",
    "lead_create": "line-item create",
    "reorder": "reorder",
    "create": "create",
    "delete": "delete",
}
PAGE_SIZE = 20

_INDUSTRIES = ("Software", "Manufacturing", "Retail & Wholesale", "Automotive")
_TERRITORIES = ("France", "Canada", "Australia", "United States")
_EMPLOYEES = ("11-50", "51-200", "201-500", "1000+")
_CREATE_BODIES = 64


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str | None = None


@dataclass(frozen=True)
class Phase:
    name: str
    requests: list[Request]
    once: bool = False
    """Send each request once, then stop: a delete cannot hit the same id twice."""


def build(name: str, targets: Targets, created_ids: list[str]) -> Phase:
    """The requests of phase ``name``; ``created_ids`` are what the create phase made."""
    ids = targets.prospect_ids
    if name == "retrieve":
        return Phase(name, [Request("GET", f"{api.PROSPECTS}/{id_}") for id_ in ids])
    if name == "list_first":
        return Phase(name, [Request("GET", _page(0))])
    if name == "list_deep":
        return Phase(name, [Request("GET", _page(max(targets.total - PAGE_SIZE, 0)))])
    if name == "update":
        # Two values in turn, so that every PATCH changes the record it hits.
        return Phase(
            name,
            [
                Request("PATCH", f"{api.PROSPECTS}/{id_}", _json(_update(turn)))
                for turn in range(2)
                for id_ in ids
            ],
        )
    if name == "lead_create":
        return Phase(
            name,
            [Request("POST", api.LEADS, _json(_lead(id_, n))) for n, id_ in enumerate(ids)],
        )
    if name == "reorder":
        # Reversed, then back: every request really moves the items.
        sets = targets.reorder_sets
        bodies = [{"parent_id": parent, "ids": items[::-1]} for parent, items in sets]
        bodies += [{"parent_id": parent, "ids": items} for parent, items in sets]
        return Phase(name, [Request("POST", api.OPPORTUNITY_REORDER, _json(b)) for b in bodies])
    if name == "create":
        return Phase(
            name,
            [Request("POST", api.PROSPECTS, _json(_prospect(n))) for n in range(_CREATE_BODIES)],
        )
    if name == "delete":
        requests = [Request("DELETE", f"{api.PROSPECTS}/{id_}") for id_ in created_ids]
        return Phase(name, requests, once=True)
    raise ValueError(f"unknown phase {name!r}")


def _page(offset: int) -> str:
    return f"{api.PROSPECTS}?limit={PAGE_SIZE}&offset={offset}"


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def _update(turn: int) -> dict[str, Any]:
    return {"industry": _INDUSTRIES[turn], "no_of_employees": _EMPLOYEES[turn]}


def _prospect(n: int) -> dict[str, Any]:
    name = f"Bench Analytics {n:03d} Ltd"
    slug = name.lower().replace(" ", "")
    return {
        "company": "Overplane Inc.",
        "company_name": name,
        "industry": _INDUSTRIES[n % len(_INDUSTRIES)],
        "market_segment": "Mid-Market",
        "customer_group": "Commercial",
        "territory": _TERRITORIES[n % len(_TERRITORIES)],
        "no_of_employees": _EMPLOYEES[n % len(_EMPLOYEES)],
        "annual_revenue": 250_000 * (n + 1),
        "website": f"https://www.{slug}.example",
        "prospect_owner": "grace.okafor@overplane.example",
    }


def _lead(prospect_id: str, n: int) -> dict[str, Any]:
    return {
        "prospect_id": prospect_id,
        "lead": f"CRM-LEAD-2024-{n:05d}",
        "lead_name": "Ada Lovelace",
        "status": "Open",
        "email": f"ada.lovelace.{n}@example.com",
        "mobile_no": "+44 20 7946 0958",
        "lead_owner": "grace.okafor@overplane.example",
    }
