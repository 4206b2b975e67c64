"""The ceiling: a plain Starlette app (no Connexion, no validation, no storage) that answers
the bench's routes with the same JSON shapes as prospect-mock, run by uvicorn with the mock's
settings. What one Python server process can do on this machine is the yardstick for the
mock's figures.

    python -m uvicorn bench.ceiling:app --port 8100
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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


async def list_prospects(request: Request) -> JSONResponse:
    return JSONResponse(PAGE)


async def create_prospect(request: Request) -> JSONResponse:
    return JSONResponse({**PROSPECT, **await request.json()}, status_code=201)


async def get_prospect(request: Request) -> JSONResponse:
    return JSONResponse({**PROSPECT, "id": request.path_params["id"]})


async def update_prospect(request: Request) -> JSONResponse:
    changes = await request.json()
    return JSONResponse({**PROSPECT, **changes, "id": request.path_params["id"]})


async def delete_prospect(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"], "deleted": True})


async def create_lead(request: Request) -> JSONResponse:
    return JSONResponse({**LEAD, **await request.json()}, status_code=201)


async def reorder_opportunities(request: Request) -> JSONResponse:
    order = await request.json()
    data = [
        {**OPPORTUNITY, "id": id_, "idx": idx, "prospect_id": order["parent_id"]}
        for idx, id_ in enumerate(order["ids"], start=1)
    ]
    return JSONResponse({"data": data, "has_more": False, "total": len(data)})


app = Starlette(
    routes=[
        Route("/api/crm/prospect", list_prospects, methods=["GET"]),
        Route("/api/crm/prospect", create_prospect, methods=["POST"]),
        Route("/api/crm/prospect/{id}", get_prospect, methods=["GET"]),
        Route("/api/crm/prospect/{id}", update_prospect, methods=["PATCH"]),
        Route("/api/crm/prospect/{id}", delete_prospect, methods=["DELETE"]),
        Route("/api/crm/prospect-lead", create_lead, methods=["POST"]),
        Route("/api/crm/prospect-opportunity/reorder", reorder_opportunities, methods=["POST"]),
    ]
)
