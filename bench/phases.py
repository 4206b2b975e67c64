"""The phases of a run, in the order they run, the requests each one sends, and the records
they aim at.

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
PHASES = tuple(LABELS)
PAGE_SIZE = 20
CREATE_BODIES = 64
SAMPLED_PROSPECTS = 500
"""Prospect ids to spread retrieves, updates and line-item creates over."""
REORDER_PARENTS = 200
SETUP_PAGE = 100

_INDUSTRIES = ("Software", "Manufacturing", "Retail & Wholesale", "Automotive")
_TERRITORIES = ("France", "Canada", "Australia", "United States")
_EMPLOYEES = ("11-50", "51-200", "201-500", "1000+")


@dataclass(frozen=True)
class Targets:
    """What the phases aim at."""

    total: int
    """Prospects on the server when it was sampled: where the deep offset goes."""
    prospect_ids: list[str]
    reorder_sets: list[tuple[str, list[str]]]
    """(prospect id, the ids of all its opportunities in their current order)."""


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


def sample(port: int) -> Targets:
    """A running mock's prospects, read over HTTP (untimed, and whatever the database file's
    format) from pages spread from the newest to the oldest, and parents with two or more
    opportunities to reorder."""
    page = f"{api.PROSPECTS}?limit={SETUP_PAGE}&offset="
    total = api.get_ok(port, f"{page}0")["total"]
    pages = min(SAMPLED_PROSPECTS // SETUP_PAGE, -(-total // SETUP_PAGE))
    last = max(total - SETUP_PAGE, 0)
    offsets = sorted({0} | {last * number // max(pages - 1, 1) for number in range(1, pages)})
    ids = list(dict.fromkeys(id_ for offset in offsets for id_ in _ids(port, f"{page}{offset}")))
    sets: list[tuple[str, list[str]]] = []
    for parent in ids:
        items = _ids(port, f"{api.OPPORTUNITIES}?parent_id={parent}&limit=100")
        sets += [(parent, items)] if len(items) >= 2 else []
        if len(sets) == REORDER_PARENTS:
            break
    return Targets(total, ids, sets)


def _ids(port: int, path: str) -> list[str]:
    return [record["id"] for record in api.get_ok(port, path)["data"]]


def made_up(count: int = 100) -> Targets:
    """Ids shaped like the mock's, for the servers that answer any id."""
    ids = [f"prospect_{number:016d}" for number in range(count)]
    items = [[f"prospect-opportunity_{n:013d}{i:03d}" for i in range(3)] for n in range(count)]
    return Targets(count, ids, list(zip(ids, items, strict=True)))


def build(name: str, targets: Targets, created_ids: list[str]) -> Phase:
    """The requests of phase ``name``; ``created_ids`` are what the create phase made."""
    ids, sets = targets.prospect_ids, targets.reorder_sets
    if name == "delete":
        deletes = [Request("DELETE", f"{api.PROSPECTS}/{id_}") for id_ in created_ids]
        return Phase(name, deletes, once=True)
    if name == "retrieve":
        return Phase(name, [Request("GET", f"{api.PROSPECTS}/{id_}") for id_ in ids])
    if name in ("list_first", "list_deep"):
        offset = 0 if name == "list_first" else max(targets.total - PAGE_SIZE, 0)
        return Phase(name, [Request("GET", f"{api.PROSPECTS}?limit={PAGE_SIZE}&offset={offset}")])
    if name == "update":
        # Two values in turn, so that every PATCH changes the record it hits.
        bodies = [(f"{api.PROSPECTS}/{id_}", _update(turn)) for turn in range(2) for id_ in ids]
        return _writes(name, "PATCH", bodies)
    if name == "lead_create":
        return _writes(name, "POST", [(api.LEADS, _lead(id_, n)) for n, id_ in enumerate(ids)])
    if name == "reorder":
        # Reversed, then back: every request really moves the items.
        orders = [{"parent_id": parent, "ids": items[::-1]} for parent, items in sets]
        orders += [{"parent_id": parent, "ids": items} for parent, items in sets]
        return _writes(name, "POST", [(api.OPPORTUNITY_REORDER, order) for order in orders])
    if name == "create":
        return _writes(name, "POST", [(api.PROSPECTS, _prospect(n)) for n in range(CREATE_BODIES)])
    raise ValueError(f"unknown phase {name!r}")


def _writes(name: str, method: str, bodies: list[tuple[str, dict[str, Any]]]) -> Phase:
    encoded = [(path, json.dumps(body, separators=(",", ":"))) for path, body in bodies]
    return Phase(name, [Request(method, path, body) for path, body in encoded])


def _update(turn: int) -> dict[str, Any]:
    return {"industry": _INDUSTRIES[turn], "no_of_employees": _EMPLOYEES[turn]}


def _prospect(n: int) -> dict[str, Any]:
    name = f"Bench Analytics {n:03d} Ltd"
    return {
        "company": "Overplane Inc.",
        "company_name": name,
        "industry": _INDUSTRIES[n % len(_INDUSTRIES)],
        "market_segment": "Mid-Market",
        "customer_group": "Commercial",
        "territory": _TERRITORIES[n % len(_TERRITORIES)],
        "no_of_employees": _EMPLOYEES[n % len(_EMPLOYEES)],
        "annual_revenue": 250_000 * (n + 1),
        "website": f"https://www.{name.lower().replace(' ', '')}.example",
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
