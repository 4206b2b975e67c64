"""The ceiling: a plain Starlette app (no Connexion, no validation, no storage) answering the
bench's routes with prospect-mock's JSON shapes, served by uvicorn as the mock is: what one
Python server process can do on this machine. Its canned answers also make Connexion alone's
(bench/connexion_floor.py) and WireMock's stubs (bench/stubs.py).

    python -m uvicorn bench.ceiling:app --port 8100
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import api

PROSPECT: dict[str, Any] = {
    "id": "prospect_abc123def456ghi7",
    "created_at": "2024-01-15T09:30:00.123Z",
    "updated_at": "2024-01-15T09:30:00.123Z",
    "company_name": "Orbital Systems GmbH",
    "industry": "Manufacturing",
    "market_segment": "Mid-Market",
    "customer_group": "Commercial",
    "territory": "Australia",
    "no_of_employees": "11-50",
    "annual_revenue": 722000.0,
    "fax": None,
    "website": "https://www.orbitalsystemsgmbh.example",
    "prospect_owner": "aiko.tanaka@overplane.example",
    "company": "Overplane Inc.",
}
LEAD: dict[str, Any] = {
    "id": "prospect-lead_abc123def456ghi7",
    "idx": 1,
    "prospect_id": PROSPECT["id"],
    "lead": "CRM-LEAD-2023-93944",
    "lead_name": "Sofia Dubois",
    "status": "Open",
    "email": "sofia.dubois@orbitalsystemsgmbh.example",
    "mobile_no": "+27 21 555 8733",
    "lead_owner": "aiko.tanaka@overplane.example",
}
OPPORTUNITY: dict[str, Any] = {
    "id": "prospect-opportunity_abc123def456ghi7",
    "idx": 1,
    "prospect_id": PROSPECT["id"],
    "opportunity": "CRM-OPP-2023-98758",
    "amount": 13000.0,
    "stage": "Proposal/Price Quote",
    "probability": 85,
    "expected_closing": "2023-07-13",
    "currency": "EUR",
    "deal_owner": "aiko.tanaka@overplane.example",
    "contact_person": "Sofia Dubois",
}
PAGE = {
    "data": [{**PROSPECT, "id": f"prospect_{number:016d}"} for number in range(20)],
    "has_more": True,
    "total": 10_000,
}

Answer = Callable[[Any, Any], tuple[dict[str, Any], int]]
"""(the path's id, the request's JSON body) to (the answer's JSON body, its status)."""


def _reordered(order: dict[str, Any]) -> dict[str, Any]:
    items = enumerate(order["ids"], start=1)
    parent = order["parent_id"]
    data = [{**OPPORTUNITY, "id": id_, "idx": idx, "prospect_id": parent} for idx, id_ in items]
    return {"data": data, "has_more": False, "total": len(data)}


ANSWERS: dict[str, Answer] = {
    "prospects.list": lambda id_, body: (PAGE, 200),
    "prospects.create": lambda id_, body: ({**PROSPECT, **body}, 201),
    "prospects.get": lambda id_, body: ({**PROSPECT, "id": id_}, 200),
    "prospects.update": lambda id_, body: ({**PROSPECT, **body, "id": id_}, 200),
    "prospects.delete": lambda id_, body: ({"id": id_, "deleted": True}, 200),
    "prospect_leads.create": lambda id_, body: ({**LEAD, **body}, 201),
    "prospect_opportunities.reorder": lambda id_, body: (_reordered(body), 200),
}
"""By operation id: the operations the phases drive."""
ONE_PROSPECT = f"{api.PROSPECTS}/{{id}}"
ROUTES = [
    ("GET", api.PROSPECTS, "prospects.list"),
    ("POST", api.PROSPECTS, "prospects.create"),
    ("GET", ONE_PROSPECT, "prospects.get"),
    ("PATCH", ONE_PROSPECT, "prospects.update"),
    ("DELETE", ONE_PROSPECT, "prospects.delete"),
    ("POST", api.LEADS, "prospect_leads.create"),
    ("POST", api.OPPORTUNITY_REORDER, "prospect_opportunities.reorder"),
]


def _endpoint(answer: Answer, method: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    reads_body = method in ("POST", "PATCH")

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.json() if reads_body else None
        content, status = answer(request.path_params.get("id"), body)
        return JSONResponse(content, status_code=status)

    return endpoint


app = Starlette(
    routes=[
        Route(path, _endpoint(ANSWERS[operation], method), methods=[method])
        for method, path, operation in ROUTES
    ]
)
