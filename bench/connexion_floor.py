"""Connexion alone: the project's ``openapi.yaml`` served by a plain Connexion AsyncApp whose
handlers return the ceiling's canned JSON. No storage, no CORS, no journal, nothing that
prospect-mock adds; any bearer key is accepted. It is what routing, authentication and
validation by Connexion cost by themselves, so the mock's figures can be read against it:
the mock cannot be faster than the framework it runs on.

    python -m uvicorn bench.connexion_floor:app --port 8101
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from connexion import AsyncApp
from connexion.resolver import Resolver
from connexion.security import BearerSecurityHandler

from .ceiling import LEAD, OPPORTUNITY, PAGE, PROSPECT
from .servers import SPEC

Answer = tuple[dict[str, Any], int]
JSON = {"Content-Type": "application/json"}
"""The contract also documents problem+json answers: Connexion must be told which one."""

ANSWERS: dict[str, Callable[[dict[str, Any]], Answer]] = {
    "prospects.list": lambda args: (PAGE, 200),
    "prospects.get": lambda args: ({**PROSPECT, "id": args["id"]}, 200),
    "prospects.create": lambda args: ({**PROSPECT, **args["body"]}, 201),
    "prospects.update": lambda args: ({**PROSPECT, **args["body"], "id": args["id"]}, 200),
    "prospects.delete": lambda args: ({"id": args["id"], "deleted": True}, 200),
    "prospect_leads.create": lambda args: ({**LEAD, **args["body"]}, 201),
    "prospect_opportunities.reorder": lambda args: (
        {
            "data": [
                {**OPPORTUNITY, "id": id_, "idx": idx, "prospect_id": args["body"]["parent_id"]}
                for idx, id_ in enumerate(args["body"]["ids"], start=1)
            ],
            "has_more": False,
            "total": len(args["body"]["ids"]),
        },
        200,
    ),
}
"""The operations the bench drives; the others answer an empty object."""


def handler_for(operation_id: str) -> Callable[..., Awaitable[Answer]]:
    answer = ANSWERS.get(operation_id, lambda args: ({}, 200))

    async def handler(**arguments: Any) -> tuple[dict[str, Any], int, dict[str, str]]:
        return (*answer(arguments), JSON)

    return handler


class AnyBearerKey(BearerSecurityHandler):
    def get_fn(self, security_scheme: Any, required_scopes: Any) -> Callable[..., Any]:
        return lambda request: {"sub": "bench"}


app = AsyncApp(__name__, security_map={"bearer": AnyBearerKey})
app.add_api(SPEC, resolver=Resolver(function_resolver=handler_for))
