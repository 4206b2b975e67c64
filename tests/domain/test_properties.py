"""Properties of the records layer, for any sequence of operations Hypothesis can find."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from prospect_mock.domain.records import Page
from prospect_mock.storage.database import Database
from tests.conftest import open_database, records_of

EXAMPLES = int(os.environ.get("PROSPECT_MOCK_EXAMPLES", "25"))


def every_page(fetch: Callable[[int, int], Page], limit: int) -> list[dict[str, Any]]:
    """Walk a list page by page, the way a client does, and return what it saw."""
    seen: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = fetch(limit, offset)
        seen += page.items
        offset += limit
        if offset >= page.total:
            assert len(seen) == page.total
            return seen
        assert len(page.items) == limit


class LineItemRules(RuleBasedStateMachine):
    """Leads of a few prospects under random creates, deletes and reorders; opportunities
    share the code, so leads stand for both."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.path = Path(self.directory.name) / "db.json"
        self.records = records_of(open_database(self.path, seed=False))
        self.expected: dict[str, list[str]] = {}  # prospect id -> lead ids in order

    def teardown(self) -> None:
        self.directory.cleanup()

    def _draw_prospect(self, data: st.DataObject, *, with_leads: bool = False) -> str:
        # Ids are random, so choose by position (creation order) to keep Hypothesis' draws
        # reproducible from one run to the next.
        choices = [p for p, ids in self.expected.items() if ids or not with_leads]
        return data.draw(st.sampled_from(choices))

    @rule()
    def create_prospect(self) -> None:
        self.expected[self.records["prospects"].create({"company": "P"})["id"]] = []

    @precondition(lambda self: self.expected)
    @rule(data=st.data())
    def create_lead(self, data: st.DataObject) -> None:
        prospect_id = self._draw_prospect(data)
        lead = self.records["prospect_leads"].create({"prospect_id": prospect_id, "lead": "L"})
        self.expected[prospect_id].append(lead["id"])
        assert lead["idx"] == len(self.expected[prospect_id])

    @precondition(lambda self: any(self.expected.values()))
    @rule(data=st.data())
    def delete_lead(self, data: st.DataObject) -> None:
        ids = self.expected[self._draw_prospect(data, with_leads=True)]
        lead_id = data.draw(st.sampled_from(ids))
        self.records["prospect_leads"].delete(lead_id)
        ids.remove(lead_id)

    @precondition(lambda self: self.expected)
    @rule(data=st.data())
    def delete_prospect(self, data: st.DataObject) -> None:
        prospect_id = self._draw_prospect(data)
        self.records["prospects"].delete(prospect_id)
        del self.expected[prospect_id]

    @precondition(lambda self: any(self.expected.values()))
    @rule(data=st.data())
    def reorder(self, data: st.DataObject) -> None:
        prospect_id = self._draw_prospect(data, with_leads=True)
        order = data.draw(st.permutations(self.expected[prospect_id]))
        items = self.records["prospect_leads"].reorder(prospect_id, order)
        assert [item["id"] for item in items] == order
        self.expected[prospect_id] = list(order)

    @invariant()
    def idx_is_a_permutation_of_1_to_n_in_the_expected_order(self) -> None:
        for prospect_id, ids in self.expected.items():
            page = self.records["prospect_leads"].list(prospect_id, 100, 0)
            assert page.total == len(ids)
            assert [(item["id"], item["idx"]) for item in page.items] == [
                (lead_id, idx) for idx, lead_id in enumerate(ids, start=1)
            ]

    @invariant()
    def the_file_holds_what_memory_holds(self) -> None:
        reopened = records_of(Database(self.path))
        for prospect_id, ids in self.expected.items():
            stored = reopened["prospect_leads"].list(prospect_id, 100, 0).items
            assert [item["id"] for item in stored] == ids


LineItemRules.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLineItemRules = LineItemRules.TestCase


class PaginationRules(RuleBasedStateMachine):
    """Any limit and offset, over any number of prospects: pages cover each one once."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.records = records_of(open_database(Path(self.directory.name) / "db.json", seed=False))
        self.count = 0

    def teardown(self) -> None:
        self.directory.cleanup()

    @rule(n=st.integers(1, 15))
    def create_prospects(self, n: int) -> None:
        for _ in range(n):
            self.records["prospects"].create({"company": "P"})
        self.count += n

    @rule(limit=st.integers(1, 100), offset=st.integers(0, 200))
    def a_page_holds_what_is_left_after_offset(self, limit: int, offset: int) -> None:
        page = self.records["prospects"].list(limit, offset)
        assert page.total == self.count
        assert len(page.items) == max(0, min(limit, self.count - offset))

    @rule(limit=st.integers(1, 100))
    def walking_the_pages_sees_everyone_once_newest_first(self, limit: int) -> None:
        seen = every_page(self.records["prospects"].list, limit)
        ids = [p["id"] for p in seen]
        assert len(ids) == len(set(ids)) == self.count
        assert [p["created_at"] for p in seen] == sorted(
            (p["created_at"] for p in seen), reverse=True
        )


PaginationRules.TestCase.settings = LineItemRules.TestCase.settings
TestPaginationRules = PaginationRules.TestCase
