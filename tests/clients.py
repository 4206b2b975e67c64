"""Clients of a real server over HTTP: a client of many at once that remembers what the
server acknowledged, and the reads that walk every page (tests/storage/test_reliability.py,
tests/domain/test_workspaces.py)."""

from __future__ import annotations

import random
from typing import Any

import httpx

from tests.conftest import AUTH, LEADS, PROSPECTS


def every_prospect(http: httpx.Client) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = http.get(PROSPECTS, params={"limit": 100, "offset": offset}).json()
        found |= {p["id"]: p for p in page["data"]}
        offset += 100
        if not page["has_more"]:
            return found


def every_lead(http: httpx.Client, prospect_id: str) -> list[dict[str, Any]]:
    leads: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = http.get(LEADS, params={"parent_id": prospect_id, "limit": 100, "offset": offset})
        leads += page.json()["data"]
        offset += 100
        if not page.json()["has_more"]:
            return leads


class Client:
    """One of many concurrent clients: it owns its prospects and its leads on a shared
    prospect, and remembers what the server acknowledged."""

    def __init__(self, base: str, seed: int, shared: str) -> None:
        self.http = httpx.Client(base_url=base, headers=AUTH, timeout=30)
        self.random = random.Random(seed)
        self.shared = shared
        self.prospects: dict[str, str] = {}  # id -> last acknowledged company_name
        self.leads: list[str] = []

    def run(self, operations: int) -> Client:
        actions = [self.create, self.update, self.delete, self.add_lead, self.drop_lead]
        for n in range(operations):
            if n % 10 == 9:
                self.reorder_shared()
            else:
                self.random.choice(actions)()
        self.http.close()
        return self

    def create(self) -> None:
        response = self.http.post(PROSPECTS, json={"company": "C", "company_name": "v0"})
        assert response.status_code == 201, response.text
        self.prospects[response.json()["id"]] = "v0"

    def update(self) -> None:
        if not self.prospects:
            return self.create()
        prospect_id = self.random.choice(sorted(self.prospects))
        name = f"v{self.random.randrange(10**6)}"
        response = self.http.patch(f"{PROSPECTS}/{prospect_id}", json={"company_name": name})
        assert response.status_code == 200, response.text
        self.prospects[prospect_id] = name

    def delete(self) -> None:
        if not self.prospects:
            return self.create()
        prospect_id = self.random.choice(sorted(self.prospects))
        assert self.http.delete(f"{PROSPECTS}/{prospect_id}").status_code == 200
        del self.prospects[prospect_id]

    def add_lead(self) -> None:
        if len(self.leads) >= 5:  # keeps the shared list on one page (16 x 5 < 100)
            return self.drop_lead()
        response = self.http.post(LEADS, json={"prospect_id": self.shared, "lead": "L"})
        assert response.status_code == 201, response.text
        self.leads.append(response.json()["id"])

    def drop_lead(self) -> None:
        if not self.leads:
            return self.add_lead()
        lead_id = self.leads.pop(self.random.randrange(len(self.leads)))
        assert self.http.delete(f"{LEADS}/{lead_id}").status_code == 200

    def reorder_shared(self) -> None:
        page = self.http.get(LEADS, params={"parent_id": self.shared, "limit": 100}).json()
        ids = [lead["id"] for lead in page["data"]]
        self.random.shuffle(ids)
        body = {"parent_id": self.shared, "ids": ids}
        response = self.http.post(f"{LEADS}/reorder", json=body)
        # Another client may add or drop a lead between the read and the reorder.
        assert response.status_code in (200, 409), response.text
        if response.status_code == 200:
            assert [lead["idx"] for lead in response.json()["data"]] == list(range(1, len(ids) + 1))
