"""Seed data: the records in ``fixtures/``, one JSON file per resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .database import Database
from .resources import RESOURCE_TYPES

__all__ = ["FIXTURES_DIR", "load_fixtures", "reset"]

FIXTURES_DIR = Path(__file__).with_name("fixtures")


def load_fixtures() -> dict[str, list[dict[str, Any]]]:
    """Every resource's seed records, exactly as the API returns them."""
    return {
        kind.name: json.loads((FIXTURES_DIR / f"{kind.name}.json").read_text(encoding="utf-8"))
        for kind in RESOURCE_TYPES
    }


def reset(database: Database, *, seed: bool = True) -> None:
    """Empty the database and, with ``seed``, fill it with the fixtures, in one write."""
    database.replace(load_fixtures() if seed else {})
