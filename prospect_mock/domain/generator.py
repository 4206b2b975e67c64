"""Generated seed data: any number of realistic prospects with leads and opportunities,
the same for the same seed.

Attribute values are drawn from the fixtures (so generated data looks like the hand-written
seed data) and from a few word lists for names; ids, dates and amounts come from the seeded
random generator, never from the clock. They are written as the fixtures are: timestamps as
the server writes them, amounts of money in whole units (JSON integers).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from prospect_mock.domain.datasets import DataSet
from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.storage.clock import timestamp

__all__ = ["Progress", "generate"]

Progress = Callable[[Iterable[int]], Iterable[int]]
"""Wraps the loop over prospects, for a progress bar."""

_FIRST = [
    "Olivia",
    "Liam",
    "Priya",
    "Mateo",
    "Sofia",
    "Kenji",
    "Amara",
    "Noah",
    "Elena",
    "Ravi",
    "Chloe",
    "Tomas",
    "Ingrid",
    "Kwame",
    "Yuki",
    "Hannah",
    "Diego",
    "Fatima",
    "Oskar",
    "Leila",
]
_LAST = [
    "Nguyen",
    "Schmidt",
    "Okonkwo",
    "Garcia",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Johansson",
    "Tanaka",
    "Fernandez",
    "Dubois",
    "Mensah",
    "Patel",
    "Cohen",
    "Silva",
    "Murphy",
]
_NAME_WORDS = [
    "Northwind",
    "Bluefin",
    "Helix",
    "Cedar",
    "Lumen",
    "Quanta",
    "Maple",
    "Aurora",
    "Ironclad",
    "Verde",
    "Harbor",
    "Sapphire",
    "Orbital",
    "Riverbend",
    "Nimbus",
    "Granite",
    "Evergreen",
    "Zenith",
    "Copperline",
    "Mosaic",
    "Sterling",
    "Kestrel",
]
_NAME_KINDS = [
    "Logistics",
    "Analytics",
    "Foods",
    "Health",
    "Systems",
    "Robotics",
    "Energy",
    "Partners",
    "Retail",
    "Labs",
    "Industries",
    "Media",
    "Freight",
    "Insurance",
]
_SUFFIXES = ["Inc.", "Ltd", "GmbH", "LLC", "S.A.", "Pty Ltd", "Co."]
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_START = datetime(2023, 1, 1, tzinfo=UTC)


def generate(
    count: int,
    seed: int,
    fixtures: DataSet,
    progress: Progress = iter,
) -> DataSet:
    """``count`` prospects with 0-4 leads and 0-3 opportunities each, as a data set.

    ``progress`` wraps the loop over prospects, for a progress bar.
    """
    rng = random.Random(seed)
    values = _values_by_attribute(fixtures)
    data: DataSet = {kind.name: [] for kind in RESOURCE_TYPES}
    moments = sorted(rng.uniform(0, 3 * 365 * 86400) for _ in range(count))
    for n in progress(range(count)):
        prospect = _prospect(rng, values, _START + timedelta(seconds=moments[n]))
        data["prospects"].append(prospect)
        people = [f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(rng.randint(0, 4))]
        for idx, person in enumerate(people, start=1):
            data["prospect_leads"].append(_lead(rng, values, prospect, idx, person))
        for idx in range(1, rng.randint(0, 3) + 1):
            contact = rng.choice(people) if people else None
            data["prospect_opportunities"].append(_opportunity(rng, values, prospect, idx, contact))
    return data


def _values_by_attribute(fixtures: DataSet) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for records in fixtures.values():
        for record in records:
            for name, value in record.items():
                values.setdefault(name, []).append(value)
    return values


def _id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_" + "".join(rng.choice(_ALPHABET) for _ in range(16))


def _slug(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _money(rng: random.Random, mu: float, sigma: float, *, unit: int) -> int:
    """A log-normal amount (most small, a few huge, as revenues and deals are), rounded to
    ``unit`` as an int: a rounded float would be written ``6458000.0``."""
    return round(rng.lognormvariate(mu, sigma) / unit) * unit


def _prospect(
    rng: random.Random, values: dict[str, list[Any]], created: datetime
) -> dict[str, Any]:
    name = f"{rng.choice(_NAME_WORDS)} {rng.choice(_NAME_KINDS)} {rng.choice(_SUFFIXES)}"
    updated = created + timedelta(seconds=rng.choice([0, rng.uniform(0, 60 * 86400)]))
    return {
        "id": _id(rng, "prospect"),
        "created_at": timestamp(created.timestamp()),
        "updated_at": timestamp(updated.timestamp()),
        "company_name": name,
        **{key: rng.choice(values[key]) for key in ("industry", "market_segment", "customer_group",
                                                      "territory", "no_of_employees", "fax")},
        "annual_revenue": _money(rng, 16, 2, unit=1000),
        "website": f"https://www.{_slug(name)}.example",
        "prospect_owner": rng.choice(values["prospect_owner"]),
        "company": rng.choice(values["company"]),
    }  # fmt: skip


def _lead(
    rng: random.Random,
    values: dict[str, list[Any]],
    prospect: dict[str, Any],
    idx: int,
    person: str,
) -> dict[str, Any]:
    first, last = person.split()
    return {
        "id": _id(rng, "prospect-lead"),
        "idx": idx,
        "prospect_id": prospect["id"],
        "lead": f"CRM-LEAD-{prospect['created_at'][:4]}-{rng.randrange(10**5):05d}",
        "lead_name": person,
        "status": rng.choice(values["status"]),
        "email": f"{_slug(first)}.{_slug(last)}@{prospect['website'].removeprefix('https://www.')}",
        "mobile_no": rng.choice(values["mobile_no"]),
        "lead_owner": prospect["prospect_owner"],
    }


def _opportunity(
    rng: random.Random,
    values: dict[str, list[Any]],
    prospect: dict[str, Any],
    idx: int,
    contact: str | None,
) -> dict[str, Any]:
    created = datetime.fromisoformat(prospect["created_at"])
    return {
        "id": _id(rng, "prospect-opportunity"),
        "idx": idx,
        "prospect_id": prospect["id"],
        "opportunity": f"CRM-OPP-{created.year}-{rng.randrange(10**5):05d}",
        "amount": _money(rng, 10, 1.2, unit=100),
        "stage": rng.choice(values["stage"]),
        "probability": rng.randrange(0, 101, 5),
        "expected_closing": (created + timedelta(days=rng.randint(30, 240))).date().isoformat(),
        "currency": rng.choice(values["currency"]),
        "deal_owner": prospect["prospect_owner"],
        "contact_person": f"{contact}-{prospect['company_name']}" if contact else None,
    }
