"""The records the phases aim at: prospect ids spread over the whole database, and parents
whose opportunities can be reordered. Read over HTTP (untimed) so that the bench does not
depend on the database file's format; made up for the ceiling and Prism, which keep no data."""

from __future__ import annotations

from dataclasses import dataclass

from . import api

PROSPECT_SAMPLE = 500
"""Prospect ids to spread retrieves, updates and line-item creates over."""
REORDER_PARENTS = 200
"""Prospects with two or more opportunities to reorder."""
PAGE = 100
SETUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Targets:
    total: int
    """Prospects on the server when it was sampled: where the deep offset goes."""
    prospect_ids: list[str]
    reorder_sets: list[tuple[str, list[str]]]
    """(prospect id, the ids of all its opportunities in their current order)."""


def fetch(port: int) -> Targets:
    """Sample a running mock: pages spread from the newest prospect to the oldest."""
    first_page = api.get_ok(port, f"{api.PROSPECTS}?limit={PAGE}&offset=0", SETUP_TIMEOUT_S)
    total = first_page["total"]
    pages = min(PROSPECT_SAMPLE // PAGE, -(-total // PAGE))
    last_offset = max(total - PAGE, 0)
    offsets = sorted({last_offset * page // max(pages - 1, 1) for page in range(1, pages)})
    prospect_ids = [record["id"] for record in first_page["data"]]
    for offset in offsets:
        page = api.get_ok(port, f"{api.PROSPECTS}?limit={PAGE}&offset={offset}", SETUP_TIMEOUT_S)
        prospect_ids += [record["id"] for record in page["data"]]
    prospect_ids = list(dict.fromkeys(prospect_ids))
    return Targets(total, prospect_ids, _reorder_sets(port, prospect_ids))


def _reorder_sets(port: int, prospect_ids: list[str]) -> list[tuple[str, list[str]]]:
    sets: list[tuple[str, list[str]]] = []
    for prospect_id in prospect_ids:
        path = f"{api.OPPORTUNITIES}?parent_id={prospect_id}&limit=100"
        opportunities = api.get_ok(port, path, SETUP_TIMEOUT_S)["data"]
        if len(opportunities) >= 2:
            sets.append((prospect_id, [record["id"] for record in opportunities]))
        if len(sets) == REORDER_PARENTS:
            break
    return sets


def made_up(count: int = 100) -> Targets:
    """Ids shaped like the mock's, for servers that answer any id."""
    prospect_ids = [f"prospect_{number:016d}" for number in range(count)]
    reorder_sets = [
        (prospect_id, [f"prospect-opportunity_{number:013d}{item:03d}" for item in range(3)])
        for number, prospect_id in enumerate(prospect_ids)
    ]
    return Targets(count, prospect_ids, reorder_sets)
