"""``/__admin``: test-setup controls, described in ``admin.yaml``."""

from typing import Any

from prospect_mock import datasets, seeding, state
from prospect_mock.endpoints import JSON


def reset(empty: bool = False) -> tuple[dict[str, int], int, dict[str, str]]:
    database = state.current().database
    seeding.reset(database, seed=not empty)
    return datasets.counts(database), 200, JSON


def export() -> tuple[dict[str, Any], int, dict[str, str]]:
    return datasets.export(state.current().database), 200, JSON


def load(body: dict[str, Any]) -> tuple[dict[str, int], int, dict[str, str]]:
    datasets.check_fits(body)
    database = state.current().database
    database.replace(body)
    return datasets.counts(database), 200, JSON


def list_requests(limit: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    entries, total = state.current().journal.newest(limit)
    return {"data": entries, "total": total}, 200, JSON


def clear_requests() -> tuple[dict[str, int], int, dict[str, str]]:
    return {"deleted": state.current().journal.clear()}, 200, JSON
