"""Seed data in one format: the fixtures and generated data write every timestamp as the
server does, and every amount of money as one JSON type, read from the JSON text itself."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from prospect_mock.contract.documents import load_spec
from prospect_mock.domain.generator import generate
from prospect_mock.domain.resources import RESOURCE_TYPES
from prospect_mock.domain.seeding import FIXTURES_DIR, load_fixtures
from prospect_mock.storage.clock import timestamp
from prospect_mock.storage.json_codec import dumps

SERVER_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
"""``2024-01-15T09:30:00.123Z``: what :func:`timestamp` writes (held to it below)."""
AMOUNT = {"$ref": "#/components/schemas/Amount"}
SCHEMAS = load_spec()["components"]["schemas"]


def fields(schema: str, is_kind: Callable[[dict[str, Any]], bool]) -> list[str]:
    """The attributes of ``schema`` whose own schema ``is_kind`` says yes to."""
    return [name for name, s in SCHEMAS[schema]["properties"].items() if is_kind(s)]


# Read from the contract, so that an attribute added to it is held here too.
TIMESTAMP_FIELDS = {
    kind.name: fields(kind.schema, lambda s: s.get("format") == "date-time")
    for kind in RESOURCE_TYPES
}
AMOUNT_FIELDS = {kind.name: fields(kind.schema, lambda s: s == AMOUNT) for kind in RESOURCE_TYPES}

DATA_SETS = [None, (1, 0), (40, 3), (500, 42)]
"""The fixtures, and generated data sets as (count, seed)."""


def data_set_id(data_set: tuple[int, int] | None) -> str:
    return "fixtures" if data_set is None else "generated-{}-seed-{}".format(*data_set)


def texts(data_set: tuple[int, int] | None) -> dict[str, str]:
    """Each resource's records as JSON text: the fixture files as they are, or generated
    records as the server writes and answers them (json_codec)."""
    if data_set is None:
        return {
            kind.name: (FIXTURES_DIR / f"{kind.name}.json").read_text(encoding="utf-8")
            for kind in RESOURCE_TYPES
        }
    generated = generate(*data_set, fixtures=load_fixtures())
    return {name: dumps(records).decode() for name, records in generated.items()}


def records(data_set: tuple[int, int] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record of ``data_set`` with its resource's name, parsed from its text: a JSON
    number with a fraction or an exponent (5000000.0, 5e6) is a float, one without an int."""
    for name, text in texts(data_set).items():
        for record in json.loads(text):
            yield name, record


def test_the_contract_has_the_fields_held_here() -> None:
    assert TIMESTAMP_FIELDS["prospects"] == ["created_at", "updated_at"]
    assert AMOUNT_FIELDS["prospects"] == ["annual_revenue"]
    assert AMOUNT_FIELDS["prospect_opportunities"] == ["amount"]
    assert SERVER_TIMESTAMP.fullmatch(timestamp()) and SERVER_TIMESTAMP.fullmatch(timestamp(0))


@pytest.mark.parametrize("data_set", DATA_SETS, ids=data_set_id)
def test_every_timestamp_is_in_the_servers_format(data_set: tuple[int, int] | None) -> None:
    for name, record in records(data_set):
        for field in TIMESTAMP_FIELDS[name]:
            assert SERVER_TIMESTAMP.fullmatch(record[field]), (name, record["id"], field)


@pytest.mark.parametrize("data_set", DATA_SETS, ids=data_set_id)
def test_every_amount_is_a_json_integer(data_set: tuple[int, int] | None) -> None:
    """Whole units, as the reference's ``"annual_revenue": 0`` is: a client reading seed data
    into an integer type never meets ``6458000.0``. ``null`` is the absence of an amount."""
    for name, record in records(data_set):
        for field in AMOUNT_FIELDS[name]:
            value = record[field]
            assert value is None or type(value) is int, (name, record["id"], field, value)
